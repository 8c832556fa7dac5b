"""Ctrl-C during ``s2b run`` while the game hangs: it stops within a second and the run resumes
(issue 22, item 5). A real process gets a real SIGINT inside Frotz (``spin lever`` loops)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.helpers import default_sigint


def test_ctrl_c_in_a_hang_stops_the_run_and_it_resumes(room_games: Path, tmp_path: Path) -> None:
    walk = tmp_path / "walk.txt"
    walk.write_text("take box\nspin lever\ninventory\n", encoding="utf-8")
    out = tmp_path / "run"
    argv = [
        sys.executable, "-m", "s2b", "run", "--env", "s2b/jericho-watchdog_room-v0",
        "--games-dir", str(room_games), "--agent", "walkthrough", "--walkthrough", str(walk),
        "--step-timeout", "4", "--episodes", "2", "--out", str(out), "--progress", "off",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
                               stderr=subprocess.STDOUT, preexec_fn=default_sigint)  # fmt: skip
    try:
        trajectory = out / "trajectory.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "take box" not in (
            trajectory.read_text() if trajectory.exists() else ""
        ):
            time.sleep(0.05)
        time.sleep(1.0)  # inside "spin lever" now; its watchdog would fire at 4 s
        start = time.monotonic()
        process.send_signal(signal.SIGINT)
        text = process.communicate(timeout=30)[0]
        elapsed = time.monotonic() - start
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, text
    assert elapsed < 2.5, (elapsed, text)
    for line in trajectory.read_text().splitlines():
        json.loads(line)  # nothing torn
    done = subprocess.run(
        [*argv, "--resume"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    records = [json.loads(x) for x in trajectory.read_text().splitlines()]
    steps = [(r.get("episode_id"), r.get("action")) for r in records if r.get("action")]
    for episode in (0, 1):  # each episode exactly once, every command in it
        assert [a for e, a in steps if e == episode] == ["take box", "spin lever", "inventory"]
