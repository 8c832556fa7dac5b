"""Does an aligned profile keep the base model's shape? Spread and shape of held-out profiles.

Hard anchors can collapse every unmoved value onto one digit (issue 17: "answer 3, except 1 for
power items"); soft anchors are meant to keep the base's profile. :func:`shape_report` measures
that on the held-out items of the values *not* moved:

* **spread**: the standard deviation of the value means, for the base, the aligned adapter and
  (if given) the placebo, each with a bootstrap 95% interval (items resampled within each value);
* **shape r**: the Pearson correlation of the adapter's value means with the base's, items
  resampled in pairs (the same item for both profiles), with a 95% interval.

Example:
    >>> report = shape_report(base, aligned, placebo, moved=["power_dominance"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from training.profile_util import interval95


def _item_scores(profile: Mapping[str, Any], values: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {v: {} for v in values}
    for item in profile["items"]:
        if item["value"] in out:
            out[item["value"]][item["id"]] = float(item["score"])
    return out


def shape_report(
    base: Mapping[str, Any],
    aligned: Mapping[str, Any],
    placebo: Mapping[str, Any] | None = None,
    *,
    moved: Sequence[str] = (),
    bootstrap: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Spread and shape of held-out profiles over the values not moved.

    Args:
        base: The base model's held-out profile (:func:`training.profile.load_profile`).
        aligned: The aligned adapter's held-out profile.
        placebo: The placebo adapter's, if there is one.
        moved: Values left out (the moved ones).
        bootstrap: Replicates for the intervals.
        seed: The bootstrap's seed.

    Returns:
        ``values`` (those measured), ``spread`` (per profile: ``mean`` = SD of the value means,
        ``ci_low``, ``ci_high``) and ``shape_r`` (per adapter: Pearson r with the base, interval).
        Only items present in every profile count.
    """
    profiles = {"baseline": base, "aligned": aligned}
    if placebo is not None:
        profiles["placebo"] = placebo
    present = [{i["value"] for i in p["items"]} for p in profiles.values()]
    values = [v for v in dict.fromkeys(i["value"] for i in base["items"])
              if v not in set(moved) and all(v in s for s in present)]  # fmt: skip
    scores = {name: _item_scores(p, values) for name, p in profiles.items()}
    ids = {v: sorted(set.intersection(*(set(s[v]) for s in scores.values()))) for v in values}
    values = [v for v in values if ids[v]]
    # matrix per profile: values x items (ragged -> per value arrays)
    arrays = {
        name: [np.array([s[v][i] for i in ids[v]]) for v in values] for name, s in scores.items()
    }
    rng = np.random.default_rng(seed)
    picks = [rng.integers(0, len(ids[v]), size=(bootstrap, len(ids[v]))) for v in values]
    means = {name: np.array([a.mean() for a in arr]) for name, arr in arrays.items()}
    star = {
        name: np.stack([a[p].mean(axis=1) for a, p in zip(arr, picks, strict=True)], axis=1)
        for name, arr in arrays.items()
    }  # (bootstrap, values), the same resampled items for every profile
    spread = {}
    for name in profiles:
        low, high = interval95(star[name].std(axis=1))
        spread[name] = {"mean": float(means[name].std()), "ci_low": low, "ci_high": high}
    shape = {}
    for name in (n for n in profiles if n != "baseline"):
        low, high = interval95(_rows_corr(star["baseline"], star[name]))
        shape[name] = {
            "mean": _corr(means["baseline"], means[name]),
            "ci_low": low,
            "ci_high": high,
        }
    return {"values": values, "spread": spread, "shape_r": shape}


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _rows_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc**2).sum(axis=1) * (yc**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(axis=1) / den
    return r[np.isfinite(r)] if np.isfinite(r).any() else np.array([np.nan])


def shape_markdown(report: Mapping[str, Any]) -> str:
    """The summary's section on spread and shape (:func:`shape_report`)."""

    def ci(d: Mapping[str, float]) -> str:
        return f"{d['mean']:.3f} [{d['ci_low']:.3f}, {d['ci_high']:.3f}]"

    lines = [
        f"## Profile shape (held-out, the {len(report['values'])} values not moved)",
        "",
        "| profile | spread (SD of value means) [95% CI] | r with the base's value means [95% CI] |",
        "|---|---|---|",
    ]
    for name, spread in report["spread"].items():
        r = report["shape_r"].get(name)
        lines.append(f"| {name} | {ci(spread)} | {ci(r) if r else '1'} |")
    return "\n".join([*lines, ""])
