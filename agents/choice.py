"""Order-debiased choice among listed options.

A small model asked "which number?" over a numbered list often answers by position, not content
(the default model takes the *last* option almost always). The remedy here is to ask under several
orders of the same options and average each option's probability over the orders:

* :func:`option_orders`: which orders to ask under: all orders when there are few enough, else
  balanced cyclic shifts (each option at each position equally often), of the given order and,
  with room for more, of its reverse;
* :func:`average_over_orders`: each option's probability, averaged over the orders;
* :func:`calibrate`: optional content-free calibration (divide each position's probability by the
  probability the model gives that position when the situation is blanked);
* :func:`split_menu` / :func:`permute_menu`: find the env's own numbered menu in an observation,
  so the agent can drop it (its own listing replaces it) or a benchmark can reorder it.

Nothing here runs a model: :class:`agents.llm_agent.LLMAgent` builds the prompts and scores them
through its backend.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

#: A numbered menu line: "  2. Add a camera you lost" or "3) NAH - no assholes here".
_MENU_LINE = re.compile(r"^\s*(\d{1,2})\s*[.):]\s+(\S.*?)\s*$")


def option_orders(n: int, orders: int) -> list[tuple[int, ...]]:
    """The orders (permutations of ``range(n)``) to ask under.

    ``orders`` is an upper bound: with ``orders >= n!`` every order is used (``n!`` prompts);
    otherwise the largest balanced set that fits: the ``n`` cyclic shifts of the identity, then
    the ``n`` cyclic shifts of its reverse, so that each option sits at each position equally
    often. Below ``n`` (or for ``orders == 1``) the first ``orders`` cyclic shifts are used, which
    is not balanced; ``1`` is the identity alone (no debiasing).

    Args:
        n: Number of options (>= 1).
        orders: Most orders to use (>= 1).

    Returns:
        The orders; ``order[p]`` is the index of the option shown at position ``p``. The identity
        comes first.
    """
    if n < 1 or orders < 1:
        raise ValueError(f"expected n >= 1 and orders >= 1, got n={n}, orders={orders}")
    if orders >= math.factorial(n):
        identity = tuple(range(n))
        rest = [p for p in itertools.permutations(range(n)) if p != identity]
        return [identity, *rest]
    shifts = [tuple((p + s) % n for p in range(n)) for s in range(n)]
    if orders < n:
        return shifts[:orders]
    reverse = [tuple((n - 1 - p + s) % n for p in range(n)) for s in range(n)]
    balanced = shifts + reverse if orders >= 2 * n else shifts
    return balanced


def average_over_orders(
    position_probs: Sequence[Sequence[float]], orders: Sequence[Sequence[int]]
) -> list[float]:
    """Each option's probability averaged over the orders.

    Args:
        position_probs: For each order, the probability of each *position* (sums to 1).
        orders: The orders, as from :func:`option_orders`.

    Returns:
        One probability per option (in the options' own order), summing to 1.
    """
    if len(position_probs) != len(orders) or not orders:
        raise ValueError(f"expected one distribution per order, got {len(position_probs)}")
    n = len(orders[0])
    totals = [0.0] * n
    for probs, order in zip(position_probs, orders, strict=True):
        for position, option in enumerate(order):
            totals[option] += float(probs[position])
    total = sum(totals)
    return [t / total for t in totals]


def calibrate(probs: Sequence[float], content_free: Sequence[float]) -> list[float]:
    """Divide out the position prior (Zhao et al. 2021, "Calibrate before use").

    Args:
        probs: The probability of each position given the real prompt.
        content_free: The probability of each position given the same prompt with the situation
            blanked.

    Returns:
        ``probs[i] / content_free[i]``, renormalised.
    """
    floor = 1e-12
    ratios = [p / max(c, floor) for p, c in zip(probs, content_free, strict=True)]
    total = sum(ratios)
    return [r / total for r in ratios]


def order_picks(
    position_probs: Sequence[Sequence[float]], orders: Sequence[Sequence[int]]
) -> list[int]:
    """The option each order alone would pick (its most probable position's option)."""
    return [
        order[max(range(len(probs)), key=lambda p, probs=probs: probs[p])]
        for probs, order in zip(position_probs, orders, strict=True)
    ]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _find_menu(lines: list[str], options: Sequence[str]) -> tuple[int, list[str]] | None:
    """Where the numbered menu of ``options`` starts in ``lines`` (last such menu) and its texts."""
    n = len(options)
    wanted = [_norm(o) for o in options]
    for start in range(len(lines) - n, -1, -1):
        texts = []
        for k in range(n):
            match = _MENU_LINE.match(lines[start + k])
            if not match or int(match.group(1)) != k + 1:
                break
            text = match.group(2)
            if not _norm(text).startswith(wanted[k]):
                break
            texts.append(text)
        else:
            return start, texts
    return None


def split_menu(observation: str, options: Sequence[str]) -> tuple[str, list[str]] | None:
    """Find the numbered menu of ``options`` in ``observation``.

    A menu is ``len(options)`` consecutive lines numbered 1, 2, ... (``1.``, ``1)`` or ``1:``),
    line ``k`` starting with option ``k``'s words (case and spacing aside), so a line may add a
    description (``"1. YTA - you're the asshole: ..."``). The last such menu counts.

    Returns:
        The observation without the menu lines, and each option's menu text (its label plus any
        description), or ``None`` when there is no such menu.
    """
    if not options:
        return None
    lines = observation.split("\n")
    found = _find_menu(lines, options)
    if found is None:
        return None
    start, texts = found
    return "\n".join(lines[:start] + lines[start + len(options) :]), texts


def permute_menu(
    observation: str, options: Sequence[str], order: Sequence[int]
) -> tuple[str, list[str]]:
    """The observation and options as if the options had been listed in ``order``.

    The menu lines are put in the new order and renumbered, keeping their indentation and
    descriptions; used to check whether a choice changes when only the order changes.

    Raises:
        ValueError: The observation has no numbered menu of ``options``.
    """
    lines = observation.split("\n")
    found = _find_menu(lines, options)
    if found is None:
        raise ValueError("the observation has no numbered menu of the options")
    start, _ = found
    menu = lines[start : start + len(options)]
    new_lines = []
    for position, option in enumerate(order):
        match = _MENU_LINE.match(menu[option])
        assert match is not None
        line = menu[option]
        new_lines.append(line[: match.start(1)] + str(position + 1) + line[match.end(1) :])
    out = lines[:start] + new_lines + lines[start + len(options) :]
    return "\n".join(out), [options[i] for i in order]
