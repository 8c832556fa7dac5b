"""``MoralScenarioEnv``: everyday judgments and multi-step dilemmas as a Gymnasium environment.

Registered as ``s2b/judgment-v0`` and ``s2b/dilemma-v0``::

    env = gym.make("s2b/judgment-v0", split="test")
    obs, info = env.reset(seed=0)                    # or options={"item_id": "j012"}
    obs, reward, terminated, truncated, info = env.step("NTA")

**Judgment** episodes are one step: the observation is an account and the question, the action a
verdict in free text (see :func:`s2b_env.scenarios.data.parse_verdict`). The reward is the share of the
item's reference distribution on the chosen verdict (0 when the item has none, or when the answer is
not a verdict; then ``info["error"]`` says why). The episode ends either way.

Actions longer than :data:`MAX_ACTION_CHARS` (the action space's limit) are read up to that length,
with a warning in ``info["warnings"]``.

**Dilemma** episodes walk a story of decision points: the observation is the story so far and the
numbered options, the action an option number or the option's words. Each choice adds its effect
vector to a running value total. An answer that names no option leaves everything as it was, sets
``info["error"]`` and does not end the episode. The reward is ``value_weights`` dotted with the
chosen option's effects (0 with no weights).

``info`` has the same keys at every step, reset included (:data:`INFO_KEYS`):

* ``kind``, ``item_id``, ``split``, ``title``: the episode's item.
* ``node``: the current dilemma node id (``None`` once ended, and for judgments).
* ``options``: what the current observation offers: option labels, or the four verdict codes;
  empty once the episode ended.
* ``choice``: the 1-based number chosen this step, ``None`` at reset or on an invalid action.
* ``chosen``: the chosen option label or verdict code, else ``None``.
* ``verdict``: the judgment's verdict this step, else ``None``.
* ``value_effects``: this step's value effects, ``{value_id: float}`` for the 20 values (a
  :class:`~s2b_env.values.ValueVector` as a dict, as own games give it; all 0.0 when nothing was
  chosen).
  For a judgment, the verdict's endorsement: ``NTA`` gives +1 to values on the narrator's side and
  -1 to the other side's, ``YTA`` the reverse, ``ESH`` and ``NAH`` 0.
* ``value_totals``: the running sum of ``value_effects`` this episode, ``{value_id: float}``.
* ``values_in_tension``: the judgment's ``[{"value", "side"}]`` (empty for dilemmas).
* ``reference``: the judgment's reference verdict distribution, or ``None``.
* ``error``: why the action was not accepted, else ``None``.
* ``step``: the number of steps taken this episode.
* ``warnings``: what was changed to fit the spaces this step (an action over
  :data:`MAX_ACTION_CHARS` read in part, an observation cut to :data:`MAX_OBSERVATION_CHARS`);
  empty almost always.

``reset`` accepts one option, ``item_id``; any other is a ``ValueError`` (a misspelt option is
never ignored).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium import spaces

from s2b_env.scenarios.data import (
    KINDS,
    SPLITS,
    VERDICT_MEANINGS,
    VERDICTS,
    Dilemma,
    JudgmentItem,
    default_paths,
    load_scenarios,
    parse_verdict,
)
from s2b_env.values import ValueVector, value_id_problem

#: Characters of every observation: printable ASCII (space and punctuation included) and newline.
CHARSET: str = "".join(sorted(set(string.printable) - set("\t\r\x0b\x0c")))
MAX_OBSERVATION_CHARS = 20_000
MAX_ACTION_CHARS = 4_000
INFO_KEYS: tuple[str, ...] = (
    "kind", "item_id", "split", "title", "node", "options", "choice", "chosen", "verdict",
    "value_effects", "value_totals", "values_in_tension", "reference", "error", "step", "warnings",
)  # fmt: skip
RESET_OPTIONS: tuple[str, ...] = ("item_id",)
_ASCII_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--",
    "\u2026": "...", "\u00a0": " ", "\t": " ", "\r": "",
})  # fmt: skip
_CHARSET_SET = frozenset(CHARSET)


def to_charset(text: str) -> str:
    """Make ``text`` fit :data:`CHARSET`: typographic quotes and dashes become ASCII, accents are
    dropped, anything else becomes ``?``."""
    text = text.translate(_ASCII_MAP)
    if all(ch in _CHARSET_SET for ch in text):
        return text
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch in _CHARSET_SET:
            out.append(ch)
        elif not unicodedata.combining(ch):
            out.append("?")
    return "".join(out)


@dataclass
class ScenarioEnvConfig:
    """Settings of a :class:`MoralScenarioEnv`."""

    kind: str = field(default="judgment", metadata={"help": "'judgment' or 'dilemma'"})
    split: str = field(
        default="all", metadata={"help": "which items to sample: train, validation, test or all"}
    )
    scenarios_path: str | Path | tuple[str | Path, ...] | None = field(
        default=None,
        metadata={"help": "scenario JSONL file(s) to read instead of the shipped ones"},
    )
    value_weights: Mapping[str, float] | None = field(
        default=None,
        metadata={"help": "dilemma reward weights by value id (missing ids weigh 0)"},
    )

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.split not in (*SPLITS, "all"):
            raise ValueError(
                f"split: expected one of {', '.join(SPLITS)} or 'all', got {self.split!r}"
            )
        if self.scenarios_path is not None and not isinstance(
            self.scenarios_path, str | Path | tuple | list
        ):
            raise TypeError(
                "scenarios_path: expected a path or a sequence of paths, "
                f"got {type(self.scenarios_path).__name__}"
            )
        if self.value_weights is not None:
            if not isinstance(self.value_weights, Mapping):
                raise TypeError(
                    "value_weights: expected a dict of value id -> number, "
                    f"got {type(self.value_weights).__name__}"
                )
            for key, weight in self.value_weights.items():
                problem = value_id_problem(key)
                if problem:
                    raise ValueError(f"value_weights: {problem}")
                if not isinstance(weight, int | float) or isinstance(weight, bool):
                    raise TypeError(f"value_weights[{key!r}]: expected a number, got {weight!r}")

    def paths(self) -> list[Path]:
        """The scenario files to read."""
        if self.scenarios_path is None:
            return default_paths(self.kind)
        if isinstance(self.scenarios_path, str | Path):
            return [Path(self.scenarios_path)]
        return [Path(p) for p in self.scenarios_path]


class MoralScenarioEnv(gym.Env[str, str]):
    """Judgment and dilemma episodes over scenario files (see the module docstring).

    Args:
        kind: ``"judgment"`` or ``"dilemma"``.
        split: ``"train"``, ``"validation"``, ``"test"`` or ``"all"``: the items reset samples from.
        scenarios_path: Scenario file(s) to read instead of the ones shipped in ``games/scenarios``.
        value_weights: Dilemma reward weights by value id.
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the current observation).

    Raises:
        ValueError: A bad setting, or no item of ``kind`` in ``split``.
        DataError: A scenario file has a bad line.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        kind: str = "judgment",
        split: str = "all",
        scenarios_path: str | Path | Sequence[str | Path] | None = None,
        value_weights: Mapping[str, float] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(scenarios_path, list):
            scenarios_path = tuple(scenarios_path)
        self.config = ScenarioEnvConfig(kind, split, scenarios_path, value_weights)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode: expected None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        records = load_scenarios(self.config.paths(), kind=kind)
        self._by_id: dict[str, JudgmentItem | Dilemma] = {r.id: r for r in records}
        self.items = [r for r in records if split == "all" or r.split == split]
        if not self.items:
            raise ValueError(
                f"no {kind} items in split {split!r} of {', '.join(map(str, self.config.paths()))}"
            )
        self._weights = ValueVector(self.config.value_weights or {})
        self.observation_space = spaces.Text(
            max_length=MAX_OBSERVATION_CHARS, min_length=1, charset=CHARSET
        )
        self.action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=1, charset=CHARSET)
        self._item: JudgmentItem | Dilemma | None = None
        self._node: str | None = None
        self._done = True
        self._total = ValueVector.zeros()
        self._steps = 0
        self._observation = ""
        self._warnings: list[str] = []

    # --- gymnasium API ---------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode on a sampled item, or on ``options["item_id"]`` (any split)."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:  # checked before anything changes, as the game envs do
            raise ValueError(
                f"unknown reset option(s) {unknown}; MoralScenarioEnv accepts {list(RESET_OPTIONS)}"
            )
        super().reset(seed=seed)
        self._warnings = []
        item_id = options.get("item_id")
        if item_id is not None:
            if item_id not in self._by_id:
                known = ", ".join(sorted(self._by_id)[:6])
                raise ValueError(
                    f"options['item_id']: expected a {self.config.kind} id such as {known}, "
                    f"got {item_id!r}"
                )
            self._item = self._by_id[item_id]
        else:
            self._item = self.items[int(self.np_random.integers(len(self.items)))]
        self._total = ValueVector.zeros()
        self._steps = 0
        self._done = False
        if isinstance(self._item, Dilemma):
            self._node = self._item.start
            text = f"{self._item.title}\n\n{self._item.intro}\n\n{self._node_text()}"
        else:
            self._node = None
            text = self._judgment_text(self._item)
        self._observation = self._fit(text)
        return self._observation, self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Answer the current question (see the module docstring for rewards and ``info``)."""
        if not isinstance(action, str):
            raise TypeError(f"action: expected str, got {type(action).__name__}")
        if self._item is None or self._done:
            raise RuntimeError("the episode has ended (or not started): call reset() first")
        self._steps += 1
        self._warnings = []
        if len(action) > MAX_ACTION_CHARS:  # the action space's limit; bounds the parsing work
            self._warnings.append(
                f"action was {len(action)} characters; read the first {MAX_ACTION_CHARS}"
            )
            action = action[:MAX_ACTION_CHARS]
        if isinstance(self._item, JudgmentItem):
            return self._judge(self._item, action)
        return self._choose(self._item, action)

    def render(self) -> str | None:
        """The current observation when ``render_mode == "ansi"``, else ``None``."""
        return self._observation if self.render_mode == "ansi" else None

    # --- judgments -------------------------------------------------------------------------

    @staticmethod
    def _verdict_menu() -> str:
        lines = [f"  {i}. {v} - {VERDICT_MEANINGS[v]}" for i, v in enumerate(VERDICTS, start=1)]
        return "Answer with a verdict:\n" + "\n".join(lines)

    def _judgment_text(self, item: JudgmentItem) -> str:
        return f"{item.title}\n\n{item.text}\n\n{item.question}\n{self._verdict_menu()}"

    def _judge(self, item: JudgmentItem, action: str):
        verdict = parse_verdict(action)
        self._done = True
        if verdict is None:
            error = (
                f"not a verdict: {action.strip()[:80]!r}; expected YTA, NTA, ESH or NAH "
                "(or 1-4, or words such as 'not the asshole')"
            )
            self._observation = self._fit(f"{error}\nNo verdict was recorded.")
            return self._observation, 0.0, True, False, self._info(error=error)
        sign = {"NTA": 1, "YTA": -1}.get(verdict, 0)
        endorsed: dict[str, int] = {}
        for tension in item.values:
            side = 1 if tension.side == "narrator" else -1
            endorsed[tension.value] = endorsed.get(tension.value, 0) + sign * side
        effects = ValueVector(endorsed)
        self._total = self._total + effects
        reward = float(item.verdicts[verdict]) if item.verdicts else 0.0
        text = f"Your verdict: {verdict} ({VERDICT_MEANINGS[verdict]})."
        if item.verdicts:
            shares = ", ".join(f"{v} {item.verdicts[v]:.0%}" for v in VERDICTS)
            text += f"\nReference verdicts: {shares}."
        self._observation = self._fit(text)
        info = self._info(choice=VERDICTS.index(verdict) + 1, chosen=verdict, effects=effects)
        info["verdict"] = verdict
        return self._observation, reward, True, False, info

    # --- dilemmas --------------------------------------------------------------------------

    def _node_text(self) -> str:
        assert isinstance(self._item, Dilemma) and self._node is not None
        node = self._item.nodes[self._node]
        lines = [f"  {i}. {o.label}" for i, o in enumerate(node.options, start=1)]
        return (
            f"{node.text}\n\nWhat do you do?\n"
            + "\n".join(lines)
            + "\nAnswer with the option's number or its words."
        )

    def _choose(self, item: Dilemma, action: str):
        assert self._node is not None
        node = item.nodes[self._node]
        index, error = match_option(action, [o.label for o in node.options])
        if index is None:
            self._observation = self._fit(f"{error}\n\n{self._node_text()}")
            return self._observation, 0.0, False, False, self._info(error=error)
        option = node.options[index]
        effects = ValueVector(option.effects)
        self._total = self._total + effects
        reward = (self._weights * effects).total()
        parts = [f"You chose: {option.label}"]
        if option.outcome:
            parts.append(option.outcome)
        self._node = option.next
        if self._node is None:
            self._done = True
            parts.append("The story ends.\n" + self._summary())
        else:
            parts.append(self._node_text())
        self._observation = self._fit("\n\n".join(parts))
        info = self._info(choice=index + 1, chosen=option.label, effects=effects)
        return self._observation, reward, self._done, False, info

    def _summary(self) -> str:
        moved = [f"{v} {self._total[v]:+g}" for v in self._total.nonzero_ids()]
        return "Values your choices moved: " + (", ".join(moved) if moved else "none") + "."

    # --- helpers ---------------------------------------------------------------------------

    def _fit(self, text: str) -> str:
        text = to_charset(text)
        if len(text) > MAX_OBSERVATION_CHARS:
            cut = "\n[... text cut to fit the observation limit]"
            self._warnings.append(
                f"observation was {len(text)} characters; cut to {MAX_OBSERVATION_CHARS}"
            )
            text = text[: MAX_OBSERVATION_CHARS - len(cut)] + cut
        return text

    def _options(self) -> list[str]:
        if self._done or self._item is None:
            return []
        if isinstance(self._item, JudgmentItem):
            return list(VERDICTS)
        assert self._node is not None
        return [o.label for o in self._item.nodes[self._node].options]

    def _info(
        self,
        *,
        choice: int | None = None,
        chosen: str | None = None,
        effects: ValueVector | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        item = self._item
        assert item is not None
        vec = ValueVector.zeros() if effects is None else effects
        is_judgment = isinstance(item, JudgmentItem)
        return {
            "kind": item.kind,
            "item_id": item.id,
            "split": item.split,
            "title": item.title,
            "node": None if self._done else self._node,
            "options": self._options(),
            "choice": choice,
            "chosen": chosen,
            "verdict": None,
            "value_effects": vec.to_dict(),
            "value_totals": self._total.to_dict(),
            "values_in_tension": (
                [{"value": t.value, "side": t.side} for t in item.values] if is_judgment else []
            ),
            "reference": dict(item.verdicts) if is_judgment and item.verdicts else None,
            "error": error,
            "step": self._steps,
            "warnings": list(self._warnings),
        }


# The leading non-word run is possessive (``*+``): a backtracking ``\W*`` before ``\s*`` took
# quadratic time on a long run of spaces ("!" + 16,000 spaces + "x": seconds).
_NUMBER_RE = re.compile(r"^\W*+(?:option|choice|number|no\.?|#)?\s*#?(\d+)\b")
_NAMED_NUMBER_RE = re.compile(r"\b(?:option|choice|number)\s*#?(\d+)\b")
_DECIMAL_RE = re.compile(r"[.,]\d+")  # "1.5", "1,5": not a whole number
_SECOND_NUMBER_RE = re.compile(r"\s*(?:[,/&+-]|or\b|and\b)?\s*#?\d")  # "1 2", "1 or 2", "1/2"


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", to_charset(text).lower().replace("'", "")))


def match_option(action: str, labels: Sequence[str]) -> tuple[int | None, str | None]:
    """Find the option an answer names: by number (``"2"``, ``"2."``, ``"option 2"``), by its exact
    words, or by a unique part of them (``"call her"`` for ``"Call her back tonight"``).

    Args:
        action: The answer.
        labels: The options' labels, in order.

    Returns:
        ``(index, None)`` for a match, else ``(None, message)`` saying what was expected.
    """
    text = action.strip().lower()
    expected = f"expected a number 1-{len(labels)} or an option's words"
    number = _NUMBER_RE.match(text) or _NAMED_NUMBER_RE.search(text)
    if number:
        n = int(number.group(1))
        before, after = text[: number.start(1)], text[number.end(1) :]
        if before.endswith("-"):
            return None, f"no option -{n}: {expected}"
        if _DECIMAL_RE.match(after):
            said = number.group(1) + _DECIMAL_RE.match(after).group(0)
            return None, f"{said!r} is not a whole option number: {expected}"
        if _SECOND_NUMBER_RE.match(after):
            return None, f"{action.strip()[:60]!r} names several numbers: {expected}"
        if 1 <= n <= len(labels):
            return n - 1, None
        return None, f"no option {n}: {expected}"
    said = _words(action)
    if not said:
        return None, f"empty answer: {expected}"
    norm = [_words(label) for label in labels]
    if said in norm:
        return norm.index(said), None
    hits = [
        i for i, label in enumerate(norm) if (len(said) >= 4 and said in label) or label in said
    ]
    if len(hits) == 1:
        return hits[0], None
    if hits:
        return None, f"{action.strip()[:60]!r} fits several options: {expected}"
    return None, f"{action.strip()[:60]!r} names no option: {expected}"
