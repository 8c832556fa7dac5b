"""``HumanAgent``: a person at the terminal types the actions.

Typing is forgiving (issue 22, item 10):

* line editing with history: Python's ``readline`` is loaded, so the arrow keys move the cursor
  and recall earlier lines instead of reaching the game as ``^[[D``; where ``readline`` is missing
  (or input is not a terminal), escape sequences that still arrive are removed from the line;
* ``quit`` and ``q`` are answered with how to leave (``/quit`` or Ctrl-D) instead of
  reaching the game, which would refuse them without saying so;
* an answer the episode cannot take is asked again instead of ending it: a judgment ends at its
  first answer, so a typo there (not a verdict) is caught before it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agents.base import AgentFinished

#: Words people type to leave a game, which the game envs refuse (meta-commands) without saying
#: how to leave; ``exit`` and ``leave`` are left alone: many games take them as moves.
QUIT_WORDS = frozenset({"quit", "q"})
QUIT_HINT = "to leave, type /quit (or press Ctrl-D); 'quit' is not sent to the game"
# CSI sequences (arrows: ESC [ D; keypad: ESC O D; with modifiers: ESC [ 1 ; 5 D) and lone escapes.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|O.|.)?")


def enable_line_editing() -> bool:
    """Load ``readline`` so that :func:`input` edits lines and keeps a history; whether it did."""
    try:
        import readline  # noqa: F401  (importing it is what turns line editing on)
    except ImportError:  # pragma: no cover - Windows, or a Python built without it
        return False
    return True


def answer_problem(line: str, info: dict[str, Any]) -> str | None:
    """Why ``line`` cannot be sent as the answer to the episode's current state, or ``None``.

    Only answers that would end the episode for nothing are caught: a judgment that is not a
    verdict (the judgment env ends at its first answer).
    """
    if info.get("kind") == "judgment" and info.get("options"):
        from s2b_env.scenarios.verdicts import parse_verdict

        if parse_verdict(line) is None:
            shown = line.strip()[:40].replace("[", "(").replace("]", ")")  # safe in markup
            return (
                f"{shown!r} is not a verdict: answer YTA, NTA, ESH or NAH "
                "(or 1-4, or words such as 'not the asshole')"
            )
    return None


class HumanAgent:
    """Asks a person for each action.

    Args:
        read: Function that shows a prompt and returns the typed line (default: :func:`input`,
            with line editing and history).
            End-of-file (Ctrl-D) or ``/quit`` ends the episode.
        prompt: The prompt shown before each action.
        check: Says why a line cannot be sent (then it is asked again, with the reason in the
            prompt), or ``None``; default :func:`answer_problem`.
    """

    def __init__(
        self,
        read: Callable[[str], str] | None = None,
        prompt: str = "> ",
        check: Callable[[str, dict[str, Any]], str | None] | None = answer_problem,
    ) -> None:
        enable_line_editing()
        self._read = read or input
        self.prompt = prompt
        self.check = check

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Nothing to forget."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The line the person types (asked again while it cannot be sent).

        Raises:
            AgentFinished: End of input, or the person typed ``/quit``.
        """
        prompt = self.prompt
        while True:
            try:
                line = _ESCAPES.sub("", self._read(prompt))
            except EOFError:
                raise AgentFinished("end of input") from None
            said = line.strip().lower()
            if said in {"/quit", "/exit"}:
                raise AgentFinished("the player left")
            problem = QUIT_HINT if said.split()[:1] and said.split()[0] in QUIT_WORDS else None
            if problem is None and self.check is not None:
                problem = self.check(line, info)
            if problem is None:
                return line
            prompt = f"({problem})\n{self.prompt}"
