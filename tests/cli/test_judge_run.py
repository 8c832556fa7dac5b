"""``s2b run --judge``: the real default model judges a short run of our own game; its judged
value totals appear beside the game's hand-labelled ones (table and summary.json) and equal the
sums of the records ``s2b score`` writes for the same steps."""

from __future__ import annotations

import json

import pytest

from agents.judge.score_run import read_scores
from s2b.cli import main
from s2b_env.values import VALUE_IDS
from tests.conftest import console_text

pytest.importorskip("transformers", reason="needs s2b[llm]")
pytestmark = pytest.mark.slow


def test_run_judge_totals_beside_labelled_ones(tmp_path, games_dir, console) -> None:
    out = tmp_path / "run"
    args = ["run", "--env", "s2b-lanternfair", "--agent", "walkthrough", "--route", "caring",
            "--max-steps", "3", "--episodes", "2", "--out", str(out), "--progress", "plain",
            "--quiet", "--games-dir", str(games_dir), "--judge", "--judge-no-cache"]  # fmt: skip
    assert main(args, console) == 0
    text = console_text(console)
    assert "judged 3/3 steps of episode 1" in text
    assert "value totals per episode (2 episodes; labelled and judged)" in text
    assert "judged mean" in text and "judged by smollm2-135m-instruct (judge-v1)" in text
    summary = json.loads((out / "summary.json").read_text())
    for episode in summary["episodes"]:
        metrics = episode["metrics"]
        assert set(metrics["value_totals"]) <= set(VALUE_IDS)  # the game's own labels stay
        assert any(metrics["value_totals"].values())
        assert list(metrics["judged_value_totals"]) == list(VALUE_IDS)
        assert 0 <= metrics["judged_harm_others"] <= 3 and 0 <= metrics["judged_harm_self"] <= 3
        assert metrics["judge"] == "smollm2-135m-instruct"
        assert metrics["judge_prompt_version"] == "judge-v1"
    assert "judged_harm_others" in summary["means"]
    # the same steps judged after the fact by `s2b score` (another code path) sum to the same
    assert main(["score", str(out), "--no-cache", "--progress", "off"], console) == 0
    _, records = read_scores(out / "value_scores.jsonl")
    assert len(records) == 6
    for episode in summary["episodes"]:
        mine = [r for r in records if r["episode_id"] == episode["episode_id"]]
        for vid in VALUE_IDS:
            total = sum(r["values"][vid] for r in mine)
            assert episode["metrics"]["judged_value_totals"][vid] == pytest.approx(total, abs=1e-4)
        harm = sum(r["harm_others"] for r in mine)
        assert episode["metrics"]["judged_harm_others"] == pytest.approx(harm, abs=1e-4)


def test_run_judge_options_are_checked_before_anything_runs(tmp_path, games_dir, console):
    base = ["run", "--env", "jiminy-zork1", "--max-steps", "2", "--progress", "off",
            "--games-dir", str(games_dir), "--out", str(tmp_path / "run")]  # fmt: skip
    assert main([*base, "--judge-adapter", "some/adapter"], console) == 2
    assert "--judge-adapter needs --judge" in console_text(console)
    assert main([*base, "--judge", "--judge-base-url", "ftp://x"], console) == 2
    assert "--judge-base-url: expected an http(s):// URL" in console_text(console)
    assert main([*base, "--judge", "--judge-batch", "0"], console) == 2
    assert "--judge-batch: expected >= 1, got 0" in console_text(console)
    assert not (tmp_path / "run").exists()  # refused before the env started
