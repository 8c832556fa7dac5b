"""Charts of value profiles, of their comparisons and of an alignment's shift (matplotlib, Agg
backend)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    from s2b_env.errors import require

    matplotlib = require("matplotlib", "llm", "Profile and alignment charts")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_profile(profile: dict[str, Any], path: Path) -> None:
    """A two-panel chart: value means with 95% intervals, and the centred profile."""
    plt = _pyplot()
    rows = profile["values"]
    names = [r["value"] for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.34 * len(rows) + 1.6), sharey=True)
    for ax, key, title in (
        (axes[0], "", "mean rating (1-6), 95% CI"),
        (axes[1], "centred_", "centred (ipsative), 95% CI"),
    ):
        mid = np.array([r["centred" if key else "mean"] for r in rows])
        low = np.array([r[f"{key}ci_low"] for r in rows])
        high = np.array([r[f"{key}ci_high"] for r in rows])
        ax.errorbar(mid, y, xerr=[mid - low, high - mid], fmt="o", color="C0", capsize=3)
        ax.axvline(0 if key else profile["summary"]["mean_rating"], color="grey", lw=0.8, ls="--")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, names, fontsize=8)
    model = str(profile["meta"].get("model", ""))
    fig.suptitle(
        f"value profile: {model[-70:]} ({profile['meta'].get('items')} items)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_compare(comparison: dict[str, Any], path: Path) -> None:
    """Chart of per-value differences B - A with 95% intervals (raw and centred)."""
    plt = _pyplot()
    rows = comparison["values"]
    noise = comparison["summary"]["noise"]
    y = np.arange(len(rows))[::-1]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.34 * len(rows) + 1.6), sharey=True)
    for ax, key, title in ((axes[0], "", "B - A"), (axes[1], "centred_", "B - A, centred")):
        mid = np.array([r[f"{key}diff"] for r in rows])
        low = np.array([r[f"{key}ci_low"] for r in rows])
        high = np.array([r[f"{key}ci_high"] for r in rows])
        colors = [
            "C3" if lo > noise or hi < -noise else "C0" for lo, hi in zip(low, high, strict=True)
        ]
        for yi, m, lo, hi, color in zip(y, mid, low, high, colors, strict=True):
            ax.errorbar([m], [yi], xerr=[[m - lo], [hi - m]], fmt="o", color=color, capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{title} (95% CI; red: excludes 0 by > {noise:g})", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [r["value"] for r in rows], fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_shift(
    result: Mapping[str, Any],
    path: str | Path,
    *,
    title: str = "",
    placebo: Mapping[str, Any] | None = None,
) -> Path:
    """Two panels: baseline, placebo (a placebo run's held-out profile, if given) and aligned
    held-out value means, and the shifts aligned - baseline with 95% CIs."""
    plt = _pyplot()
    rows = list(result["values"])
    y = np.arange(len(rows))[::-1]
    names = [("* " if r["role"] == "target" else "") + r["value"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.34 * len(rows) + 1.8), sharey=True)
    ax = axes[0]
    ax.plot([r["baseline"] for r in rows], y, "o", color="grey", label="baseline")
    if placebo is not None:
        means = {r["value"]: r["mean"] for r in placebo["values"]}
        shown = [
            (yi, means[r["value"]]) for yi, r in zip(y, rows, strict=True) if r["value"] in means
        ]
        ax.plot([m for _, m in shown], [yi for yi, _ in shown], "s", color="C0", mfc="none",
                label="placebo")  # fmt: skip
    ax.plot([r["aligned"] for r in rows], y, "o", color="C3", label="aligned")
    for yi, r in zip(y, rows, strict=True):
        ax.plot([r["baseline"], r["aligned"]], [yi, yi], color="C3", lw=0.8, alpha=0.6)
    ax.set_xlim(1, 6)
    ax.set_title("held-out mean rating (1-6)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax = axes[1]
    for yi, r in zip(y, rows, strict=True):
        color = "C3" if r["significant"] else "C0"
        ax.errorbar(
            [r["shift"]],
            [yi],
            xerr=[[r["shift"] - r["ci_low"]], [r["ci_high"] - r["shift"]]],
            fmt="D" if r["role"] == "target" else "o",
            color=color,
            capsize=3,
        )
    ax.axvline(0, color="grey", lw=0.8, ls="--")
    ax.set_title("shift aligned - baseline, 95% CI (red: excludes 0)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, names, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
