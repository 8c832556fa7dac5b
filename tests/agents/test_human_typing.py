"""``s2b play`` forgives typing: issue 22, item 10 (line editing and history, the /quit hint, a
judgment asked again after a typo).

The last tests run the real ``s2b play`` in a pseudo-terminal, as a person would.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from agents.human import QUIT_HINT, HumanAgent
from tests.conftest import GAMES_DIR, REPO

JUDGMENT_INFO = {"kind": "judgment", "options": ["YTA", "NTA", "ESH", "NAH"]}


def _agent(lines: list[str]) -> tuple[HumanAgent, list[str]]:
    prompts: list[str] = []
    feed = iter(lines)

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(feed)

    return HumanAgent(read=read), prompts


def test_escape_sequences_never_reach_the_game() -> None:
    agent, _ = _agent(["open\x1b[D\x1b[D mailbox\x1b[C\x1bOA"])
    assert agent.act("", {}) == "open mailbox"


def test_quit_is_answered_with_how_to_leave() -> None:
    agent, prompts = _agent(["quit", "Q", "look"])
    assert agent.act("", {"kind": None}) == "look"
    assert prompts[1] == f"({QUIT_HINT})\n> " and "/quit" in prompts[1]
    agent, _ = _agent(["/quit"])
    from agents.base import AgentFinished

    with pytest.raises(AgentFinished, match="left"):
        agent.act("", {})
    agent, _ = _agent(["exit"])  # a move in many games: sent as it is
    assert agent.act("", {}) == "exit"


def test_a_judgment_typo_is_asked_again() -> None:
    agent, prompts = _agent(["NTAA", "[oops]", "not the asshole"])
    assert agent.act("", JUDGMENT_INFO) == "not the asshole"
    assert "'NTAA' is not a verdict" in prompts[1] and "(oops)" in prompts[2]
    agent, _ = _agent(["maybe"])  # a dilemma's wrong answer ends nothing: the env says why
    assert agent.act("", {"kind": "dilemma", "options": ["a", "b"]}) == "maybe"


def _play(argv: list[str], keys: list[bytes], timeout: float = 60) -> str:
    """Run ``s2b play`` in a pseudo-terminal; type each of ``keys`` at a prompt."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm", COLUMNS="100", LINES="40")
    process = subprocess.Popen(
        [sys.executable, "-m", "s2b", "play", *argv], cwd=REPO, env=env,
        stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    out = b""
    deadline = time.monotonic() + timeout
    pending = list(keys)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                tail = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out[-300:]).rstrip()
                if pending and tail.endswith(b">"):
                    time.sleep(0.2)
                    os.write(controller, pending.pop(0))
            elif process.poll() is not None:
                break
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(controller)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", errors="replace"))


def test_play_has_line_editing_history_and_the_quit_hint(games_dir) -> None:
    # "look", then arrow-up + Enter (history: look again), arrows before a word, "quit" (the
    # hint), then /quit. The old code sent the arrows to the game ("I don't know the word").
    out = _play(
        ["zork1", "--games-dir", str(GAMES_DIR)],
        [b"look\r", b"\x1b[A\r", b"\x1b[D\x1b[Cinventory\r", b"quit\r", b"/quit\r"],
    )
    assert "I don't know the word" not in out, out[-2000:]
    assert out.count("You are standing in an open field west of a white house") >= 3
    assert "You are empty-handed" in out
    assert QUIT_HINT in " ".join(out.split()) and "the player left" in out


def test_play_judgment_asks_again_after_a_typo() -> None:
    out = _play(["judgment", "--seed", "0"], [b"NTAA\r", b"NTA\r"])
    assert "'NTAA' is not a verdict" in out, out[-2000:]
    assert "Your verdict: NTA" in out
