"""Bootstrap intervals over a bench's episodes, and each agent's shift from the baseline.

Everything here is deterministic: the resampling generator is seeded, so the same numbers in the
same order give the same intervals, to the bit (``s2b report`` writes the same bytes twice).

* :func:`mean_interval`: the mean of per-episode numbers with a percentile bootstrap 95% interval
  (episodes resampled with replacement).
* :func:`shift`: an agent's mean minus the baseline's, with a 95% interval. When both agents
  played exactly the same units (the same ``(env, seed, episode)``, so the same starts), the
  shift is *paired*: the per-unit differences are resampled together, which removes the part of
  the spread both agents share. Otherwise the two samples are resampled independently
  (unpaired bootstrap of the difference of means).

Example::

    >>> mean_interval([1.0, 2.0, 3.0]).mean
    2.0
    >>> s = shift({"a": 2.0, "b": 3.0}, {"a": 1.0, "b": 2.0})
    >>> (s.mean, s.low, s.high, s.paired)
    (1.0, 1.0, 1.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Bootstrap replicates unless told otherwise.
DEFAULT_REPLICATES = 2000
#: The resampling generator's seed unless told otherwise.
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A mean with its percentile bootstrap 95% interval.

    Attributes:
        mean: The sample mean (``nan`` when there is no sample).
        low: 2.5th percentile of the bootstrap means (``nan`` when there is no sample).
        high: 97.5th percentile of the bootstrap means.
        n: Sample size (for a shift: pairs when paired, else the smaller of the two samples).
        paired: For a shift: the per-unit differences were resampled (both agents played the
            same units); ``False`` for a plain mean or an unpaired shift.
    """

    mean: float
    low: float
    high: float
    n: int
    paired: bool = False

    @property
    def excludes_zero(self) -> bool:
        """The interval lies wholly above or wholly below 0 (a shift that "moved")."""
        return self.n > 1 and (self.low > 0 or self.high < 0)

    def format(self, digits: int = 2, *, signed: bool = False) -> str:
        """``mean [low, high]`` (``n/a`` without a sample); ``signed`` puts a sign on each."""
        if self.n == 0 or math.isnan(self.mean):
            return "n/a"
        f = f"{{:{'+' if signed else ''}.{digits}f}}"
        return f"{f.format(self.mean)} [{f.format(self.low)}, {f.format(self.high)}]"


def _percentiles(star: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(star, [2.5, 97.5])
    return float(low), float(high)


def _empty() -> Interval:
    return Interval(math.nan, math.nan, math.nan, 0)


def _bootstrap_means(x: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    index = rng.integers(0, len(x), size=(replicates, len(x)))
    return x[index].mean(axis=1)


def mean_interval(
    values: Sequence[float], *, replicates: int = DEFAULT_REPLICATES, seed: int = DEFAULT_SEED
) -> Interval:
    """The mean of ``values`` with a percentile bootstrap 95% interval.

    Args:
        values: One number per episode (``None`` and ``nan`` are not allowed: leave them out).
        replicates: Bootstrap replicates.
        seed: Seed of the resampling generator (same input and seed: same interval).

    Returns:
        The :class:`Interval`; one value gives ``[x, x]``, none gives ``nan`` with ``n=0``.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return _empty()
    if x.size == 1 or np.all(x == x[0]):
        m = float(x.mean())
        return Interval(m, m, m, int(x.size))
    star = _bootstrap_means(x, replicates, np.random.default_rng(seed))
    return Interval(float(x.mean()), *_percentiles(star), int(x.size))


def shift(
    agent: Mapping[Hashable, float],
    baseline: Mapping[Hashable, float],
    *,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """The agent's mean minus the baseline's, with a bootstrap 95% interval.

    Args:
        agent: Per-unit numbers of the agent, keyed by the unit's ``(env, seed, episode)``.
        baseline: The baseline's, keyed alike.
        replicates: Bootstrap replicates.
        seed: Seed of the resampling generator.

    Returns:
        Paired (``paired=True``, ``n`` = pairs) when both have the same set of keys: the mean of
        the per-unit differences and their bootstrap interval. Otherwise unpaired: the difference
        of the two means, each sample resampled on its own (``n`` = the smaller sample). ``nan``
        with ``n=0`` when either side is empty.
    """
    if not agent or not baseline:
        return _empty()
    if set(agent) == set(baseline):
        keys = sorted(agent, key=repr)
        d = np.array([agent[k] - baseline[k] for k in keys], dtype=float)
        got = mean_interval(d, replicates=replicates, seed=seed)
        return Interval(got.mean, got.low, got.high, got.n, paired=True)
    a = np.array([agent[k] for k in sorted(agent, key=repr)], dtype=float)
    b = np.array([baseline[k] for k in sorted(baseline, key=repr)], dtype=float)
    rng = np.random.default_rng(seed)
    star = _bootstrap_means(a, replicates, rng) - _bootstrap_means(b, replicates, rng)
    low, high = _percentiles(star)
    return Interval(float(a.mean() - b.mean()), low, high, int(min(a.size, b.size)))
