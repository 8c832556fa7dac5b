"""The bench report's plots, each from an :class:`agents.bench.report.Summary` (matplotlib, Agg
backend; no timestamps: same run, same bytes).

* :func:`plot_shift`: the 20-value behaviour shift of each agent from the baseline (value totals
  per episode, pooled over the envs that label values, 95% intervals), beside the in-domain
  held-out survey shift of agents whose adapter comes from an ``s2b align`` run.
* :func:`plot_tradeoff`: reward against immorality per agent on Jiminy Cricket envs (the
  MACHIAVELLI-style trade-off: up and to the left is better).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from s2b_env.values import VALUE_IDS

#: PNG metadata: nothing that changes between runs.
METADATA = {"Software": None}


def _pyplot() -> Any:
    from s2b_env.errors import require

    matplotlib = require("matplotlib", "llm", "Bench report plots")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, plt: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=METADATA)
    plt.close(fig)
    return path


def _pooled_env(summary: Any, agent: str, prefix: str) -> str | None:
    """``"all"`` when the agent's value shifts are pooled over envs, else the one env."""
    envs = [e for e in ["all", *summary.run.envs]
            if any((agent, e, f"{prefix}:{v}") in summary.shifts for v in VALUE_IDS)]  # fmt: skip
    return envs[0] if envs else None


def plot_shift(summary: Any, path: Path) -> Path | None:
    """The 20-value behaviour shift plot; ``None`` (nothing written) without value totals."""
    prefix = "value" if any(m.startswith("value:") for m in summary.metrics()) else "judged"
    agents = [(a, env) for a in summary.run.agents if a != summary.run.baseline
              if (env := _pooled_env(summary, a, prefix))]  # fmt: skip
    if not agents:
        return None
    surveyed = [a for a, _ in agents if summary.align.get(a) and summary.align[a].survey]
    plt = _pyplot()
    y = np.arange(len(VALUE_IDS))[::-1]
    panels = 2 if surveyed else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels + 1, 0.32 * len(VALUE_IDS) + 1.8),
                             sharey=True, squeeze=False)  # fmt: skip
    width = 0.8 / len(agents)
    for i, (agent, env) in enumerate(agents):
        offset = (i - (len(agents) - 1) / 2) * width
        for yi, vid in zip(y, VALUE_IDS, strict=True):
            s = summary.shifts.get((agent, env, f"{prefix}:{vid}"))
            if s is None or s.n == 0:
                continue
            axes[0][0].errorbar([s.mean], [yi + offset], xerr=[[s.mean - s.low], [s.high - s.mean]],
                                fmt="o", color=f"C{i}", capsize=2,
                                mfc=f"C{i}" if s.excludes_zero else "white",
                                label=agent if yi == y[0] else None)  # fmt: skip
    kind = "hand-labelled" if prefix == "value" else "judged"
    axes[0][0].set_title(f"behaviour: {kind} value totals per episode, agent − "
                         f"{summary.run.baseline}\n(envs pooled; filled: 95% CI excludes 0)",
                         fontsize=9)  # fmt: skip
    if surveyed:
        ax = axes[0][1]
        for i, (agent, _) in enumerate(agents):
            info = summary.align.get(agent)
            if agent not in surveyed or info is None:
                continue
            offset = (i - (len(agents) - 1) / 2) * width
            for yi, vid in zip(y, VALUE_IDS, strict=True):
                s = info.survey.get(vid)
                if s is not None:
                    ax.errorbar([s.mean], [yi + offset], xerr=[[s.mean - s.low], [s.high - s.mean]],
                                fmt="D", color=f"C{i}", capsize=2)  # fmt: skip
        ax.set_title(
            "in domain: held-out survey rating,\naligned − base (its align run)", fontsize=9
        )
    for ax in axes[0]:
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, list(VALUE_IDS), fontsize=8)
    axes[0][0].legend(fontsize=8, loc="lower right")
    return _save(fig, plt, path)


def plot_tradeoff(summary: Any, path: Path) -> Path | None:
    """Reward (percent completion, else total reward) against immorality, one point per agent
    and Jiminy env with 95% intervals; ``None`` (nothing written) without Jiminy envs."""
    envs = [e for e in summary.run.envs if "immorality" in summary.metrics(e)]
    if not envs:
        return None
    reward = "percent_completion" if any(
        "percent_completion" in summary.metrics(e) for e in envs) else "total_reward"  # fmt: skip
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    markers = "os^vD<>pP*X"
    for i, agent in enumerate(summary.run.agents):
        for j, env in enumerate(envs):
            x = summary.means.get((agent, env, "immorality"))
            r = summary.means.get((agent, env, reward))
            if x is None or r is None or not x.n or not r.n:
                continue
            ax.errorbar([x.mean], [r.mean], xerr=[[x.mean - x.low], [x.high - x.mean]],
                        yerr=[[r.mean - r.low], [r.high - r.mean]], fmt=markers[j % len(markers)],
                        color=f"C{i}", capsize=3, label=f"{agent} · {env}")  # fmt: skip
    ax.set_xlabel("immorality per episode (Jiminy Cricket, lower is better)")
    ax.set_ylabel(reward.replace("_", " ") + " (higher is better)")
    ax.set_title("reward against immorality per agent, 95% CI", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, plt, path)
