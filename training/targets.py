"""Alignment targets: the answer digit the fine-tuned model should give to each training item.

Targets start from the base model's own answers (as in Nie et al. 2025): for every item, its
*baseline* is the base model's expected rating (mean over the prompt phrasings, from
:mod:`training.profile`). Then

* a value chosen to move gets ``round(baseline) + shift``, clipped to 1..6 (``--direction
  down|up --delta N`` gives ``shift = -N`` or ``+N``);
* a value given in a full target profile (a JSON file, any subset of the 20 values) gets that
  profile's rating for every one of its items;
* every other value keeps the base model's own answer, ``round(baseline)``.

Rounding is half up (3.5 -> 4), not Python's round-half-even. These *hard* targets are the
paper's recipe. *Soft* targets (:func:`add_soft_targets`, ``--anchors soft``) train each
(item, phrasing) example towards a distribution over the six digits instead: an unmoved value's
is the base model's own distribution for that prompt (from the baseline profile's
``results.jsonl``); a moved value's is that distribution with its mass moved by the shift
(clipped at 1 and 6), or one-hot on the hard target. This module imports nothing heavy.

Example:
    >>> shifts = shifts_for(["power_dominance"], "down", 2)
    >>> shifts
    {'power_dominance': -2}
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError, parse_json, read_text
from training.value_ids import check_value_ids, value_id_problem

#: The lowest and highest answer digit.
MIN_RATING, MAX_RATING = 1, 6
#: What ``direction`` accepts.
DIRECTIONS: tuple[str, ...] = ("down", "up")


def round_rating(x: float) -> int:
    """Round an expected rating half up and clip it to 1..6.

    Args:
        x: An expected rating.

    Returns:
        The nearest answer digit as an int.
    """
    if not isinstance(x, int | float) or not math.isfinite(x):
        raise ValueError(f"expected a finite rating, got {x!r}")
    return int(min(MAX_RATING, max(MIN_RATING, math.floor(x + 0.5))))


def shifts_for(values: Sequence[str], direction: str, delta: int) -> dict[str, int]:
    """The signed shift of each chosen value.

    Args:
        values: Value ids to move.
        direction: ``"down"`` or ``"up"``.
        delta: How many scale points to move, 1..5.

    Returns:
        ``{value: +delta or -delta}``.

    Raises:
        ValueError: An unknown value or direction, or a delta outside 1..5.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if isinstance(delta, bool) or not isinstance(delta, int) or not 1 <= delta <= 5:
        raise ValueError(f"delta: expected an integer from 1 to 5, got {delta!r}")
    _check_values(values, "values")
    sign = -1 if direction == "down" else 1
    return {v: sign * delta for v in values}


def load_target_profile(path: str | Path) -> dict[str, int]:
    """Read a full target profile: a JSON object mapping value ids to ratings.

    The file is ``{"power_dominance": 2, "benevolence_caring": 6}`` (any subset of the 20
    values), optionally wrapped as ``{"targets": {...}}``. Ratings are numbers from 1 to 6; a
    fractional rating is rounded half up to the digit every item of that value is trained on.

    Args:
        path: The ``.json`` file.

    Returns:
        ``{value: digit}``.

    Raises:
        DataError: The file is missing, not JSON, or has an unknown value or a bad rating (the
            error names the field).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file", fix="give a JSON object mapping value ids to 1..6")
    data = parse_json(path, read_text(path))
    if isinstance(data, dict) and set(data) == {"targets"}:
        data = data["targets"]
    if not isinstance(data, dict) or not data:
        raise DataError(
            path,
            f"expected a non-empty JSON object {{value id: rating}}, got {type(data).__name__}",
        )
    out: dict[str, int] = {}
    for value, rating in data.items():
        problem = value_id_problem(value)
        if problem:
            raise DataError(path, problem, field=str(value))
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int | float)
            or not MIN_RATING <= rating <= MAX_RATING
        ):
            raise DataError(
                path, f"expected a rating from 1 to 6, got {rating!r}", field=str(value)
            )
        out[value] = round_rating(float(rating))
    return out


@dataclass(frozen=True)
class ItemTarget:
    """The trained answer for one survey item.

    Attributes:
        item_id: The survey item.
        value: Its value id.
        baseline: The base model's expected rating (mean over phrasings).
        target: The answer digit trained on, 1..6.
        moved: Whether the value was chosen to move (False: the model's own rounded answer).
        soft: Soft targets: per phrasing id, the trained probabilities of the digits 1..6
            (``None``: the hard target digit only).
    """

    item_id: str
    value: str
    baseline: float
    target: int
    moved: bool
    soft: dict[str, list[float]] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def build_targets(
    items: Iterable[Any],
    baseline: Mapping[str, float],
    *,
    shifts: Mapping[str, int] | None = None,
    profile: Mapping[str, int] | None = None,
) -> list[ItemTarget]:
    """The target digit of every given item.

    Args:
        items: :class:`~training.survey.SurveyItem` objects (training items).
        baseline: The base model's expected rating per item id.
        shifts: Values to move, ``{value: signed shift}`` (see :func:`shifts_for`).
        profile: Values set to a fixed digit, ``{value: digit}`` (see
            :func:`load_target_profile`). A value may not be in both.

    Returns:
        One :class:`ItemTarget` per item, in the order given.

    Raises:
        ValueError: An item has no baseline, neither or both of ``shifts`` and ``profile`` name a
            value, or a value is unknown.
    """
    shifts = dict(shifts or {})
    profile = dict(profile or {})
    _check_values(list(shifts), "shifts")
    _check_values(list(profile), "profile")
    both = sorted(set(shifts) & set(profile))
    if both:
        raise ValueError(
            f"expected each value either shifted or set by a profile, got both for {both}"
        )
    if not shifts and not profile:
        raise ValueError(
            "expected at least one value to move (shifts or a target profile), got none"
        )
    out = []
    for item in items:
        if item.id not in baseline:
            raise ValueError(f"expected a baseline rating for item {item.id!r}, got none")
        base = float(baseline[item.id])
        own = round_rating(base)
        if item.value in shifts:
            target, moved = round_rating(own + shifts[item.value]), True
        elif item.value in profile:
            target, moved = int(profile[item.value]), True
        else:
            target, moved = own, False
        out.append(ItemTarget(item.id, item.value, base, target, moved))
    return out


def save_targets(targets: Sequence[ItemTarget], path: str | Path) -> Path:
    """Write targets as JSON (a list of :meth:`ItemTarget.to_json` records)."""
    path = Path(path)
    path.write_text(json.dumps([t.to_json() for t in targets], indent=1) + "\n")
    return path


#: What ``moved_target`` accepts: the moved value's soft target.
MOVED_TARGETS: tuple[str, ...] = ("shifted", "onehot")


def shift_distribution(probs: Sequence[float], shift: int) -> list[float]:
    """Move a digit distribution by ``shift`` digits, piling the mass that would leave 1..6 on
    the end digit (``[.1, .2, .7, 0, 0, 0]`` shifted by -2 is ``[1.0, 0, 0, 0, 0, 0]``)."""
    if len(probs) != MAX_RATING:
        raise ValueError(f"expected {MAX_RATING} digit probabilities, got {len(probs)}")
    out = [0.0] * MAX_RATING
    for i, p in enumerate(probs):
        out[min(MAX_RATING - 1, max(0, i + shift))] += float(p)
    return out


def load_base_distributions(results: str | Path) -> dict[tuple[str, str], list[float]]:
    """The base model's digit distribution per (item id, phrasing id), from a profile's
    ``results.jsonl`` (:mod:`training.profile`: a meta line, then one result per line).

    Raises:
        DataError: The file is missing or a line is not a result with six probabilities.
    """
    path = Path(results)
    if not path.is_file():
        raise DataError(path, "no such file", fix="run the baseline profile first")
    out: dict[tuple[str, str], list[float]] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        try:
            data = json.loads(line) if line.strip() else None
        except ValueError:
            raise DataError(path, "expected a JSON object per line", line=number) from None
        if not isinstance(data, dict) or "meta" in data:
            continue
        probs = data.get("probs")
        if not (isinstance(probs, list) and len(probs) == MAX_RATING and all(
            isinstance(p, int | float) and p >= 0 for p in probs) and sum(probs) > 0):  # fmt: skip
            raise DataError(path, f"expected 6 probabilities, got {probs!r}", line=number,
                            field="probs")  # fmt: skip
        total = float(sum(probs))
        out[(str(data.get("item")), str(data.get("phrasing")))] = [p / total for p in probs]
    return out


def add_soft_targets(
    targets: Sequence[ItemTarget],
    base: Mapping[tuple[str, str], Sequence[float]],
    phrasings: Sequence[str],
    *,
    shifts: Mapping[str, int] | None = None,
    moved_target: str = "shifted",
) -> list[ItemTarget]:
    """Give every target its soft digit distribution under each phrasing.

    An unmoved item's is the base distribution ``base[(item, phrasing)]``; a moved item's is
    that distribution shifted by ``shifts[value]`` (``moved_target="shifted"``), or one-hot on
    its hard target digit (``"onehot"``, and always for a value set by a target profile, which
    has no shift).

    Raises:
        ValueError: An unknown ``moved_target``, or an (item, phrasing) without a base
            distribution.
    """
    if moved_target not in MOVED_TARGETS:
        raise ValueError(f"moved_target: expected one of {MOVED_TARGETS}, got {moved_target!r}")
    shifts = dict(shifts or {})
    out = []
    for t in targets:
        soft = {}
        for p in phrasings:
            if (t.item_id, p) not in base:
                raise ValueError(f"expected a base distribution of {t.item_id!r} under {p!r}")
            dist = [float(x) for x in base[(t.item_id, p)]]
            if t.moved and (moved_target == "onehot" or t.value not in shifts):
                dist = [float(d == t.target) for d in range(MIN_RATING, MAX_RATING + 1)]
            elif t.moved:
                dist = shift_distribution(dist, shifts[t.value])
            soft[p] = [round(x, 8) for x in dist]
        out.append(replace(t, soft=soft))
    return out


def _check_values(values: Sequence[str], name: str) -> None:
    if isinstance(values, str):
        raise TypeError(f"{name}: expected a sequence of value ids, got a str")
    check_value_ids(values, name)
