"""``s2b score`` on a real random-agent run of jiminy-zork1 with the real default model: one record
per step, the trajectory untouched, kill -9 and resume without duplicates, clear refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.judge.score_run import read_scores
from s2b.cli import main
from s2b_env.trajectory import read_trajectory
from s2b_env.values import VALUE_IDS
from tests.conftest import console_text

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


def _run(run_dir: Path, games_dir: Path, console, *, steps: int) -> None:
    code = main(
        ["run", "--env", "jiminy-zork1", "--agent", "random", "--episodes", "2",
         "--max-steps", str(steps), "--out", str(run_dir), "--progress", "off",
         "--games-dir", str(games_dir)],
        console,
    )  # fmt: skip
    assert code == 0


def _steps(run_dir: Path) -> set[tuple[int, int]]:
    trajectory = read_trajectory(run_dir / "trajectory.jsonl")
    return {(e.episode_id, s["step"]) for e in trajectory.episodes for s in e.steps
            if s["action"] is not None}  # fmt: skip


def _complete_lines(path: Path) -> list[str]:
    text = path.read_text()
    lines = text.splitlines()
    return lines if text.endswith("\n") else lines[:-1]


@pytest.mark.timeout(1800)  # 100 steps x 22 questions in process: over 600 s on a loaded machine
def test_score_a_random_run_resumes_after_kill_9(tmp_path, games_dir, console) -> None:
    run_dir, cache = tmp_path / "run", tmp_path / "cache.jsonl"
    _run(run_dir, games_dir, console, steps=50)
    steps = _steps(run_dir)
    assert len(steps) == 100
    trajectory = (run_dir / "trajectory.jsonl").read_bytes()
    out = run_dir / "value_scores.jsonl"
    command = [sys.executable, "-m", "s2b", "score", str(run_dir), "--cache", str(cache),
               "--batch", "2", "--progress", "plain"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 400
        while not (out.exists() and len(_complete_lines(out)) >= 7):  # header + 6 records
            assert process.poll() is None, "s2b score ended before it was killed"
            assert time.monotonic() < deadline, "no scores within 400 s"
            time.sleep(0.2)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    with out.open("a") as handle:  # as if killed mid-line
        handle.write('{"type": "score", "episode_id": 0, "st')
    before = _complete_lines(out)
    assert main(["score", str(run_dir), "--cache", str(cache), "--progress", "off"], console) == 0
    header, records = read_scores(out)
    keys = [(r["episode_id"], r["step"]) for r in records]
    assert len(keys) == len(set(keys)) == 100 and set(keys) == steps
    assert out.read_text().splitlines()[: len(before)] == before  # scores written are kept
    assert (run_dir / "trajectory.jsonl").read_bytes() == trajectory  # never rewritten
    assert header["judge"] == "smollm2-135m-instruct" and header["prompt_version"] == "judge-v1"
    assert header["run_id"] == read_trajectory(run_dir / "trajectory.jsonl").header["run_id"]
    actions = {
        (e.episode_id, s["step"]): s["action"]
        for e in read_trajectory(run_dir / "trajectory.jsonl").episodes
        for s in e.steps
    }
    for record in records:
        assert record["action"] == actions[(record["episode_id"], record["step"])]
        assert list(record["values"]) == list(VALUE_IDS)
        assert all(-3 <= v <= 3 for v in record["values"].values())
        assert 0 <= record["harm_others"] <= 1 and 0 <= record["harm_self"] <= 1
    # again: nothing left to do, nothing written
    size = out.stat().st_size
    assert main(["score", str(run_dir), "--cache", str(cache), "--progress", "off"], console) == 0
    assert out.stat().st_size == size
    assert "100/100 steps scored (0 now, 100 before" in console_text(console)


def test_score_refuses_another_judges_file_and_bad_trajectories(tmp_path, games_dir, console):
    run_dir = tmp_path / "run"
    _run(run_dir, games_dir, console, steps=2)
    out = run_dir / "value_scores.jsonl"
    out.write_text(json.dumps({"type": "header", "format": "s2b-value-scores", "version": "1.0",
                               "run_id": read_trajectory(run_dir / "trajectory.jsonl")
                               .header["run_id"], "judge": "another-judge",
                               "prompt_version": "judge-v1"}) + "\n")  # fmt: skip
    before = out.read_text()
    assert main(["score", str(run_dir), "--no-cache", "--progress", "off"], console) == 2
    text = console_text(console)
    assert "value_scores.jsonl, line 1, field 'judge'" in text and "another-judge" in text
    assert out.read_text() == before
    # a trajectory of another major format version
    other = tmp_path / "v2"
    other.mkdir()
    lines = (run_dir / "trajectory.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["version"] = "2.0"
    (other / "trajectory.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert main(["score", str(other), "--no-cache", "--progress", "off"], console) == 2
    assert "trajectory format 1.x, the file is version 2.0" in console_text(console)
    assert not (other / "value_scores.jsonl").exists()
    # no trajectory at all
    assert main(["score", str(tmp_path / "nothing"), "--progress", "off"], console) == 2
    assert "no such trajectory file" in console_text(console)


def test_score_help_documents_the_output_format(console, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["score", "--help"], console)
    text = capsys.readouterr().out
    for needle in ("value_scores.jsonl", '"format": "s2b-value-scores"', '"harm_others"',
                   "label_mass", "exactly one record", "-3..+3"):  # fmt: skip
        assert needle in text.replace("\n", " ").replace("  ", " ") or needle in text
