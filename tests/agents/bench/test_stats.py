"""Bootstrap intervals and shifts (agents.bench.stats) against hand-derived and exact references.

The exact reference enumerates every resample of a small sample (n**n equally likely ones), so
its percentiles are the bootstrap's own, without Monte Carlo error; ours must come close.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from agents.bench.stats import Interval, mean_interval, shift


def exact_bootstrap_interval(x: list[float]) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of the exact bootstrap distribution of the mean."""
    means = sorted(sum(s) / len(s) for s in itertools.product(x, repeat=len(x)))
    n = len(means)
    return means[int(0.025 * n)], means[math.ceil(0.975 * n) - 1]


def test_degenerate_samples_have_exact_intervals() -> None:
    assert mean_interval([]).n == 0 and math.isnan(mean_interval([]).mean)
    assert mean_interval([3.5]) == Interval(3.5, 3.5, 3.5, 1)
    assert mean_interval([2.0, 2.0, 2.0]) == Interval(2.0, 2.0, 2.0, 3)
    assert mean_interval([]).format() == "n/a"


def test_two_points_by_hand() -> None:
    # Resamples of [0, 1]: mean 0 (1/4), 0.5 (1/2), 1 (1/4): both tails hold more than 2.5%.
    got = mean_interval([0.0, 1.0])
    assert (got.mean, got.low, got.high, got.n) == (0.5, 0.0, 1.0, 2)
    assert got.format() == "0.50 [0.00, 1.00]"


@pytest.mark.parametrize("x", [[0.0, 1.0, 1.0, 4.0, 9.0], [-2.0, 0.5, 0.5, 3.0, 3.0, 7.0]])
def test_interval_matches_the_exact_bootstrap(x) -> None:
    low, high = exact_bootstrap_interval(x)
    got = mean_interval(x, replicates=20000, seed=1)
    assert got.mean == pytest.approx(float(np.mean(x)))
    spread = max(x) - min(x)
    assert got.low == pytest.approx(low, abs=0.04 * spread)
    assert got.high == pytest.approx(high, abs=0.04 * spread)


def test_seeded_so_the_same_input_gives_the_same_interval() -> None:
    x = [0.3, 1.7, 2.2, 5.0, 0.1, 3.3]
    assert mean_interval(x, seed=7) == mean_interval(list(x), seed=7)
    assert mean_interval(x, seed=7) != mean_interval(x, seed=8)


def test_paired_shift_removes_what_both_agents_share() -> None:
    base = {("g", s, 0): float(v) for s, v in enumerate([0, 10, 20, 30])}
    agent = {k: v + 1.0 for k, v in base.items()}
    got = shift(agent, base)
    assert (got.mean, got.low, got.high, got.n, got.paired) == (1.0, 1.0, 1.0, 4, True)
    assert got.excludes_zero
    # The same numbers on different units are unpaired: the spread of the starts comes back.
    other = {("h", s, 0): v for (_, s, _), v in agent.items()}
    got = shift(other, base)
    assert not got.paired and got.mean == pytest.approx(1.0)
    assert got.low < -5 and got.high > 5 and not got.excludes_zero


def test_paired_shift_matches_the_exact_bootstrap_of_differences() -> None:
    base = {0: 1.0, 1: 4.0, 2: 2.0, 3: 8.0, 4: 5.0}
    agent = {0: 2.0, 1: 4.5, 2: 1.0, 3: 9.0, 4: 7.5}
    diffs = [agent[k] - base[k] for k in base]
    low, high = exact_bootstrap_interval(diffs)
    got = shift(agent, base, replicates=20000)
    assert got.paired and got.mean == pytest.approx(np.mean(diffs))
    assert got.low == pytest.approx(low, abs=0.15) and got.high == pytest.approx(high, abs=0.15)


def test_unpaired_shift_by_hand() -> None:
    # [0, 1] against [0, 1] on different units: each mean is 0, 0.5, 1 w.p. 1/4, 1/2, 1/4, so the
    # difference is -1 with probability 1/16 (> 2.5%) and +1 likewise.
    got = shift({"a": 0.0, "b": 1.0}, {"c": 0.0, "d": 1.0})
    assert (got.mean, got.low, got.high, got.n, got.paired) == (0.0, -1.0, 1.0, 2, False)
    # Against one constant unit, the difference is the agent's own bootstrap.
    got = shift({"a": 0.0, "b": 1.0}, {"c": 0.0})
    assert (got.low, got.high) == (0.0, 1.0)
    assert shift({}, {"c": 0.0}).n == 0
