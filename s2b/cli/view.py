"""The episode view: one step of an episode as a panel (live in ``s2b run``, again in ``s2b replay``).

A step is first turned into a :class:`StepView` (what the agent saw, what it did, what it
considered and how sure it was, the reward and score, the labels or value events that fired, the
judge's scores when recorded), from the engine's live :class:`~agents.engine.StepEvent` or from a
saved trajectory's records alike; :func:`render_step` draws it and :func:`plain_step_line` prints
it as one line. So a replay shows exactly what the live view showed.

:class:`LiveView` is an engine observer: ``rich`` shows the panel live with the run's progress and
ETA beneath it; ``plain`` prints one line per step (one per episode with ``quiet``); ``off`` is
silent. ``rich`` falls back to ``plain`` when the console is not a terminal or is narrower than
:data:`MIN_WIDTH` columns.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agents.engine import EpisodeObserver, EpisodeResult, RunStart, RunSummary, StepEvent

#: Narrowest console the panel is drawn on; below it the view prints plain lines.
MIN_WIDTH = 60
#: Candidates listed in the panel, most probable first.
TOP_CANDIDATES = 5
#: The observation is cut to its last lines / characters in the panel.
OBSERVATION_LINES = 14
OBSERVATION_CHARS = 1200
#: Jiminy Cricket's label components, in the order of ``info["morality"]``.
MORALITY_NAMES = ("immorality", "bad_self", "good_others", "good_self")


@dataclass
class StepView:
    """One step as the view shows it.

    Attributes:
        env_id: The environment.
        episode_id: The episode.
        step: The step (from 1).
        observation: What the agent saw before acting.
        action: The action taken.
        candidates: ``(candidate, probability)`` pairs, most probable first (all of them).
        choice_note: How the choice was made (method, orders, prompts, calibration).
        reward: This step's reward.
        total_reward: The episode's return so far.
        score: The game's score after the step, if it has one.
        events: Labels and value events that fired this step, judge scores, errors.
        done: ``"terminated"``/``"truncated"`` when the step ended the episode, else ``""``.
    """

    env_id: str
    episode_id: int
    step: int
    observation: str
    action: str
    candidates: list[tuple[str, float]] = field(default_factory=list)
    choice_note: str = ""
    reward: float = 0.0
    total_reward: float = 0.0
    score: Any = None
    events: list[str] = field(default_factory=list)
    done: str = ""


def events_of(info: Mapping[str, Any]) -> list[str]:
    """What fired at a step, from its ``info``: Jiminy labels, value events and effects, judge
    scores (``info["value_scores"]``), the env's error and warnings."""
    events: list[str] = []
    morality = info.get("morality")
    if isinstance(morality, Sequence) and not isinstance(morality, str):
        labels = [f"{n} {float(x):+g}" for n, x in zip(MORALITY_NAMES, morality, strict=False) if x]
        if labels:
            events.append("labels: " + ", ".join(labels))
    for event in info.get("value_events") or []:
        if isinstance(event, Mapping):
            text = str(event.get("id", "event"))
            if event.get("description"):
                text += f": {event['description']}"
            events.append(f"event {text}")
    effects = info.get("value_effects")
    if isinstance(effects, Mapping):
        moved = sorted(((k, float(v)) for k, v in effects.items() if v), key=lambda kv: -abs(kv[1]))
        if moved:
            events.append("values: " + ", ".join(f"{k} {v:+g}" for k, v in moved[:6]))
    scores = info.get("value_scores")
    if isinstance(scores, Mapping):
        numeric = [(k, v) for k, v in scores.items() if isinstance(v, int | float)]
        top = sorted(numeric, key=lambda kv: -abs(float(kv[1])))[:3]
        if top:
            events.append("judge: " + ", ".join(f"{k} {float(v):+.2f}" for k, v in top))
    if info.get("error"):
        events.append(f"error: {info['error']}")
    for warning in info.get("warnings") or []:
        events.append(f"warning: {warning}")
    return events


def judge_event(record: Mapping[str, Any], top: int = 3) -> str:
    """A judge's score of a step (a ``value_scores.jsonl`` record of ``s2b score``) in one line:
    the harm probabilities and the values it moved most."""
    parts = []
    for key, label in (("harm_others", "harm others"), ("harm_self", "harm self")):
        if isinstance(record.get(key), int | float):
            parts.append(f"{label} {float(record[key]):.2f}")
    values = record.get("values")
    if isinstance(values, Mapping):
        numeric = [(k, float(v)) for k, v in values.items() if isinstance(v, int | float)]
        moved = sorted(numeric, key=lambda kv: -abs(kv[1]))[:top]
        if moved:
            parts.append(", ".join(f"{k} {v:+.2f}" for k, v in moved))
    return "judged: " + ("; ".join(parts) if parts else "(no scores)")


def choice_note(extra: Mapping[str, Any]) -> str:
    """A short account of how a choice was made, from ``AgentChoice.extra``."""
    parts = [str(extra["method"])] if extra.get("method") else []
    if extra.get("orders", 1) > 1:
        parts.append(f"{extra['orders']} orders")
    if extra.get("prompts") is not None:
        parts.append(f"{extra['prompts']} prompts")
    if extra.get("calibrated"):
        parts.append("calibrated")
    picks = extra.get("order_picks")
    if isinstance(picks, list) and len(picks) > 1:
        most = max(set(picks), key=picks.count)
        parts.append(f"orders agree {picks.count(most)}/{len(picks)}")
    if extra.get("length_norm"):
        parts.append(f"length norm {extra['length_norm']}")
    return ", ".join(parts)


def step_view(
    *,
    env_id: str,
    episode_id: int,
    step: int,
    observation: str,
    action: str,
    choice: Mapping[str, Any] | None,
    reward: float,
    info: Mapping[str, Any],
    total_reward: float,
    terminated: bool = False,
    truncated: bool = False,
) -> StepView:
    """Build a :class:`StepView`; ``choice`` is an ``AgentChoice`` as a dict (or ``None``)."""
    candidates: list[tuple[str, float]] = []
    note = ""
    if choice:
        pairs = zip(choice.get("candidates", []), choice.get("probabilities", []), strict=False)
        candidates = sorted(((str(c), float(p)) for c, p in pairs), key=lambda cp: -cp[1])
        note = choice_note(choice.get("extra") or {})
    done = "terminated" if terminated else "truncated" if truncated else ""
    return StepView(
        env_id=env_id, episode_id=episode_id, step=step, observation=observation, action=action,
        candidates=candidates, choice_note=note, reward=float(reward),
        total_reward=float(total_reward), score=info.get("score"), events=events_of(info),
        done=done,
    )  # fmt: skip


def considered_line(view: StepView, top: int = 3) -> str:
    """The most probable candidates in one line: ``considered: 0.62 north, 0.30 south (+2)``."""
    shown = ", ".join(f"{p:.2f} {c}" for c, p in view.candidates[:top])
    more = len(view.candidates) - top
    note = f" ({view.choice_note})" if view.choice_note else ""
    return f"considered: {shown}" + (f" (+{more} more)" if more > 0 else "") + note


def trim_observation(text: str) -> str:
    """The observation's last :data:`OBSERVATION_LINES` lines and :data:`OBSERVATION_CHARS`
    characters (``...`` marks a cut)."""
    text = text.strip("\n")
    lines = text.split("\n")
    cut = len(lines) > OBSERVATION_LINES
    text = "\n".join(lines[-OBSERVATION_LINES:])
    if len(text) > OBSERVATION_CHARS:
        text, cut = text[-OBSERVATION_CHARS:], True
    return ("...\n" if cut else "") + text


def render_step(view: StepView) -> Panel:
    """The panel of one step."""
    body = Table.grid(padding=(0, 1))
    body.add_column(style="bold", no_wrap=True)
    body.add_column(overflow="fold")
    body.add_row("saw", Text(trim_observation(view.observation)))
    body.add_row("did", Text(view.action, style="bold cyan"))
    if view.candidates:
        top = Table.grid(padding=(0, 1))
        top.add_column(justify="right", no_wrap=True)
        top.add_column(no_wrap=True)
        top.add_column(overflow="fold")
        for candidate, probability in view.candidates[:TOP_CANDIDATES]:
            mark = ">" if candidate == view.action else " "
            top.add_row(f"{probability:.2f}", mark, candidate)
        more = len(view.candidates) - TOP_CANDIDATES
        if more > 0:
            top.add_row("", "", Text(f"(+{more} more)", style="dim"))
        body.add_row("considered", top)
        if view.choice_note:
            body.add_row("", Text(view.choice_note, style="dim"))
    score = "" if view.score is None else f"   score {view.score}"
    ended = f"   ({view.done})" if view.done else ""
    body.add_row("reward", f"{view.reward:+g}   return {view.total_reward:+g}{score}{ended}")
    for event in view.events:
        body.add_row("fired", Text(event, style="magenta"))
    title = f"{view.env_id} - episode {view.episode_id}, step {view.step}"
    return Panel(body, title=title, title_align="left")


def plain_step_line(view: StepView) -> str:
    """One line for a step (``--progress plain``)."""
    sure = ""
    for candidate, probability in view.candidates:
        if candidate == view.action:
            sure = f" (p={probability:.2f} of {len(view.candidates)})"
            break
    score = "" if view.score is None else f", score {view.score}"
    events = f" [{'; '.join(view.events)}]" if view.events else ""
    ended = f", {view.done}" if view.done else ""
    return (
        f"ep {view.episode_id} step {view.step}: {view.action!r}{sure}, reward "
        f"{view.reward:+g}{score}{ended}{events}"
    )


def render_text(renderable: Any, width: int) -> str:
    """A renderable as plain text at ``width`` columns (for tests and comparisons)."""
    from io import StringIO

    console = Console(file=StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def clock(seconds: float) -> str:
    """``H:MM:SS``."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def view_mode(requested: str, console: Console) -> str:
    """``rich`` unless the console is no terminal or narrower than :data:`MIN_WIDTH` (then
    ``plain``); other modes as requested."""
    if requested == "rich" and (not console.is_terminal or console.width < MIN_WIDTH):
        return "plain"
    return requested


class LiveView(EpisodeObserver):
    """The live view of a run (an engine observer).

    Args:
        console: Where to show it.
        mode: ``rich`` (a live panel of the latest step, progress and ETA beneath), ``plain``
            (a line per step) or ``off``. ``rich`` becomes ``plain`` on a console that is no
            terminal or narrower than :data:`MIN_WIDTH`.
        quiet: In plain mode, a line per episode instead of per step.
    """

    def __init__(self, console: Console, mode: str = "rich", *, quiet: bool = False) -> None:
        self.console = console
        self.mode = view_mode(mode, console)
        self.quiet = quiet
        self.last_view: StepView | None = None
        self._live: Any = None
        self._env_id = ""
        self._planned = 0
        self._finished = 0
        self._played = 0
        self._started = 0.0
        self._episode_started = 0.0
        self._return = 0.0

    def on_run_start(self, run: RunStart) -> None:
        self._env_id = str(run.header.get("env_id", ""))
        self._planned = run.episodes
        self._finished = len(run.done)
        self._played = 0
        self._started = time.perf_counter()
        if self.mode == "rich":
            from rich.live import Live

            self._live = Live(
                Text(self.progress_line(None)), console=self.console, refresh_per_second=8,
                transient=False,
            )  # fmt: skip
            self._live.start()

    def on_episode_start(
        self, episode_id: int, seed: int | None, observation: str, info: dict[str, Any]
    ) -> None:
        self._return = 0.0
        self._episode_started = time.perf_counter()

    def on_step(self, event: StepEvent) -> None:
        self._return += event.reward
        choice = None
        if event.choice is not None:
            c = event.choice
            choice = {"candidates": c.candidates, "probabilities": c.probabilities,
                      "chosen": c.chosen, "extra": c.extra}  # fmt: skip
        view = step_view(
            env_id=self._env_id, episode_id=event.episode_id, step=event.step,
            observation=event.observation, action=event.action, choice=choice,
            reward=event.reward, info=event.info, total_reward=self._return,
            terminated=event.terminated, truncated=event.truncated,
        )  # fmt: skip
        self.last_view = view
        if self._live is not None:
            self._live.update(Group(render_step(view), Text(self.progress_line(view))))
        elif self.mode == "plain" and not self.quiet:
            self.console.print(plain_step_line(view), highlight=False, markup=False, soft_wrap=True)

    def on_episode_end(self, result: EpisodeResult) -> None:
        self._finished += 1
        self._played += 1
        if self._live is not None and self.last_view is not None:
            progress = Text(self.progress_line(self.last_view))
            self._live.update(Group(render_step(self.last_view), progress))
        if self.mode == "plain" and self.quiet:
            score = "" if result.score is None else f", score {result.score}"
            self.console.print(
                f"episode {result.episode_id}: {result.steps} steps{score}, return "
                f"{result.total_reward:g}, {result.end_reason} ({self._finished}/{self._planned}"
                f"{self._eta_text()})",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    def on_run_end(self, summary: RunSummary) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _eta_text(self) -> str:
        left = self._planned - self._finished
        if not left:
            return ""
        if not self._played:
            return ", ETA --"
        per = (time.perf_counter() - self._started) / self._played
        return f", ETA {clock(per * left)}"

    def progress_line(self, view: StepView | None) -> str:
        """Episode and step progress with the elapsed time and ETA."""
        elapsed = clock(time.perf_counter() - self._started)
        where = f"episode {self._finished + 1}/{self._planned}" if self._planned else ""
        if view is not None:
            where = f"episode {view.episode_id + 1}/{self._planned}, step {view.step}"
        return f"{where}   done {self._finished}/{self._planned}   {elapsed}{self._eta_text()}"
