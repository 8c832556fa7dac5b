"""The placebo adapter (``s2b align --placebo``): its targets are the model's own answers (nothing
moved), its report keeps the real run's direction, and a real run's aligned − placebo equals the
difference of the two stored profiles; a placebo of other settings is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training.align_config import build_config, save_config
from training.evaluate import evaluate_shift, versus_placebo
from training.placebo import PLACEBO_PROFILE, load_placebo, placebo_shifts
from training.profile import ItemResult, compute_profile, write_profile
from training.sft_data import training_items
from training.survey_io import load_survey
from training.targets import build_targets, round_rating, shifts_for

VALUES = ("power_dominance", "humility", "universalism_concern")


def _results(shift: dict[str, float], seed: int) -> list[ItemResult]:
    """One result per held-out item of VALUES: a distribution over two digits whose expected
    rating is 3.3 + the value's shift + a per-item wobble."""
    rng = np.random.default_rng(seed)
    out = []
    for item in load_survey().select("heldout", VALUES):
        e = 3.3 + shift.get(item.value, 0.0) + float(rng.normal(0, 0.05))
        low = int(e)
        probs = [0.0] * 6
        probs[low - 1], probs[low] = low + 1 - e, e - low
        out.append(ItemResult(item.id, item.value, item.split, "portrait", tuple(probs), 0.9))
    return out


def _profile(results: list[ItemResult]) -> dict:
    return compute_profile(results, meta={"items": "heldout"}, value_order=VALUES, bootstrap=200)


def test_a_placebo_moves_no_target_and_reports_in_the_real_direction() -> None:
    survey = load_survey()
    shifts = shifts_for(["power_dominance"], "down", 2)
    zero, directions = placebo_shifts(shifts)
    assert zero == {"power_dominance": 0} and directions == {"power_dominance": -1}
    items = training_items(survey, VALUES, 8)
    baseline = {i.id: 3.3 + 0.1 * (k % 4) for k, i in enumerate(items)}  # own answers 3 and 4
    targets = build_targets(items, baseline, shifts=zero)
    assert all(t.target == round_rating(baseline[t.item_id]) for t in targets)
    assert {t.value for t in targets if t.moved} == {"power_dominance"}
    real = build_targets(items, baseline, shifts=shifts)
    assert [t.target for t in real if t.moved] != [t.target for t in targets if t.moved]
    # the evaluation of an unmoved "target" keeps the real run's sign and finds no shift
    base = _profile(_results({}, 0))
    same = _profile(_results({}, 0))
    result = evaluate_shift(base, same, base, same, targets=targets, bootstrap=200,
                            directions=directions)  # fmt: skip
    assert result["direction"] == "down" and result["intended_shift"] == 0
    assert result["target"]["mean"] == 0 and result["average_check"]["verdict"] == "no-shift"


def test_aligned_minus_placebo_is_the_difference_of_the_stored_profiles(tmp_path: Path) -> None:
    placebo_results = _results({v: -0.3 for v in VALUES}, 1)  # a generic shift of fine-tuning
    aligned_results = _results({"power_dominance": -1.4, "humility": -0.3, "universalism_concern": -0.35}, 2)  # fmt: skip
    write_profile(_profile(placebo_results), placebo_results, tmp_path / "p")
    write_profile(_profile(aligned_results), aligned_results, tmp_path / "a")
    placebo = json.loads((tmp_path / "p" / "profile.json").read_text())
    aligned = json.loads((tmp_path / "a" / "profile.json").read_text())
    report = versus_placebo(placebo, aligned, {"power_dominance": -1}, bootstrap=500)
    scores_p = {i["id"]: i["score"] for i in placebo["items"]}
    scores_a = {i["id"]: i["score"] for i in aligned["items"]}
    for row in report["values"]:
        ids = [i["id"] for i in aligned["items"] if i["value"] == row["value"]]
        expected = float(np.mean([scores_a[i] - scores_p[i] for i in ids]))
        assert row["diff"] == pytest.approx(expected, abs=1e-9)
        assert row["n_items"] == len(ids) == 6
        assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    pd_ids = [i["id"] for i in aligned["items"] if i["value"] == "power_dominance"]
    # moved down: the target keeps its sign
    expected = float(np.mean([scores_a[i] - scores_p[i] for i in pd_ids]))
    assert report["target"]["mean"] == pytest.approx(expected, abs=1e-9)
    assert report["target"]["ci_high"] < -0.8
    others = [r["diff"] for r in report["values"] if r["value"] != "power_dominance"]
    assert report["collateral"]["mean_abs"] == pytest.approx(np.mean(np.abs(others)), abs=1e-9)


def test_a_placebo_run_of_other_settings_is_refused(tmp_path: Path) -> None:
    real = build_config(overrides={"values": ("power_dominance",), "placebo_run": tmp_path / "p"})
    with pytest.raises(ValueError, match="expected a finished s2b align --placebo run"):
        load_placebo(real, tmp_path / "p")
    results = _results({}, 0)
    write_profile(_profile(results), results, tmp_path / "p" / PLACEBO_PROFILE.parent)
    save_config(
        build_config(overrides={"values": ("power_dominance",)}), tmp_path / "p" / "config.yaml"
    )
    with pytest.raises(ValueError, match="expected a run made with --placebo"):
        load_placebo(real, tmp_path / "p")
    other = build_config(overrides={"values": ("power_dominance",), "placebo": True, "epochs": 3.0})
    save_config(other, tmp_path / "p" / "config.yaml")
    with pytest.raises(ValueError, match=r"differences in train\.epochs"):
        load_placebo(real, tmp_path / "p")
    good = build_config(overrides={"values": ("power_dominance",), "placebo": True})
    save_config(good, tmp_path / "p" / "config.yaml")
    assert len(load_placebo(real, tmp_path / "p")["items"]) == 18
    with pytest.raises(ValueError, match="placebo: expected --value"):
        build_config(overrides={"target_profile": tmp_path / "t.json", "placebo": True})
