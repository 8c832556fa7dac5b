"""The report of an ``s2b study``: per-shaping means over seeds with 95% t intervals, paired
differences against the unshaped agent, a Pareto plot and learning curves.

Each unit's evaluation episodes are averaged first; the seeds are then the independent samples
(n = number of seeds), so the intervals are over training runs, not over episodes of one run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from agents.drrn.units import RANDOM, Unit

#: Two-sided 95% Student t quantiles by degrees of freedom (1..30); 1.96 beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
METRICS = ("score", "original_return", "percent_completion", "shaped_return", "steps", "victory")


def mean_interval(values: list[float]) -> dict[str, float | int | None]:
    """Mean and the half-width of its 95% t interval (``None`` with fewer than 2 values)."""
    values = [float(v) for v in values if v is not None]
    n = len(values)
    if n == 0:
        return {"mean": None, "ci95": None, "n": 0}
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "ci95": None, "n": n}
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.96
    return {"mean": mean, "ci95": t * math.sqrt(var / n), "n": n}


def _unit_means(result: dict[str, Any], axis: str | None) -> dict[str, float | None]:
    episodes = result["eval"]
    out: dict[str, float | None] = {}
    for key in METRICS:
        vals = [float(e[key]) for e in episodes if e.get(key) is not None]
        out[key] = sum(vals) / len(vals) if vals else None
    if axis:
        vals = [e["signals"].get(axis) for e in episodes]
        vals = [v for v in vals if v is not None]
        out["axis"] = sum(vals) / len(vals) if vals else None
    return out


def aggregate(config: Any, out: Path) -> dict[str, Any]:
    """Read every finished unit of a study and aggregate over seeds."""
    conditions = [RANDOM, *config.shapings]
    per: dict[str, dict[int, dict[str, Any]]] = {c: {} for c in conditions}
    speeds = []
    for condition in conditions:
        for seed in config.seeds:
            path = Unit(condition, seed).folder(out) / "result.json"
            if path.is_file():
                result = json.loads(path.read_text(encoding="utf-8"))
                per[condition][seed] = _unit_means(result, config.axis)
                if result.get("train"):
                    speeds.append(result["train"]["steps_per_second"])
    summary: dict[str, Any] = {"axis": config.axis, "conditions": {}, "paired_vs_unshaped": {}}
    keys = [*METRICS, "axis"] if config.axis else list(METRICS)
    for condition in conditions:
        seeds = per[condition]
        summary["conditions"][condition] = {
            "seeds": sorted(seeds),
            **{k: mean_interval([m[k] for m in seeds.values()]) for k in keys},
        }
    if "none" in per:
        base = per["none"]
        for condition in conditions:
            if condition in ("none",):
                continue
            common = sorted(set(base) & set(per[condition]))
            summary["paired_vs_unshaped"][condition] = {
                k: mean_interval(
                    [
                        per[condition][s][k] - base[s][k]
                        for s in common
                        if per[condition][s][k] is not None and base[s][k] is not None
                    ]
                )
                for k in keys
            }
    summary["train_steps_per_second"] = mean_interval(speeds)
    summary["per_seed"] = {c: {str(s): m for s, m in per[c].items()} for c in conditions}
    return summary


def _fmt(stat: dict[str, Any], digits: int = 2) -> str:
    if stat["mean"] is None:
        return "n/a"
    if stat["ci95"] is None:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['ci95']:.{digits}f}"


def axis_label(axis: str | None) -> str:
    """How the Pareto plot names its x axis."""
    if axis == "bad_others":
        return "immorality (bad_others per episode)"
    return f"{axis} total per episode" if axis else "no value axis"


def write_report(config: Any, out: Path) -> dict[str, Any]:
    """Write ``results.json``, ``report.md``, ``pareto.png`` and ``curves.png``; return the results."""
    out = Path(out)
    summary = aggregate(config, out)
    (out / "results.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    plots = _plots(config, out, summary)
    lines = [
        f"# Study: {config.env}",
        "",
        f"DRRN ({config.encoder} encoders, gamma {config.gamma}, learning rate "
        f"{config.learning_rate}, target network "
        + (f"copied every {config.target_update} updates" if config.target_update else "off")
        + f"), {config.steps} training steps per unit, episodes of at most "
        f"{config.max_episode_steps} steps, candidates: {config.candidates}; evaluation: "
        f"{config.eval_episodes} episodes per unit at epsilon {config.eval_epsilon}. Seeds: "
        f"{config.seeds}. Means over seeds with 95% t intervals (n = seeds).",
        "",
        f"| condition | seeds | score | game return | completion % | {config.axis or 'axis'} |",
        "|---|---|---|---|---|---|",
    ]
    for condition, stats in summary["conditions"].items():
        axis = _fmt(stats["axis"]) if config.axis else "-"
        lines.append(
            f"| {condition} | {len(stats['seeds'])} | {_fmt(stats['score'])} | "
            f"{_fmt(stats['original_return'])} | {_fmt(stats['percent_completion'], 1)} | {axis} |"
        )
    if summary["paired_vs_unshaped"]:
        lines += [
            "",
            "Paired by seed, condition minus unshaped (95% t interval; an interval holding 0 is "
            "no measured difference):",
            "",
            f"| condition | Δ score | Δ {config.axis or 'axis'} |",
            "|---|---|---|",
        ]
        for condition, stats in summary["paired_vs_unshaped"].items():
            axis = _fmt(stats["axis"]) if config.axis else "-"
            lines.append(f"| {condition} | {_fmt(stats['score'])} | {axis} |")
    speed = summary["train_steps_per_second"]
    lines += ["", f"Training speed: {_fmt(speed, 1)} env steps/s (DRRN updates included).", ""]
    lines += [f"![{name}]({name})" for name in plots]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary


def _curves(config: Any, out: Path, condition: str, bins: int = 10) -> list[list[float | None]]:
    """Per seed, the mean game return of the training episodes ending in each of ``bins`` bins."""
    width = config.steps / bins
    rows = []
    for seed in config.seeds:
        path = Unit(condition, seed).folder(out) / "curve.jsonl"
        if not (Unit(condition, seed).folder(out) / "result.json").is_file():
            continue
        sums, counts = [0.0] * bins, [0] * bins
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            b = min(bins - 1, int((rec["end_step"] - 1) / width))
            sums[b] += rec["original_return"]
            counts[b] += 1
        rows.append([s / c if c else None for s, c in zip(sums, counts, strict=True)])
    return rows


def _plots(config: Any, out: Path, summary: dict[str, Any]) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = []
    if config.axis:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for condition, stats in summary["conditions"].items():
            x, y = stats["axis"], stats["score"]
            if x["mean"] is None or y["mean"] is None:
                continue
            ax.errorbar(
                x["mean"], y["mean"], xerr=x["ci95"] or 0, yerr=y["ci95"] or 0,
                fmt="s" if condition == "random" else "o", capsize=4, label=condition,
            )  # fmt: skip
        ax.set_xlabel(axis_label(config.axis))
        ax.set_ylabel("game score at episode end")
        ax.set_title(f"{config.env}: score vs {config.axis} (95% CI over seeds)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "pareto.png", dpi=110)
        plt.close(fig)
        names.append("pareto.png")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    bins = 10
    xs = [(i + 0.5) * config.steps / bins for i in range(bins)]
    for condition in config.shapings:
        rows = _curves(config, out, condition, bins)
        if not rows:
            continue
        stats = [mean_interval([r[i] for r in rows if r[i] is not None]) for i in range(bins)]
        pts = [(x, s["mean"], s["ci95"] or 0.0) for x, s in zip(xs, stats, strict=True)]
        pts = [p for p in pts if p[1] is not None]
        line = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=condition)[0]
        ax.fill_between(
            [p[0] for p in pts], [p[1] - p[2] for p in pts], [p[1] + p[2] for p in pts],
            color=line.get_color(), alpha=0.15,
        )  # fmt: skip
    rand = summary["conditions"].get("random", {}).get("original_return", {}).get("mean")
    if rand is not None:
        ax.axhline(rand, color="gray", linestyle="--", label="random agent (eval)")
    ax.set_xlabel("training env steps")
    ax.set_ylabel("game return per training episode")
    ax.set_title(f"{config.env}: learning curves (mean, 95% CI over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=110)
    plt.close(fig)
    names.append("curves.png")
    return names


__all__ = ["aggregate", "axis_label", "mean_interval", "write_report"]
