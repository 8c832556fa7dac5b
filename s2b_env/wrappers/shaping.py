"""Value-shaped rewards: the game's reward plus a weighted sum of value signals, as a Gymnasium wrapper.

A *signal* is a number a step produces about one value-laden quantity. Three sources:

* own games (``s2b/s2b-*``): ``info["value_effects"]``, one signal per value id
  (``benevolence_caring``, ``power_resources``, ...; :data:`s2b_env.values.VALUE_IDS`);
* Jiminy Cricket games: ``info["morality"]``, one signal per label component
  (``bad_others``, ``bad_self``, ``good_others``, ``good_self``);
* any scorer callable ``scorer(observation, action, info) -> {name: float}`` (e.g. a value judge
  for games without labels); its names are signals too. ``info["value_scores"]``, which
  :class:`~s2b_env.wrappers.value_scores.ValueScoresWrapper` fills from a judge, is read as well.

The shaped reward is ``reward + sum(weight[name] * signal[name])``. Weights are written as terms,
``"+1 x benevolence_caring"``, ``"-2 x bad_others"``, ``"0.5*universalism_nature"`` or
``"bad_self=-1"``, several joined by commas, or given as a ``{name: weight}`` mapping.

Example:
    >>> import gymnasium as gym, s2b_env
    >>> from s2b_env.wrappers.shaping import ValueShapingWrapper
    >>> env = ValueShapingWrapper(gym.make("s2b/s2b-lastferry-v0"), "+1 x benevolence_caring")
    >>> obs, info = env.reset(seed=0)
    >>> obs, shaped, term, trunc, info = env.step("s")
    >>> info["original_reward"], info["shaping_bonus"], info["shaped_reward"]  # doctest: +SKIP
    (0.0, 0.0, 0.0)
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gymnasium as gym

from s2b_env.errors import S2BError
from s2b_env.jiminy.data import LABEL_COMPONENTS
from s2b_env.values import VALUE_IDS

#: A scorer: ``(observation, action, info) -> {signal name: value}`` for one step.
Scorer = Callable[[str, str, Mapping[str, Any]], Mapping[str, float]]

#: Every signal name the env's own labels can give.
LABEL_SIGNALS: tuple[str, ...] = (*VALUE_IDS, *LABEL_COMPONENTS)

_NUMBER = r"[+-]?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TERM_WEIGHT_FIRST = re.compile(rf"^\s*(?P<w>{_NUMBER})\s*(?:[x*×]\s*)?(?P<n>{_NAME})\s*$")
_TERM_NAME_FIRST = re.compile(rf"^\s*(?P<n>{_NAME})\s*[=:]\s*(?P<w>{_NUMBER})\s*$")
_TERM_SIGN_ONLY = re.compile(rf"^\s*(?P<w>[+-])\s*(?P<n>{_NAME})\s*$")


class ShapingError(S2BError, ValueError):
    """A shaping spec is malformed, names an unknown signal, or the env gives no such signal."""


def parse_weights(
    spec: str | Mapping[str, float] | Iterable[str] | None,
    *,
    extra_signals: Iterable[str] = (),
) -> dict[str, float]:
    """Parse shaping weights.

    Args:
        spec: ``"+1 x benevolence_caring, -2 x bad_others"`` (terms joined by commas or
            semicolons; a term is ``<weight> [x|*] <name>``, ``<name>=<weight>`` or ``+name`` /
            ``-name`` for weight +-1), a list of such strings, a ``{name: weight}`` mapping, or
            ``None`` / ``""`` / ``"none"`` for no shaping.
        extra_signals: Names a scorer provides, accepted besides :data:`LABEL_SIGNALS`.

    Returns:
        ``{name: weight}`` in the given order; a name given twice has its weights added.

    Raises:
        ShapingError: A term cannot be read, a weight is not finite, or a name is unknown (the
            message suggests the closest known name).
    """
    known = (*LABEL_SIGNALS, *extra_signals)
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        pairs = []
        for name, weight in spec.items():
            try:
                pairs.append((str(name), float(weight)))
            except (TypeError, ValueError):
                raise ShapingError(
                    f"shaping weight of {name!r} must be a number, got {weight!r}"
                ) from None
    else:
        texts = [spec] if isinstance(spec, str) else list(spec)
        pairs = []
        for text in texts:
            if not isinstance(text, str):
                raise ShapingError(f"shaping term must be a string, got {text!r}")
            if text.strip().lower() in ("", "none", "unshaped", "0"):
                continue
            for term in re.split(r"[,;]", text):
                if term.strip():
                    pairs.append(_parse_term(term))
    out: dict[str, float] = {}
    for name, weight in pairs:
        if not math.isfinite(weight):
            raise ShapingError(f"shaping weight of {name!r} must be finite, got {weight}")
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ShapingError(
                f"unknown shaping signal {name!r}{hint}: expected a value id, one of the Jiminy "
                f"components {', '.join(LABEL_COMPONENTS)}, or a name the scorer gives"
            )
        out[name] = out.get(name, 0.0) + weight
    return out


def _parse_term(term: str) -> tuple[str, float]:
    for pattern in (_TERM_WEIGHT_FIRST, _TERM_NAME_FIRST, _TERM_SIGN_ONLY):
        m = pattern.match(term)
        if m:
            w = m.group("w").replace(" ", "")
            return m.group("n"), float(w + "1" if w in "+-" else w)
    raise ShapingError(
        f"cannot read shaping term {term.strip()!r}: write it as '+1 x benevolence_caring', "
        "'-2*bad_others' or 'bad_self=-1'"
    )


def format_weights(weights: Mapping[str, float]) -> str:
    """The canonical text of weights: ``"+1 x benevolence_caring, -2 x bad_others"`` (``"none"``)."""
    if not weights:
        return "none"
    return ", ".join(f"{w:+g} x {n}" for n, w in weights.items())


def label_signals(info: Mapping[str, Any]) -> dict[str, float]:
    """The signals in a step's info: a value scorer's ``value_scores`` (put there by
    :class:`~s2b_env.wrappers.value_scores.ValueScoresWrapper`), then the env's own labels, value
    effects and Jiminy morality components, which win on a shared name."""
    out: dict[str, float] = {}
    scores = info.get("value_scores")
    if isinstance(scores, Mapping):
        for name, x in scores.items():
            out[str(name)] = float(x)
    effects = info.get("value_effects")
    if effects is not None:
        if hasattr(effects, "to_dict"):
            effects = effects.to_dict()
        for name, x in effects.items():
            out[name] = float(x)
    morality = info.get("morality")
    if morality is not None:
        for name, x in zip(LABEL_COMPONENTS, morality, strict=False):
            out[name] = float(x)
    return out


class ValueShapingWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds a weighted sum of value signals to the reward.

    The step's ``info`` gains ``original_reward`` (the env's own reward), ``shaping_bonus`` (the
    weighted sum), ``shaped_reward`` (their sum, also the returned reward) and
    ``shaping_signals`` (the signals the weights use, ``{name: value}``); after ``reset`` these are
    0 (and ``{}``). ``info["shaped_return"]`` and ``info["original_return"]`` hold the episode's
    sums so far. Spaces and everything else pass through unchanged.

    Args:
        env: The env (its ``info`` carries ``value_effects`` and/or ``morality`` when the weights
            use label signals).
        weights: See :func:`parse_weights`.
        scorer: Called after every step with ``(observation, action, info)``; its signals are
            used where the env's labels do not have the name (scorer signals win on a clash).
        scorer_signals: Names the scorer gives (so the weights may use them).

    Raises:
        ShapingError: Bad weights (at construction); or a weight's signal is missing from a step
            (the env has no such labels and no scorer gives it).
    """

    def __init__(
        self,
        env: gym.Env,
        weights: str | Mapping[str, float] | Iterable[str] | None,
        *,
        scorer: Scorer | None = None,
        scorer_signals: Iterable[str] = (),
    ) -> None:
        scorer_signals = tuple(scorer_signals)
        gym.utils.RecordConstructorArgs.__init__(
            self, weights=weights, scorer=scorer, scorer_signals=scorer_signals
        )
        super().__init__(env)
        self.weights = parse_weights(weights, extra_signals=scorer_signals)
        self.scorer = scorer
        self._shaped_return = 0.0
        self._original_return = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and the episode's returns."""
        observation, info = self.env.reset(seed=seed, options=options)
        self._shaped_return = self._original_return = 0.0
        info = dict(info)
        info.update(
            original_reward=0.0, shaping_bonus=0.0, shaped_reward=0.0, shaping_signals={},
            shaped_return=0.0, original_return=0.0,
        )  # fmt: skip
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step the env; the reward returned is the shaped one."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        used: dict[str, float] = {}
        bonus = 0.0
        if self.weights:
            signals = label_signals(info)
            if self.scorer is not None:
                signals.update(self.scorer(observation, action, info))
            for name, weight in self.weights.items():
                if name not in signals:
                    raise ShapingError(
                        f"shaping signal {name!r} is not in this env's step info (it gives "
                        f"{', '.join(sorted(signals)) or 'no labels'}); use an env with those "
                        "labels or pass a scorer that gives it"
                    )
                used[name] = signals[name]
                bonus += weight * signals[name]
        original = float(reward)
        shaped = original + bonus
        self._shaped_return += shaped
        self._original_return += original
        info.update(
            original_reward=original, shaping_bonus=bonus, shaped_reward=shaped,
            shaping_signals=used, shaped_return=self._shaped_return,
            original_return=self._original_return,
        )  # fmt: skip
        return observation, shaped, terminated, truncated, info


__all__ = [
    "LABEL_SIGNALS",
    "Scorer",
    "ShapingError",
    "ValueShapingWrapper",
    "format_weights",
    "label_signals",
    "parse_weights",
]
