"""Soft anchors (``--anchors soft``): shifted distributions, soft targets per prompt, the soft
cross-entropy (equal to the hard loss for one-hot targets, and to a hand-computed value), the
setting's checks, and the profile-shape report; all on constructed data (seconds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from s2b_env.errors import DataError
from training.align_config import build_config
from training.align_report import shape_markdown, shape_report
from training.targets import (
    ItemTarget,
    add_soft_targets,
    load_base_distributions,
    shift_distribution,
)

BASE = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0]


def test_a_shifted_distribution_moves_mass_and_piles_it_at_the_ends() -> None:
    assert shift_distribution(BASE, 0) == BASE
    assert shift_distribution(BASE, -2) == pytest.approx([0.6, 0.4, 0, 0, 0, 0])
    assert shift_distribution(BASE, 1) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0])
    assert shift_distribution(BASE, 3) == pytest.approx([0, 0, 0, 0.1, 0.2, 0.7])
    with pytest.raises(ValueError, match="expected 6 digit probabilities"):
        shift_distribution([0.5, 0.5], 1)


def test_soft_targets_per_phrasing_for_moved_unmoved_and_profile_values() -> None:
    other = [0.3, 0.1, 0.2, 0.2, 0.1, 0.1]
    base = {("pd.1", "a"): BASE, ("pd.1", "b"): other, ("hu.1", "a"): other, ("hu.1", "b"): BASE}
    targets = [
        ItemTarget("pd.1", "power_dominance", 3.0, 1, True),
        ItemTarget("hu.1", "humility", 3.0, 3, False),
    ]
    shifts = {"power_dominance": -2}
    soft = add_soft_targets(targets, base, ["a", "b"], shifts=shifts)
    assert soft[0].soft == {
        "a": pytest.approx([0.6, 0.4, 0, 0, 0, 0]),
        "b": pytest.approx([0.6, 0.2, 0.1, 0.1, 0, 0]),
    }
    assert soft[1].soft == {"a": other, "b": BASE}  # unmoved: the base distribution itself
    assert [t.target for t in soft] == [1, 3]  # the hard digits stay (the completion's)
    onehot = add_soft_targets(targets, base, ["a"], shifts=shifts, moved_target="onehot")
    assert onehot[0].soft == {"a": [1.0, 0, 0, 0, 0, 0]} and onehot[1].soft == {"a": other}
    # a value set by a target profile has no shift: one-hot on its digit
    by_profile = add_soft_targets(targets, base, ["a"], shifts={})
    assert by_profile[0].soft == {"a": [1.0, 0, 0, 0, 0, 0]}
    assert json.loads(json.dumps(soft[1].to_json()))["soft"] == {"a": other, "b": BASE}
    with pytest.raises(ValueError, match=r"expected a base distribution of 'pd\.1' under 'c'"):
        add_soft_targets(targets, base, ["c"], shifts=shifts)
    with pytest.raises(ValueError, match="moved_target"):
        add_soft_targets(targets, base, ["a"], moved_target="half")


def test_base_distributions_are_read_from_a_profile_results_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    lines = [
        {"meta": {"format": 1}},
        {"item": "pd.1", "phrasing": "a", "probs": [0.2, 0.2, 0.2, 0.2, 0.1, 0.1], "mass": 0.9},
        {"item": "pd.1", "phrasing": "b", "probs": [0.5, 0.5, 0, 0, 0, 0], "mass": 0.9},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = load_base_distributions(path)
    assert got == {("pd.1", "a"): lines[1]["probs"], ("pd.1", "b"): lines[2]["probs"]}
    path.write_text(path.read_text() + '{"item": "x", "phrasing": "a", "probs": [1, 2]}\n')
    with pytest.raises(DataError, match=r"results\.jsonl.*line 4.*probs"):
        load_base_distributions(path)
    with pytest.raises(DataError, match="no such file"):
        load_base_distributions(tmp_path / "none.jsonl")


def _batch():
    torch = pytest.importorskip("torch")
    from training.sft_loss import answer_positions

    gen = torch.Generator().manual_seed(0)
    digit_ids = [10, 11, 12, 13, 14, 15]
    labels = torch.full((3, 7), -100)
    # example 0: digit 3 then eos (id 2) at tokens 4, 5; example 1: digit 1, eos at 5, 6;
    # example 2: digit 6, eos at 3, 4
    labels[0, 4], labels[0, 5] = 12, 2
    labels[1, 5], labels[1, 6] = 10, 2
    labels[2, 3], labels[2, 4] = 15, 2
    positions = answer_positions(labels)
    logits = torch.randn(3, len(positions), 20, generator=gen, requires_grad=True)
    return torch, labels, positions, logits, digit_ids


def test_the_soft_loss_of_one_hot_targets_is_the_hard_loss_with_its_gradient() -> None:
    torch, labels, positions, logits, digit_ids = _batch()
    from training.sft_loss import answer_loss
    from training.soft_loss import soft_target_loss

    onehot = torch.zeros(3, 6)
    onehot[0, 2], onehot[1, 0], onehot[2, 5] = 1, 1, 1
    hard, _ = answer_loss(logits, labels, positions)
    (g_hard,) = torch.autograd.grad(hard, logits)
    soft = soft_target_loss(logits, labels, positions, onehot, digit_ids)
    (g_soft,) = torch.autograd.grad(soft, logits)
    assert float(soft.detach()) == pytest.approx(float(hard.detach()), abs=1e-6)
    assert torch.allclose(g_soft, g_hard, atol=1e-7)
    # num_items divides the summed loss like the hard loss does
    assert float(soft_target_loss(logits.detach(), labels, positions, onehot, digit_ids, 12)) == (
        pytest.approx(float(hard.detach()) * 6 / 12, abs=1e-6)
    )


def test_the_soft_loss_is_the_cross_entropy_to_the_target_distribution() -> None:
    torch, labels, positions, logits, digit_ids = _batch()
    from training.soft_loss import soft_target_loss

    q = torch.tensor([BASE, [1 / 6] * 6, [0, 0, 0, 0, 0.5, 0.5]])
    got = float(soft_target_loss(logits.detach(), labels, positions, q, digit_ids))
    # by hand: per example, -sum_d q_d log p(d) at the digit, -log p(eos) at the next token
    pos = positions.tolist()
    total = 0.0
    for b, (digit_t, eos_t) in enumerate([(3, 4), (4, 5), (2, 3)]):
        for t, weights in ((digit_t, dict(zip(digit_ids, q[b].tolist(), strict=True))),
                           (eos_t, {2: 1.0})):  # fmt: skip
            row = logits[b, pos.index(t)].detach().double().tolist()
            log_z = math.log(sum(math.exp(x) for x in row))
            total -= sum(w * (row[k] - log_z) for k, w in weights.items())
    assert got == pytest.approx(total / 6, abs=1e-5)
    bad = labels.clone()
    bad[0, 4] = 7  # the first answer token is not a digit
    with pytest.raises(ValueError, match="expected each example's first answer token"):
        soft_target_loss(logits, bad, positions, q, digit_ids)


def test_the_anchors_setting_is_checked_and_kept_in_the_config(tmp_path: Path) -> None:
    config = build_config(overrides={"values": ("power_dominance",), "anchors": "soft"})
    assert config.targets.anchors == "soft" and config.targets.moved_target == "shifted"
    assert build_config(overrides={"values": ("power_dominance",)}).targets.anchors == "hard"
    assert config.to_dict()["targets"]["anchors"] == "soft"
    with pytest.raises(ValueError, match="anchors: expected one of"):
        build_config(overrides={"values": ("power_dominance",), "anchors": "medium"})
    with pytest.raises(ValueError, match="moved_target: expected one of"):
        build_config(overrides={"values": ("power_dominance",), "moved_target": "x"})


def _profile(scores: dict[str, list[float]]) -> dict:
    return {
        "items": [
            {"id": f"{v}.{k}", "value": v, "score": s}
            for v, xs in scores.items()
            for k, s in enumerate(xs)
        ]
    }


def test_the_shape_report_measures_spread_and_correlation_of_the_unmoved_values() -> None:
    base = {"a": [3.0, 3.2], "b": [3.5, 3.7], "c": [2.9, 3.1], "pd": [3.3, 3.3]}
    shifted = {v: [x - 0.3 for x in xs] for v, xs in base.items()}
    flat = {v: [3.0, 3.0] for v in base}
    report = shape_report(_profile(base), _profile(shifted), _profile(flat), moved=["pd"],
                          bootstrap=300)  # fmt: skip
    assert report["values"] == ["a", "b", "c"]
    means = np.array([3.1, 3.6, 3.0])
    assert report["spread"]["baseline"]["mean"] == pytest.approx(float(means.std()), abs=1e-12)
    assert report["spread"]["aligned"]["mean"] == pytest.approx(float(means.std()), abs=1e-12)
    assert report["spread"]["placebo"]["mean"] == 0.0
    assert report["shape_r"]["aligned"]["mean"] == pytest.approx(1.0)
    assert math.isnan(report["shape_r"]["placebo"]["mean"])  # a flat profile has no shape
    low, high = report["spread"]["baseline"]["ci_low"], report["spread"]["baseline"]["ci_high"]
    assert low <= means.std() <= high
    text = shape_markdown(report)
    assert "the 3 values not moved" in text and "| placebo | 0.000 [0.000, 0.000]" in text
