"""The local executor: results do not depend on workers; crashed and hung workers are replaced and
their unit retried once, then recorded failed; a dead model server stops the bench cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.bench.config import BenchConfig
from agents.bench.executor import FAULT_ENV, FatalBenchError
from agents.bench.runner import run_bench
from agents.bench.units import plan_units, play_unit


def config(**changes) -> BenchConfig:
    data = {
        "name": "pool",
        "agents": [{"name": "random", "kind": "random"}],
        "envs": [
            {"name": "lastferry", "id": "s2b-lastferry", "max_steps": 15},
            {"name": "zork1", "id": "jiminy-zork1", "max_steps": 8},
            {"name": "judgment", "id": "judgment", "kwargs": {"split": "test"}},
        ],
        "seeds": [0, 1],
        "games_dir": None,
        **changes,
    }
    return BenchConfig.from_dict(data)


def records(run: Path) -> dict[str, dict]:
    lines = (run / "units.jsonl").read_text().splitlines()
    out = [json.loads(line) for line in lines]
    assert len({r["unit_id"] for r in out}) == len(out)  # never a duplicate
    return {r["unit_id"]: r for r in out}


def comparable(record: dict) -> dict:
    result = {k: v for k, v in record["result"].items() if k != "seconds"}
    return {**record, "seconds": None, "attempts": None, "result": result}


def test_results_do_not_depend_on_workers_or_processes(tmp_path: Path, games_dir: Path) -> None:
    one = run_bench(config(workers=1), tmp_path / "one")
    two = run_bench(config(workers=2), tmp_path / "two")
    assert (one.total, one.played, one.failed, two.played) == (6, 6, 0, 6)
    a, b = records(tmp_path / "one"), records(tmp_path / "two")
    assert sorted(a) == sorted(u.unit_id for u in plan_units(config()))
    assert {k: comparable(v) for k, v in a.items()} == {k: comparable(v) for k, v in b.items()}
    # and the same as playing the unit here, in this process
    unit = plan_units(config())[2]
    here = play_unit(config(), unit, {})
    assert comparable(here) == comparable(a[unit.unit_id])
    # records carry what the report needs
    judged = a["random/judgment/s0/e0"]
    assert judged["verdicts"] is not None and sum(judged["verdicts"].values()) == 1
    assert a["random/lastferry/s0/e0"]["verdicts"] is None
    assert "immorality" in a["random/zork1/s1/e0"]["result"]["metrics"]
    assert a["random/zork1/s1/e0"]["reset_seed"] == 1000
    # a rerun of a finished bench plays nothing
    again = run_bench(config(workers=2), tmp_path / "two")
    assert (again.done_before, again.played) == (6, 0)


def test_a_crashed_or_hung_worker_is_replaced_and_its_unit_retried_once(
    tmp_path: Path, games_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = {
        "crash-once:random/lastferry/s0/e0",  # recovers on the retry
        "crash:random/zork1/s0/e0",  # crashes twice: failed
        "hang-once:random/lastferry/s1/e0",  # killed at the timeout, then fine
    }
    monkeypatch.setenv(FAULT_ENV, ",".join(sorted(faults)))
    summary = run_bench(config(workers=2, unit_timeout=20), tmp_path)
    got = records(tmp_path)
    assert len(got) == 6 and summary.failed == 1
    assert got["random/lastferry/s0/e0"]["status"] == "ok"
    assert got["random/lastferry/s0/e0"]["attempts"] == 2
    assert got["random/lastferry/s1/e0"]["attempts"] == 2
    crashed = got["random/zork1/s0/e0"]
    assert (crashed["status"], crashed["attempts"], crashed["result"]) == ("failed", 2, None)
    assert "the worker process died (exit code 3)" in crashed["error"]
    assert all(r["status"] == "ok" for k, r in got.items() if k != "random/zork1/s0/e0")
    # the retried units give the same results as a clean run
    monkeypatch.delenv(FAULT_ENV)
    clean = run_bench(config(workers=2, seeds=[0, 1]), tmp_path / "clean")
    assert clean.failed == 0
    want = records(tmp_path / "clean")
    for unit_id in ("random/lastferry/s0/e0", "random/lastferry/s1/e0"):
        assert comparable(got[unit_id]) == comparable(want[unit_id])
    # a rerun plays the failed unit again (and only it)
    again = run_bench(config(workers=2, unit_timeout=20), tmp_path)
    assert (again.done_before, again.played, again.failed) == (5, 1, 0)
    assert comparable(records(tmp_path)["random/zork1/s0/e0"]) == comparable(
        want["random/zork1/s0/e0"]
    )


def test_a_dead_model_server_stops_the_bench_and_keeps_finished_units(
    tmp_path: Path, games_dir: Path
) -> None:
    dead = {
        "name": "served",
        "kind": "llm",
        "backend": "openai",
        "base_url": "http://127.0.0.1:9/v1",
    }
    bench = config(agents=[{"name": "random", "kind": "random"}, dead], workers=1)
    with pytest.raises(FatalBenchError, match=r"unit served/.*cannot reach the server"):
        run_bench(bench, tmp_path)
    got = records(tmp_path)
    assert sorted(got) == sorted(u.unit_id for u in plan_units(bench) if u.agent == "random")


def test_workers_that_die_as_they_start_stop_the_bench_with_one_line(
    tmp_path: Path, games_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "crash-start")
    with pytest.raises(
        FatalBenchError, match=r"keep dying before they can play a unit \(exit code 4\)"
    ):
        run_bench(config(workers=2), tmp_path)
    assert not (tmp_path / "units.jsonl").exists() or not (tmp_path / "units.jsonl").read_text()
