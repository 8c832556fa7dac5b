"""JudgeObserver in the real episode engine: per-episode judged totals beside the env's labels."""

from __future__ import annotations

import itertools
import json

import pytest

from agents.engine import run_episodes
from agents.judge import JudgeInput, ValueJudge
from agents.judge.observer import JudgeObserver
from agents.random_agent import RandomAgent
from s2b_env.registration import make
from s2b_env.values import VALUE_IDS

pytest.importorskip("transformers", reason="needs s2b[llm]")


def test_judged_totals_are_the_sums_of_the_steps_scores(tf_backend, games_dir, tmp_path) -> None:
    judge = ValueJudge(tf_backend)
    observer = JudgeObserver(judge, batch=2)
    env = make("jiminy-zork1", games_dir=games_dir)
    try:
        summary = run_episodes(env, RandomAgent(seed=0), episodes=1, seed=0, max_steps=3,
                               out_dir=tmp_path / "run", observers=[observer])  # fmt: skip
    finally:
        env.close()
    metrics = summary.episodes[0].metrics
    assert "immorality" in metrics  # the env's own labels stay beside the judged totals
    steps = [json.loads(line) for line in (tmp_path / "run" / "trajectory.jsonl").open()]
    steps = [s for s in steps if s.get("type") == "step"]
    items = [JudgeInput(a["observation"], b["action"], b["observation"])
             for a, b in itertools.pairwise(steps)]  # fmt: skip
    assert len(items) == 3
    hits = judge.cache.hits
    scores = judge.score_many(items)
    assert judge.cache.hits == hits + 3  # the observer's scores, cached
    for vid in VALUE_IDS:
        total = sum(s.values[vid] for s in scores)
        assert metrics["judged_value_totals"][vid] == pytest.approx(total, abs=1e-9)
    assert metrics["judged_harm_others"] == pytest.approx(sum(s.harm_others for s in scores))
    assert metrics["judge"] == "smollm2-135m-instruct"
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["episodes"][0]["metrics"]["judged_value_totals"] == metrics["judged_value_totals"]
    assert observer.totals[0]["judged_harm_self"] == metrics["judged_harm_self"]
