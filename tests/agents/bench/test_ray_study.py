"""``s2b study --executor ray`` on a local Ray (2 CPUs): the same units and results as the local run."""

from __future__ import annotations

import json

import pytest

from agents.study import StudyConfig, Unit, run_study
from s2b.cli import main
from tests.conftest import console_text

pytest.importorskip("ray")

pytestmark = pytest.mark.slow


def _eval(folder) -> list[dict]:
    return json.loads((folder / "result.json").read_text())["eval"]


def test_ray_study_matches_the_local_one_and_resumes(console, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "ray"
    config = StudyConfig(
        env="s2b-stormwatch", shapings=["none"], seeds=[3, 4], steps=10,
        max_episode_steps=5, eval_episodes=2,
    )  # fmt: skip
    run_study(config, local)
    code = main(
        ["study", "--env", "s2b-stormwatch", "--seeds", "3,4", "--steps", "10",
         "--max-episode-steps", "5", "--eval-episodes", "2", "--executor", "ray",
         "--workers", "2", "--out", str(remote)],
        console=console,
    )  # fmt: skip
    assert code == 0, console_text(console)
    assert "none: score" in console_text(console) and "over 2 seeds" in console_text(console)
    units = [Unit(s, seed) for s in ("random", "none") for seed in (3, 4)]
    for unit in units:
        # Training and evaluation are seeded per unit: where a unit ran does not change them.
        assert _eval(unit.folder(remote)) == _eval(unit.folder(local)), unit
    curve = (Unit("none", 4).folder(remote) / "curve.jsonl").read_text()
    assert curve == (Unit("none", 4).folder(local) / "curve.jsonl").read_text()

    # Resume on Ray: only the unit whose result is gone runs again.
    redo = Unit("none", 3).folder(remote) / "result.json"
    redo.unlink()
    kept = Unit("random", 4).folder(remote) / "result.json"
    before = kept.stat().st_mtime_ns
    run_study(config, remote, executor="ray", workers=2)
    assert redo.is_file() and kept.stat().st_mtime_ns == before
