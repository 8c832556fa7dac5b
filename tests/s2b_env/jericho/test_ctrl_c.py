"""Ctrl-C stops a game command that hangs, within about a second: issue 22, item 5.

Each case runs a real process (a Jericho env on the watchdog test room) and sends it a real
SIGINT while its main thread is inside Frotz, running ``spin lever`` (an endless Z-code loop).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import default_sigint
from tests.s2b_env.watchdog_room import build_watchdog_room

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from s2b_env.jericho.env import JerichoEnv
    timeout = None if sys.argv[2] == "none" else float(sys.argv[2])
    env = JerichoEnv(story_file=sys.argv[1], step_timeout=timeout)
    env.reset(seed=0)
    env.step("take box")
    print("ready", flush=True)
    try:
        env.step("spin lever")
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    try:
        print("after:", env.step("inventory")[0].split())
    except Exception as exc:
        print("after:", type(exc).__name__, exc)
    env.reset(seed=0)
    print("reset:", env.step("inventory")[0].split())
    """
)


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> Path:
    return build_watchdog_room(tmp_path_factory.mktemp("room"))


def _interrupt(room: Path, timeout: str) -> tuple[str, float]:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(room), timeout],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # inside "spin lever" by now
        start = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        return out, time.monotonic() - start
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_ctrl_c_stops_a_hung_command_without_a_time_limit(room: Path) -> None:
    """``--step-timeout 0``: the old code ignored Ctrl-C forever."""
    out, elapsed = _interrupt(room, "none")
    assert elapsed < 3, out
    assert "interrupted" in out
    # no snapshot without a time limit: the game is mid-command until the next reset
    assert "after: StepInterruptedError" in out and "call reset()" in out
    assert "reset: [" in out


def test_ctrl_c_stops_a_hung_command_before_the_watchdog_does(room: Path) -> None:
    """With the default 30 s watchdog the old code waited for it; now the game is restored."""
    out, elapsed = _interrupt(room, "30")
    assert elapsed < 3, out
    assert "interrupted" in out
    assert "after: [" in out and "wooden" in out  # restored to the state before the command
