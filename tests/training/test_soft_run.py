"""Soft anchors end to end on the real default model (the smoke preset, CI-sized): a soft placebo
run, then a soft run given it with ``--placebo-run``. Checked against the runs' own stored files,
read here independently of the code under test: every unmoved target is the base model's digit
distribution from the baseline profile's ``results.jsonl``, a moved one is that distribution
shifted, the placebo moves no target, the training data carries the targets, and the report's
aligned − placebo is the difference of the two stored held-out profiles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from s2b.cli import main
from tests.conftest import console_text

pytest.importorskip("trl", reason="needs s2b[train]")

pytestmark = pytest.mark.slow

TARGET = "power_dominance"
EVAL = ("power_dominance", "humility", "tradition")
ARGS = ["align", "--preset", "smoke", "--value", TARGET, "--direction", "down", "--delta", "2",
        "--anchors", "soft", "--eval-values", *EVAL, "--progress", "plain"]  # fmt: skip


@pytest.fixture(scope="module")
def soft_runs(tmp_path_factory, default_model_dir) -> tuple[Path, Path]:
    from io import StringIO

    from rich.console import Console

    folder = tmp_path_factory.mktemp("soft")
    placebo, real = folder / "placebo", folder / "real"
    for argv in (
        [*ARGS, "--placebo", "--run-dir", str(placebo)],
        [*ARGS, "--placebo-run", str(placebo), "--run-dir", str(real)],
    ):
        console = Console(file=StringIO(), width=100, color_system=None)
        assert main(argv, console=console) == 0, console_text(console)
    text = console_text(console)  # the real run's: aligned - placebo and the spreads printed
    assert "aligned - placebo: target" in text and "spread of the unmoved values' means: " in text
    assert "placebo 0." in text
    return placebo, real


def _base(run: Path) -> dict[tuple[str, str], list[float]]:
    """The baseline's digit distributions per (item, phrasing), straight from the file."""
    lines = (run / "profiles" / "baseline-train" / "results.jsonl").read_text().splitlines()
    out = {}
    for line in lines[1:]:
        r = json.loads(line)
        out[(r["item"], r["phrasing"])] = np.array(r["probs"]) / sum(r["probs"])
    return out


def _shifted(p: np.ndarray, shift: int) -> np.ndarray:
    out = np.zeros(6)
    for i, x in enumerate(p):
        out[min(5, max(0, i + shift))] += x
    return out


def test_soft_targets_are_the_base_distribution_or_its_shift(soft_runs) -> None:
    _, real = soft_runs
    base = _base(real)
    targets = json.loads((real / "targets.json").read_text())
    plan = json.loads((real / "plan.json").read_text())
    assert {t["value"] for t in targets} == {TARGET, *plan["anchors"]}
    for t in targets:
        assert set(t["soft"]) == set(plan["phrasings"]) == {"portrait"}
        for phrasing, soft in t["soft"].items():
            own = base[(t["item_id"], phrasing)]
            want = _shifted(own, -2) if t["value"] == TARGET else own
            assert t["moved"] == (t["value"] == TARGET)
            np.testing.assert_allclose(soft, want, atol=1e-7)
    moved = [t for t in targets if t["moved"]]
    assert moved and all(t["soft"]["portrait"][4:] == [0.0, 0.0] for t in moved)
    # the training data carries each example's soft target
    rows = [json.loads(x) for x in (real / "data" / "train.jsonl").read_text().splitlines()]
    by_id = {t["item_id"]: t for t in targets}
    assert len(rows) == len(targets)
    for row in rows:
        assert row["soft_target"] == by_id[row["item_id"]]["soft"][row["phrasing"]]
        assert row["completion"] == str(by_id[row["item_id"]]["target"])


def test_a_soft_placebo_moves_no_target(soft_runs) -> None:
    placebo, _ = soft_runs
    base = _base(placebo)
    targets = json.loads((placebo / "targets.json").read_text())
    assert any(t["value"] == TARGET for t in targets)
    for t in targets:
        np.testing.assert_allclose(t["soft"]["portrait"], base[(t["item_id"], "portrait")],
                                   atol=1e-7)  # fmt: skip
        assert t["target"] == int(np.floor(t["baseline"] + 0.5))
    results = json.loads((placebo / "results.json").read_text())
    assert results["intended_shift"] == 0 and results["direction"] == "down"


def test_aligned_minus_placebo_is_the_difference_of_the_stored_profiles(soft_runs) -> None:
    placebo, real = soft_runs
    results = json.loads((real / "results.json").read_text())
    heldout = Path("profiles") / "aligned-heldout" / "profile.json"
    scores = [
        {i["id"]: (i["value"], i["score"]) for i in json.loads((r / heldout).read_text())["items"]}
        for r in (placebo, real)
    ]
    report = results["vs_placebo"]
    assert sorted(r["value"] for r in report["values"]) == sorted(EVAL)
    for row in report["values"]:
        diffs = [s - scores[0][i][1] for i, (v, s) in scores[1].items() if v == row["value"]]
        assert row["n_items"] == len(diffs) == 6
        assert row["diff"] == pytest.approx(float(np.mean(diffs)), abs=1e-9)
    target = [s - scores[0][i][1] for i, (v, s) in scores[1].items() if v == TARGET]
    assert report["target"]["mean"] == pytest.approx(float(np.mean(target)), abs=1e-9)
    # the shape report covers the unmoved values of all three profiles; the summary shows it
    assert sorted(results["shape"]["values"]) == ["humility", "tradition"]
    assert set(results["shape"]["spread"]) == {"baseline", "aligned", "placebo"}
    summary = (real / "summary.md").read_text()
    assert "## Aligned - placebo" in summary and "## Profile shape" in summary
    assert "soft targets, moved: shifted" in summary
    assert (real / "shift.png").stat().st_size > 10_000
