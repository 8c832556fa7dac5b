"""``s2b report RUN_DIR``: a finished (or partial) bench run as tables, plots and a CSV file.

Reads ``RUN/bench.json`` and ``RUN/units.jsonl`` (the contract in ``s2b bench``'s docs) and writes

* ``RUN/report.md``: the headline table per agent and env (score, percent completion, reward,
  Jiminy immorality; then Jiminy's other components, verdict shares of judgment envs,
  hand-labelled and judged value totals), each mean with its 95% bootstrap interval over episodes
  and n; each agent's shift from the baseline per metric and per value; for an agent whose
  adapter comes from an ``s2b align`` run, its in-domain held-out survey shift beside its
  out-of-domain shifts (and aligned − placebo when the bench has that run's placebo); failed
  units counted and listed, never averaged;
* ``RUN/results.csv``: one row per agent, env and metric (mean, lo, hi, n);
  ``RUN/shifts.csv``: one row per agent, env and metric of the shift from the baseline;
* ``RUN/shift.png`` (the 20-value behaviour shift) and, with Jiminy envs, ``RUN/tradeoff.png``
  (reward against immorality per agent, see :mod:`agents.bench.plots`).

The same run gives the same bytes (seeded bootstrap, fixed order, no timestamps).

Metric names: ``score``, ``percent_completion``, ``total_reward``, ``steps``, ``immorality``,
``bad_self``, ``good_others``, ``good_self``, ``value:<value_id>`` (hand-labelled totals),
``verdict:<code>`` (share of the episode's verdicts), ``judged:<value_id>`` (the judge's totals).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.bench.align_info import AlignInfo, find_align_run, matching_placebo
from agents.bench.stats import Interval, mean_interval, shift
from s2b_env.errors import DataError
from s2b_env.scenarios.verdicts import VERDICTS
from s2b_env.values import VALUE_IDS

#: ``bench.json``'s format tag.
BENCH_FORMAT = "s2b-bench/1"
#: Headline metrics, in table order, with their column labels.
HEADLINE = {"score": "score", "percent_completion": "% completion",
            "total_reward": "reward", "immorality": "immorality"}  # fmt: skip
#: Jiminy Cricket's other morality components.
JIMINY_OTHER = {"bad_self": "harm to self", "good_others": "help to others",
                "good_self": "help to self"}  # fmt: skip
SCALARS = (*HEADLINE, "steps", *JIMINY_OTHER)

Key = tuple[int, int]  # (seed, episode) within one env


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def unit_metrics(record: Mapping[str, Any]) -> dict[str, float]:
    """Every metric of one finished unit (see the module docstring for the names)."""
    result = record.get("result") or {}
    found = {k: _number(result.get(k)) for k in ("score", "percent_completion", "total_reward",
                                                  "steps")}  # fmt: skip
    metrics = result.get("metrics") or {}
    found.update({k: _number(metrics.get(k)) for k in ("immorality", *JIMINY_OTHER)})
    out = {k: v for k, v in found.items() if v is not None}
    for prefix, totals in (
        ("value", metrics.get("value_totals")),
        ("judged", record.get("judged")),
    ):
        if isinstance(totals, Mapping):
            extra = sorted(k for k in totals if k not in VALUE_IDS)
            for vid in (*VALUE_IDS, *extra):
                out[f"{prefix}:{vid}"] = _number(totals.get(vid, 0.0)) or 0.0
    verdicts = record.get("verdicts")
    if isinstance(verdicts, Mapping):
        total = sum(_number(n) or 0.0 for n in verdicts.values())
        for code in (*VERDICTS, *sorted(k for k in verdicts if k not in VERDICTS)):
            out[f"verdict:{code}"] = (
                (_number(verdicts.get(code, 0)) or 0.0) / total if total else 0.0
            )
    return out


def metric_order(name: str) -> tuple[int, int, str]:
    """Sort key: the headline first, then Jiminy's components, values, verdicts, judged values."""
    if name in SCALARS:
        return (0, SCALARS.index(name), "")
    prefix, _, rest = name.partition(":")
    group = {"value": 1, "verdict": 2, "judged": 3}.get(prefix, 4)
    order = VALUE_IDS if prefix != "verdict" else VERDICTS
    return (group, order.index(rest) if rest in order else len(order), rest)


@dataclass
class BenchRun:
    """A bench run folder read back: the config and the last record of every finished unit."""

    run_dir: Path
    config: dict[str, Any]
    records: list[dict[str, Any]]

    @property
    def agents(self) -> list[str]:
        named = [a.get("name") for a in self.config.get("agents") or [] if isinstance(a, Mapping)]
        seen = [r["agent"] for r in self.records]
        return list(dict.fromkeys([*(n for n in named if n in seen), *seen]))

    @property
    def envs(self) -> list[str]:
        named = [e.get("name") for e in self.config.get("envs") or [] if isinstance(e, Mapping)]
        seen = [r["env"] for r in self.records]
        return list(dict.fromkeys([*(n for n in named if n in seen), *seen]))

    @property
    def baseline(self) -> str | None:
        base = self.config.get("baseline")
        return base if base in self.agents else None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") != "ok"]

    def agent_spec(self, agent: str) -> dict[str, Any]:
        for spec in self.config.get("agents") or []:
            if isinstance(spec, Mapping) and spec.get("name") == agent:
                return dict(spec)
        return {}


def load_run(run_dir: str | Path) -> BenchRun:
    """Read a bench run folder.

    Raises:
        DataError: The folder is no bench run (no ``bench.json`` of format ``s2b-bench/1``), or a
            line of ``units.jsonl`` other than a torn last one is not a unit record.
    """
    run = Path(run_dir)
    meta = run / "bench.json"
    hint = "expected a folder made by `s2b bench CONFIG.yaml` (bench.json and units.jsonl)"
    if not meta.is_file():
        raise DataError(run, "not an s2b bench run (no bench.json)", fix=hint)
    try:
        head = json.loads(meta.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(meta, f"not valid JSON ({exc})", fix=hint) from None
    if not isinstance(head, dict) or head.get("format") != BENCH_FORMAT:
        got = head.get("format") if isinstance(head, dict) else type(head).__name__
        raise DataError(meta, f"is {got!r}, expected {BENCH_FORMAT!r}", field="format", fix=hint)
    units = run / "units.jsonl"
    lines = units.read_text(encoding="utf-8").splitlines() if units.is_file() else []
    by_id: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # a torn tail: the unit was in flight
                break
            raise DataError(units, "not a JSON line; the file is damaged", line=number) from None
        if not isinstance(record, dict) or record.get("type") != "unit":
            continue
        missing = [k for k in ("unit_id", "agent", "env", "seed", "episode", "status")
                   if k not in record]  # fmt: skip
        if missing:
            raise DataError(units, "unit record without this field", line=number, field=missing[0])
        by_id.pop(record["unit_id"], None)
        by_id[record["unit_id"]] = record
    return BenchRun(run, dict(head.get("config") or {}), list(by_id.values()))


@dataclass
class Summary:
    """Everything a report shows, computed once.

    Attributes:
        run: The run read back.
        cells: (agent, env) -> metric -> (seed, episode) -> number, over units that finished ok.
        means: (agent, env, metric) -> :class:`Interval` of the mean over episodes.
        shifts: (agent, env, metric) -> shift from the baseline; env ``"all"`` pools every env
            that has the metric (keys ``(env, seed, episode)``).
        align: agent -> its ``s2b align`` run, when its adapter has one.
        placebo_shifts: (agent, env, metric) -> aligned − its placebo agent, when in the bench.
    """

    run: BenchRun
    cells: dict[tuple[str, str], dict[str, dict[Key, float]]] = field(default_factory=dict)
    means: dict[tuple[str, str, str], Interval] = field(default_factory=dict)
    shifts: dict[tuple[str, str, str], Interval] = field(default_factory=dict)
    align: dict[str, AlignInfo] = field(default_factory=dict)
    placebo_of: dict[str, str] = field(default_factory=dict)
    placebo_shifts: dict[tuple[str, str, str], Interval] = field(default_factory=dict)

    def metrics(self, env: str | None = None) -> list[str]:
        """Metrics present (in some agent's units) in ``env``, or anywhere, in table order."""
        names = {m for (a, e), by in self.cells.items() if env in (None, e) for m in by}
        return sorted(names, key=metric_order)

    def nonzero(self, metric: str, env: str | None = None) -> bool:
        """Some unit has a nonzero value of ``metric`` (in ``env``)."""
        return any(x != 0 for (a, e), by in self.cells.items() if env in (None, e)
                   for x in by.get(metric, {}).values())  # fmt: skip


def _pairwise(
    cells: Mapping[tuple[str, str], Mapping[str, Mapping[Key, float]]],
    agent: str, other: str, envs: list[str], metrics: list[str],
) -> dict[tuple[str, str, str], Interval]:  # fmt: skip
    out: dict[tuple[str, str, str], Interval] = {}
    for metric in metrics:
        pooled_a: dict[tuple[str, int, int], float] = {}
        pooled_b: dict[tuple[str, int, int], float] = {}
        for env in envs:
            a = cells.get((agent, env), {}).get(metric, {})
            b = cells.get((other, env), {}).get(metric, {})
            if a and b:
                out[(agent, env, metric)] = shift(a, b)
                pooled_a.update({(env, *k): x for k, x in a.items()})
                pooled_b.update({(env, *k): x for k, x in b.items()})
        if pooled_a and len({k[0] for k in pooled_a}) > 1:
            out[(agent, "all", metric)] = shift(pooled_a, pooled_b)
    return out


def summarize(run: BenchRun) -> Summary:
    """Intervals of every (agent, env, metric) and shifts from the baseline."""
    summary = Summary(run)
    for record in run.records:
        if record.get("status") != "ok":
            continue
        by = summary.cells.setdefault((record["agent"], record["env"]), {})
        for name, x in unit_metrics(record).items():
            by.setdefault(name, {})[(int(record["seed"]), int(record["episode"]))] = x
    for (agent, env), by in summary.cells.items():
        for name, values in by.items():
            summary.means[(agent, env, name)] = mean_interval([values[k] for k in sorted(values)])
    metrics = summary.metrics()
    base = run.baseline
    for agent in run.agents:
        if base and agent != base:
            summary.shifts.update(_pairwise(summary.cells, agent, base, run.envs, metrics))
        info = find_align_run(run.agent_spec(agent).get("adapter"), run.run_dir)
        if info is not None:
            summary.align[agent] = info
    for agent, info in summary.align.items():
        placebo = matching_placebo(info, summary.align)
        if placebo is not None:
            summary.placebo_of[agent] = placebo
            values = [m for m in metrics if m.startswith(("value:", "judged:"))]
            summary.placebo_shifts.update(
                _pairwise(summary.cells, agent, placebo, run.envs, values)
            )
    return summary


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    right = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(right) + " |"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows] + [""]


def _cell(interval: Interval | None, n: int, *, signed: bool = False) -> str:
    if interval is None or interval.n == 0:
        return "–"
    text = interval.format(signed=signed)
    return text if interval.n == n else f"{text} (n={interval.n})"


def _counts(summary: Summary, agent: str, env: str) -> tuple[int, int]:
    rows = [r for r in summary.run.records if r["agent"] == agent and r["env"] == env]
    ok = sum(r.get("status") == "ok" for r in rows)
    return ok, len(rows) - ok


def headline_rows(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """The headline table: agent, env, ok/failed units, then each headline metric present."""
    present = [m for m in HEADLINE if m in summary.metrics()]
    header = ["agent", "env", "n ok", "failed", *(HEADLINE[m] for m in present)]
    rows = []
    for agent in summary.run.agents:
        for env in summary.run.envs:
            ok, bad = _counts(summary, agent, env)
            if ok + bad == 0:
                continue
            cells = [_cell(summary.means.get((agent, env, m)), ok) for m in present]
            rows.append([agent, env, str(ok), str(bad), *cells])
    return header, rows


def _per_env_table(summary: Summary, title: str, metrics: list[str], label) -> list[str]:
    lines: list[str] = []
    for env in summary.run.envs:
        shown = [m for m in metrics if m in summary.metrics(env) and summary.nonzero(m, env)]
        if not shown:
            continue
        agents = [a for a in summary.run.agents if (a, env) in summary.cells]
        rows = [[label(m)] + [_cell(summary.means.get((a, env, m)), _counts(summary, a, env)[0])
                              for a in agents] for m in shown]  # fmt: skip
        lines += [f"### {title}: {env}", "", *_md_table(["", *agents], rows)]
    return lines


def moved_lines(summary: Summary) -> list[str]:
    """One line per agent and env: which metrics' shifts exclude 0 and how many did not."""
    lines = []
    base = summary.run.baseline
    for agent in summary.run.agents:
        if agent == base:
            continue
        for env in [*summary.run.envs, "all"]:
            keyed = [(m, s) for (a, e, m), s in summary.shifts.items()
                     if a == agent and e == env
                     and summary.nonzero(m, None if env == "all" else env)]  # fmt: skip
            if not keyed:
                continue
            keyed.sort(key=lambda item: metric_order(item[0]))
            moved = [f"{m} {s.format(signed=True)}{' (episodes alike)' if s.low == s.high else ''}"
                     for m, s in keyed if s.excludes_zero]  # fmt: skip
            where = "all envs pooled" if env == "all" else env
            lines.append(
                f"{agent} vs {base} on {where}: "
                + (f"moved (95% interval excludes 0): {'; '.join(moved)}" if moved else
                   "nothing moved (every 95% interval includes 0)")
                + f"; {len(keyed) - len(moved)} of {len(keyed)} metrics did not move"
            )  # fmt: skip
    return lines


def _shift_section(summary: Summary) -> list[str]:
    base = summary.run.baseline
    if base is None:
        return ["No baseline agent in this run (config `baseline`), so no shifts.", ""]
    lines = [f"## Shift from the baseline `{base}`", "",
             "Mean difference from the baseline with a 95% bootstrap interval; paired by unit "
             "when both played the same (env, seed, episode). **moved**: the interval excludes 0.",
             ""]  # fmt: skip
    for agent in summary.run.agents:
        if agent == base:
            continue
        rows = []
        for env in [*summary.run.envs, "all"]:
            for metric in summary.metrics():
                s = summary.shifts.get((agent, env, metric))
                if s is None or not summary.nonzero(metric, None if env == "all" else env):
                    continue
                rows.append([env, metric, s.format(signed=True), str(s.n),
                             "paired" if s.paired else "unpaired",
                             "**moved**" if s.excludes_zero else ""])  # fmt: skip
        if rows:
            lines += [f"### {agent} − {base}", ""]
            lines += _md_table(["env", "metric", "shift [95% CI]", "n", "", ""], rows)
    return [*lines, *(f"- {line}" for line in moved_lines(summary)), ""]


def _per_value_section(summary: Summary) -> list[str]:
    """Per value: in-domain survey shift (align run) beside the behaviour shifts."""
    lines: list[str] = []
    base = summary.run.baseline
    for agent in summary.run.agents:
        info = summary.align.get(agent)
        envs = [e for e in [*summary.run.envs, "all"]
                if any((agent, e, f"value:{v}") in summary.shifts for v in VALUE_IDS)]  # fmt: skip
        placebo = summary.placebo_of.get(agent)
        if agent == base or (info is None and not envs):
            continue
        header = ["value"]
        if info is not None:
            header.append("survey held-out (in domain)")
            if info.vs_placebo:
                header.append("survey − placebo")
        header += [f"{e} (behaviour)" for e in envs]
        if placebo:
            header += [f"{e} − {placebo}" for e in envs]
        rows = []
        for vid in VALUE_IDS:
            row = [vid]
            if info is not None:
                row.append(info.survey[vid].format(signed=True) if vid in info.survey else "–")
                if info.vs_placebo:
                    got = info.vs_placebo.get(vid)
                    row.append(got.format(signed=True) if got else "–")
            for table in [summary.shifts] + ([summary.placebo_shifts] if placebo else []):
                for env in envs:
                    s = table.get((agent, env, f"value:{vid}"))
                    row.append(s.format(signed=True) + (" *" if s.excludes_zero else "")
                               if s is not None else "–")  # fmt: skip
            if any(c != "–" for c in row[1:]):
                rows.append(row)
        title = f"### Per value: {agent} − {base}"
        note = []
        if info is not None:
            note = [f"Adapter from the `s2b align` run `{info.run}` ({info.describe()})."]
        lines += [title, "", *note, "", *_md_table(header, rows)]
    if lines:
        lines = ["## The question per value: survey shift beside behaviour shift", "",
                 "Survey columns: held-out items' expected rating, aligned − base (from the align "
                 "run's results.json). Behaviour columns: value totals per episode, agent − "
                 "baseline; * the interval excludes 0.", "", *lines]  # fmt: skip
    return lines


def report_markdown(summary: Summary, plots: list[str]) -> str:
    """The report as Markdown (no timestamps: same run, same text)."""
    run = summary.run
    name = run.config.get("name") or run.run_dir.name
    n_ok = len(run.records) - len(run.failed)
    lines = [f"# s2b bench report: {name}", "",
             f"- agents: {', '.join(run.agents)} (baseline: {run.baseline or 'none'})",
             f"- envs: {', '.join(run.envs)}",
             f"- seeds: {run.config.get('seeds')}, episodes per seed: {run.config.get('episodes')}",
             f"- units: {n_ok} ok, {len(run.failed)} failed (failed units are listed at the "
             "end, not averaged)",
             "- intervals: 95% percentile bootstrap over episodes (seeded)", "",
             "## Headline", ""]  # fmt: skip
    lines += _md_table(*headline_rows(summary))
    lines += _per_env_table(summary, "Jiminy Cricket components", list(JIMINY_OTHER),
                            JIMINY_OTHER.get)  # fmt: skip
    label = lambda m: m.partition(":")[2]  # noqa: E731
    metrics = summary.metrics()
    for prefix, title in (("verdict", "Verdict shares"), ("value", "Hand-labelled value totals"),
                          ("judged", "Judged value totals")):  # fmt: skip
        lines += _per_env_table(summary, title, [m for m in metrics if m.startswith(prefix + ":")],
                                label)  # fmt: skip
    lines += _shift_section(summary)
    lines += _per_value_section(summary)
    if plots:
        lines += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    if run.failed:
        lines += [f"## Failed units ({len(run.failed)})", ""]
        lines += [f"- `{r['unit_id']}` after {r.get('attempts', '?')} attempt(s): "
                  f"{(r.get('error') or 'no error recorded').splitlines()[0]}"
                  for r in run.failed]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _num(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.10g}"


def write_report(run_dir: str | Path) -> Path:
    """Write report.md, results.csv, shifts.csv and the plots into the run folder.

    Returns:
        The path of ``report.md``.

    Raises:
        DataError: The folder is no bench run (see :func:`load_run`).
    """
    from agents.bench.plots import plot_shift, plot_tradeoff

    summary = summarize(load_run(run_dir))
    run_dir = summary.run.run_dir
    plots = [p.name for p in (plot_shift(summary, run_dir / "shift.png"),
                              plot_tradeoff(summary, run_dir / "tradeoff.png")) if p]  # fmt: skip
    order = {(a, e): i for i, (a, e) in enumerate(
        (a, e) for a in summary.run.agents for e in [*summary.run.envs, "all"])}  # fmt: skip
    rows = [[a, e, m, _num(s.mean), _num(s.low), _num(s.high), s.n]
            for (a, e, m), s in sorted(summary.means.items(),
                                       key=lambda kv: (order[kv[0][:2]], metric_order(kv[0][2])))]  # fmt: skip
    (run_dir / "results.csv").write_text(
        _csv(["agent", "env", "metric", "mean", "lo", "hi", "n"], rows), encoding="utf-8"
    )
    shift_rows = [[a, summary.run.baseline, e, m, _num(s.mean), _num(s.low), _num(s.high), s.n,
                   int(s.paired)]
                  for (a, e, m), s in sorted(summary.shifts.items(),
                                             key=lambda kv: (order[kv[0][:2]], metric_order(kv[0][2])))]  # fmt: skip
    (run_dir / "shifts.csv").write_text(
        _csv(["agent", "baseline", "env", "metric", "shift", "lo", "hi", "n", "paired"],
             shift_rows), encoding="utf-8",
    )  # fmt: skip
    path = run_dir / "report.md"
    path.write_text(report_markdown(summary, plots), encoding="utf-8")
    return path
