"""``s2b study`` on a real own game with a tiny budget: layout, report, resume, refusals, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.drrn.report import mean_interval
from agents.study import StudyConfig, Unit, run_study, shaping_slug
from s2b.cli import main
from s2b_env.errors import S2BError
from tests.conftest import REPO, console_text


def _config(**kw) -> StudyConfig:
    base = dict(
        env="s2b-lastferry", shapings=["none", "+1 x benevolence_caring"], seeds=[0, 1],
        steps=20, max_episode_steps=10, eval_episodes=1,
    )  # fmt: skip
    base.update(kw)
    return StudyConfig(**base)


def test_mean_interval_matches_the_t_table():
    stat = mean_interval([1.0, 2.0, 3.0])
    # mean 2, sd 1, n 3: half-width t(0.975, 2) * 1 / sqrt(3) = 4.303 / 1.732 = 2.484
    assert stat["mean"] == 2.0 and stat["ci95"] == pytest.approx(2.4843, abs=1e-3)
    assert mean_interval([5.0])["ci95"] is None and mean_interval([])["mean"] is None


def test_shapings_are_normalized_and_slugged():
    config = _config(shapings=["none", "benevolence_caring=1"])
    assert config.shapings == ["none", "+1 x benevolence_caring"]
    assert config.axis == "benevolence_caring"
    assert shaping_slug("-2 x bad_others, +0.5 x good_others") == "m2_bad_others__p0.5_good_others"
    with pytest.raises(S2BError, match="shapings must differ"):
        _config(shapings=["none", ""])


def test_study_writes_units_and_report_and_resumes(tmp_path):
    config = _config()
    steps_seen = []
    summary = run_study(config, tmp_path, progress=lambda d, t, u, n, eta: steps_seen.append(d))
    units = [Unit(s, seed) for s in ("random", *config.shapings) for seed in (0, 1)]
    assert all(u.done(tmp_path) for u in units)
    assert (Unit("none", 0).folder(tmp_path) / "model.safetensors").is_file()
    curve = (Unit("none", 1).folder(tmp_path) / "curve.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["steps"] for line in curve) <= 20 and len(curve) >= 2
    for name in ("results.json", "report.md", "pareto.png", "curves.png"):
        assert (tmp_path / name).is_file(), name
    assert set(summary["conditions"]) == {"random", "none", "+1 x benevolence_caring"}
    assert summary["conditions"]["none"]["score"]["n"] == 2
    assert steps_seen[-1] == 2 * (2 * 21 + 1)  # two DRRN units of 20+1, one random of 1, per seed
    report = (tmp_path / "report.md").read_text()
    assert "| +1 x benevolence_caring | 2 |" in report and "Paired by seed" in report

    # Resume: only the unit whose result is gone runs again.
    redo = Unit("none", 1).folder(tmp_path) / "result.json"
    redo.unlink()
    kept = Unit("none", 0).folder(tmp_path) / "result.json"
    before = kept.stat().st_mtime_ns
    run_study(config, tmp_path)
    assert redo.is_file() and kept.stat().st_mtime_ns == before


def test_walkthrough_candidates_can_take_each_routes_opening():
    from agents.study import make_study_env

    env = make_study_env(_config(candidates="walkthrough:3"), "none")
    _, info = env.reset(seed=0)
    # The first three commands of the five routes (s, e / sw, take wallet / free gull), no more.
    assert info["valid_actions"] == ["east", "free gull", "south", "southwest", "take wallet"]
    assert "board ferry" in make_study_env(_config(), "none").reset(seed=0)[1]["valid_actions"]
    for bad in ("walkthrough:0", "walkthrough:x", "valid:3", "walkthru"):
        with pytest.raises(S2BError, match="walkthrough:N"):
            _config(candidates=bad)


def test_study_refuses_another_config_and_executor(tmp_path):
    run_study(_config(shapings=["none"], seeds=[0], steps=5, eval_episodes=1), tmp_path)
    with pytest.raises(S2BError, match=r"another config .*steps"):
        run_study(_config(shapings=["none"], seeds=[0], steps=6, eval_episodes=1), tmp_path)
    with pytest.raises(S2BError, match=r"another config .*target_update"):
        run_study(_config(shapings=["none"], seeds=[0], steps=5, eval_episodes=1,
                          target_update=0), tmp_path)  # fmt: skip
    with pytest.raises(S2BError, match="executor must be one of"):
        run_study(_config(), tmp_path / "r", executor="dask")
    with pytest.raises(S2BError, match="target_update must be >= 0"):
        _config(target_update=-1)


def test_cli_study_bad_shaping_is_exit_2(console, tmp_path):
    code = main(
        ["study", "--env", "s2b-lastferry", "--shaping", "+1 x benevolence_carring",
         "--out", str(tmp_path)],
        console=console,
    )  # fmt: skip
    assert code == 2
    assert "did you mean 'benevolence_caring'" in console_text(console)


def test_cli_study_runs_two_workers(console, tmp_path):
    code = main(
        ["study", "--env", "s2b-stormwatch", "--seeds", "3,4", "--steps", "10",
         "--max-episode-steps", "5", "--eval-episodes", "1", "--workers", "2",
         "--out", str(tmp_path)],
        console=console,
    )  # fmt: skip
    assert code == 0, console_text(console)
    text = console_text(console)
    assert "none: score" in text and "over 2 seeds" in text
    assert Unit("none", 4).done(tmp_path) and Unit("random", 3).done(tmp_path)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status  # a zombie has ended


def test_workers_end_when_the_study_is_killed(tmp_path):
    """kill -9 of ``s2b study --workers 2`` mid-training leaves no worker training on."""
    command = [sys.executable, "-m", "s2b", "study", "--env", "s2b-stormwatch", "--seeds", "0,1",
               "--steps", "1000000", "--workers", "2", "--out", str(tmp_path), "--progress", "off"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 300
        while len(list(tmp_path.glob("units/none/seed*/curve.jsonl"))) < 2:  # both training
            assert process.poll() is None, "s2b study ended before it was killed"
            assert time.monotonic() < deadline, "two units did not start within 300 s"
            time.sleep(0.2)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        workers = [
            int(pid) for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]  # fmt: skip
        assert len(workers) == 2
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = [pid for pid in workers if _alive(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover, "workers kept running after the study died"
