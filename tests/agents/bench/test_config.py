"""Bench configs: YAML errors name the file, the line and the field; unit planning and seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.bench.config import BenchConfig, BenchConfigError, load_bench_config
from agents.bench.units import UnitSpec, plan_units, reset_seed

GOOD = """\
name: t
agents:
  - {name: random, kind: random}
  - name: base
    kind: llm
    options: {orders: 1}
envs:
  - {name: lastferry, id: s2b-lastferry, max_steps: 5}
  - {name: dilemma, id: dilemma, kwargs: {split: test}}
seeds: [0, 1]
episodes: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, overrides: dict | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(BenchConfigError) as info:
        load_bench_config(path, overrides)
    return str(info.value)


def test_a_good_config_loads_and_plans_every_unit_once(tmp_path: Path) -> None:
    config = load_bench_config(write(tmp_path, GOOD))
    assert config.baseline == "random"  # the first agent when none is named
    units = plan_units(config)
    assert len(units) == 2 * 2 * 2 * 2
    assert len({u.unit_id for u in units}) == len(units)
    assert UnitSpec.from_id("base/dilemma/s1/e0") == UnitSpec("base", "dilemma", 1, 0)
    # the reset seed depends on (seed, episode) only: every agent faces the same starts
    assert reset_seed(UnitSpec("random", "dilemma", 1, 1)) == 1001
    assert reset_seed(UnitSpec("base", "dilemma", 1, 1)) == 1001


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: llm", "kind: lmm", "bench.yaml:5: agents[1].kind: unknown agent kind 'lmm'; did you mean 'llm'?"),
        ("id: dilemma", "id: dilema", "bench.yaml:9: envs[1].id: no s2b environment called 'dilema'"),
        ("episodes: 2", "episodes: 2\nworkres: 2", "bench.yaml:12: workres: unknown field; did you mean 'workers'?"),
        ("{orders: 1}", "{order: 1}", "bench.yaml:6: agents[1].options.order: unknown LLM agent option; did you mean 'orders'?"),
        ("max_steps: 5", "max_steps: 0", "bench.yaml:8: envs[0].max_steps: expected an integer >= 1, got 0"),
        ("{split: test}", "{splt: test}", "bench.yaml:9: envs[1].kwargs.splt: s2b/dilemma-v0 takes no keyword 'splt'"),
        ("kind: llm", "kind: llm\n    adapter: no/such/adapter", "bench.yaml:6: agents[1].adapter: 'no/such/adapter' is neither"),
        ("seeds: [0, 1]", "seeds: [0, 0]", "bench.yaml:10: seeds: seeds must differ"),
        ("name: t", "name: t\nbaseline: bse", "bench.yaml:2: baseline: no agent called 'bse'; did you mean 'base'?"),
        ("{name: random, kind: random}", "{name: base, kind: random}", "bench.yaml:4: agents[1].name: the name 'base' is used twice"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named_with_file_and_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    message = error_of(tmp_path, GOOD.replace(old, new, 1))
    assert expected in message
    assert message.startswith(str(tmp_path))


def test_an_override_from_the_command_line_is_named_as_such(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD, {"workers": 0})
    assert "(overridden on the command line): workers: expected an integer >= 1, got 0" in message


def test_not_yaml_and_not_a_mapping_are_clear(tmp_path: Path) -> None:
    assert "bench.yaml:3: not valid YAML" in error_of(tmp_path, "agents: [\n  {name: x\n")
    assert "expected a mapping of bench fields" in error_of(tmp_path, "- 1\n- 2\n")
    assert "agents: this field is required" in error_of(tmp_path, "envs: []\n")


def test_the_hash_ignores_where_a_bench_runs_but_not_what_it_computes(tmp_path: Path) -> None:
    config = load_bench_config(write(tmp_path, GOOD))
    data = config.to_dict()
    moved = BenchConfig.from_dict({**data, "workers": 7, "executor": "ray", "games_dir": "/x"})
    assert moved.config_hash() == config.config_hash()
    more = BenchConfig.from_dict({**data, "episodes": 3})
    assert more.config_hash() != config.config_hash()
    assert BenchConfig.from_dict(data) == config  # round trip through plain data


def test_a_config_built_in_python_takes_specs_as_mappings_and_seeds_as_a_range() -> None:
    config = BenchConfig(
        agents=[{"name": "r", "kind": "random"}],
        envs=[{"name": "d", "id": "dilemma"}],
        seeds=range(3),
    )
    assert config.seeds == [0, 1, 2] and config.agent("r").kind == "random"
    with pytest.raises(BenchConfigError, match=r"^envs\[0\]\.max_steps: expected an integer >= 1"):
        BenchConfig(
            agents=[{"name": "r", "kind": "random"}],
            envs=[{"name": "d", "id": "x", "max_steps": -1}],
        )
