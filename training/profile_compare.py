"""Comparing two value profiles: per-value differences with paired bootstrap intervals.

:func:`compare_profiles` takes two loaded profiles (:func:`training.profile.load_profile`) and gives
the per-value difference B - A over the items both share, with a paired bootstrap 95% interval and
the centred (ipsative) difference; :func:`write_comparison` writes it as ``compare.json``,
``compare.csv`` and ``compare.png``. :mod:`training.profile` re-exports both, so callers import them
from there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from training.profile import NOISE, interval95, write_rows_csv
from training.profile_charts import plot_compare


def compare_profiles(
    a: dict[str, Any], b: dict[str, Any], *, bootstrap: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Per-value differences B - A with paired bootstrap 95% intervals over shared items.

    Raises:
        ValueError: The profiles share no item of some value.
    """
    items_a = {i["id"]: i for i in a["items"]}
    items_b = {i["id"]: i for i in b["items"]}
    shared = [i for i in items_a if i in items_b]
    order = [r["value"] for r in a["values"] if any(r["value"] == s["value"] for s in b["values"])]
    rng = np.random.default_rng(seed)
    diffs = {
        v: np.array(
            [items_b[i]["score"] - items_a[i]["score"] for i in shared if items_a[i]["value"] == v]
        )
        for v in order
    }
    empty = [v for v, d in diffs.items() if not len(d)]
    if empty or not order:
        raise ValueError(
            f"expected the two profiles to share items of every value; none for {empty or 'any value'}"
        )
    resampled = {v: rng.choice(d, size=(bootstrap, len(d)), replace=True) for v, d in diffs.items()}
    total = sum(len(d) for d in diffs.values())
    grand = sum(d.sum() for d in diffs.values()) / total
    grand_star = sum(s.sum(axis=1) for s in resampled.values()) / total
    rows = []
    for v in order:
        star = resampled[v].mean(axis=1)
        low, high = interval95(star)
        c_low, c_high = interval95(star - grand_star)
        rows.append(
            {
                "value": v,
                "n_items": len(diffs[v]),
                "diff": float(diffs[v].mean()),
                "ci_low": low,
                "ci_high": high,
                "centred_diff": float(diffs[v].mean() - grand),
                "centred_ci_low": c_low,
                "centred_ci_high": c_high,
            }
        )
    return {
        "a": a["meta"],
        "b": b["meta"],
        "bootstrap": bootstrap,
        "seed": seed,
        "values": rows,
        "summary": {
            "mean_diff": float(grand),
            "values_changed": sum(1 for r in rows if _changed(r)),
            "noise": NOISE,
            "shared_items": len(shared),
        },
    }


def _changed(row: dict[str, Any]) -> bool:
    """Whether a comparison row's interval excludes 0 by more than numerical noise."""
    return row["ci_low"] > NOISE or row["ci_high"] < -NOISE


def write_comparison(comparison: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write compare.json, compare.csv and compare.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {n: out / n for n in ("compare.json", "compare.csv", "compare.png")}
    paths["compare.json"].write_text(json.dumps(comparison, indent=1) + "\n")
    write_rows_csv(paths["compare.csv"], comparison["values"])
    plot_compare(comparison, paths["compare.png"])
    return paths
