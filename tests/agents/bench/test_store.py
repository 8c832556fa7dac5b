"""The run folder: one line per unit, torn tails cut, another config refused, a full disk survived."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from agents.bench.config import BenchConfig
from agents.bench.runner import run_bench
from agents.bench.store import BenchStore, BenchStoreError
from agents.bench.units import UnitSpec, failed_record


def config(**changes) -> BenchConfig:
    data = {
        "name": "store",
        "agents": [{"name": "random", "kind": "random"}],
        "envs": [{"name": "lastferry", "id": "s2b-lastferry", "max_steps": 4}],
        "seeds": [0, 1, 2],
        **changes,
    }
    return BenchConfig.from_dict(data)


def record(unit_id: str, status: str = "ok") -> dict:
    return {"type": "unit", "unit_id": unit_id, "status": status, "result": {"steps": 1}}


def test_records_are_appended_once_and_a_torn_tail_is_cut(tmp_path: Path) -> None:
    store = BenchStore(tmp_path)
    assert store.open(config()) == set()
    assert store.append(record("random/lastferry/s0/e0"))
    assert not store.append(record("random/lastferry/s0/e0"))  # never a duplicate
    with store.units_path.open("ab") as handle:
        handle.write(b'{"type": "unit", "unit_id": "random/lastf')  # a kill mid-write
    again = BenchStore(tmp_path)
    assert again.open(config()) == {"random/lastferry/s0/e0"}
    assert store.units_path.read_bytes().endswith(b"}\n")
    assert len(store.units_path.read_text().splitlines()) == 1


def test_failed_units_are_dropped_on_resume_so_they_are_played_again(tmp_path: Path) -> None:
    store = BenchStore(tmp_path)
    store.open(config())
    store.append(record("random/lastferry/s0/e0"))
    spec = UnitSpec("random", "lastferry", 1, 0)
    store.append(failed_record(config(), spec, "boom", 2))
    assert [r["status"] for r in store.records()] == ["ok", "failed"]
    assert BenchStore(tmp_path).open(config()) == {"random/lastferry/s0/e0"}
    assert [r["unit_id"] for r in store.records()] == ["random/lastferry/s0/e0"]


def test_another_config_is_refused_naming_the_first_changed_field(tmp_path: Path) -> None:
    BenchStore(tmp_path).open(config())
    with pytest.raises(BenchStoreError, match=r"first change: envs\[0\]\.max_steps"):
        BenchStore(tmp_path).open(
            config(envs=[{"name": "lastferry", "id": "s2b-lastferry", "max_steps": 5}])
        )
    with pytest.raises(BenchStoreError, match=r"first change: seeds\[3\]"):
        BenchStore(tmp_path).open(config(seeds=[0, 1, 2, 3]))
    # where and how fast it runs may change
    assert BenchStore(tmp_path).open(config(workers=3)) == set()
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert bench["format"] == "s2b-bench/1" and bench["config_hash"] == config().config_hash()


def test_a_full_disk_is_one_clear_error_and_a_rerun_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake: a real disk cannot be filled on demand here; the write path below it is real.
    calls = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("agents.bench.store.os.fsync", fsync)
    with pytest.raises(
        BenchStoreError, match="the disk is full; the units finished so far are kept"
    ):
        run_bench(config(), tmp_path)
    lines = (tmp_path / "units.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["status"] == "ok"  # intact, whole lines
    monkeypatch.setattr("agents.bench.store.os.fsync", real_fsync)
    summary = run_bench(config(), tmp_path)
    assert (summary.done_before, summary.played, summary.failed) == (1, 2, 0)
    ids = [json.loads(x)["unit_id"] for x in (tmp_path / "units.jsonl").read_text().splitlines()]
    assert sorted(ids) == [f"random/lastferry/s{s}/e0" for s in (0, 1, 2)]
