"""A unit with the value judge: the judged totals of the episode's steps are in its record."""

from __future__ import annotations

import pytest

from agents.bench.config import BenchConfig
from agents.bench.units import UnitSpec, close_cache, play_unit
from s2b_env.values import VALUE_IDS


@pytest.mark.slow
def test_a_judged_unit_records_the_judges_value_totals(default_model_dir) -> None:
    config = BenchConfig.from_dict({
        "agents": [{"name": "random", "kind": "random"}],
        "envs": [{"name": "dilemma", "id": "dilemma", "kwargs": {"split": "test"}, "max_steps": 2}],
        "judge": {"model": str(default_model_dir), "batch": 2},
    })  # fmt: skip
    cache: dict = {}
    try:
        record = play_unit(config, UnitSpec("random", "dilemma", 0, 0), cache)
        again = play_unit(config, UnitSpec("random", "dilemma", 0, 0), cache)  # cached judge
    finally:
        close_cache(cache)
    metrics = record["result"]["metrics"]
    assert set(record["judged"]) == set(VALUE_IDS)
    assert record["judged"] == metrics["judged_value_totals"]
    assert any(v != 0 for v in record["judged"].values())  # the steps were really judged
    assert metrics["judged_harm_others"] >= 0 and metrics["value_totals"]  # beside the labels
    assert again["judged"] == record["judged"]
