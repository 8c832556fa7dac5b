"""``write_report`` and ``s2b report`` on run folders written here in the bench's exact format
(``RUN/bench.json`` and ``RUN/units.jsonl``, /work/tools/BENCH_API.md), with numbers whose means and
intervals are derived by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agents.bench.report import load_run, summarize, write_report
from s2b.cli import main
from s2b_env.errors import DataError
from tests.conftest import console_text

CONFIG = {
    "name": "hand-made",
    "agents": [{"name": "random", "kind": "random"},
               {"name": "base", "kind": "llm", "model": "default"},
               {"name": "up", "kind": "llm", "adapter": None}],
    "baseline": "base",
    "envs": [{"name": "lastferry", "id": "s2b-lastferry"}, {"name": "dilemma", "id": "dilemma"},
             {"name": "zork1", "id": "jiminy-zork1"}],
    "seeds": [0, 1], "episodes": 1,
}  # fmt: skip


def unit(agent, env, seed, *, score=None, immorality=None, values=None, verdicts=None,
         status="ok", error=None, judged=None) -> dict:  # fmt: skip
    metrics = {}
    if immorality is not None:
        metrics.update(immorality=immorality, bad_self=0.0, good_others=1.0, good_self=0.0)
    if values is not None:
        metrics["value_totals"] = values
    result = {"episode_id": 0, "seed": seed * 1000, "steps": 3, "total_reward": score or 0.0,
              "start_score": 0, "score": score, "max_score": 10,
              "percent_completion": None if score is None else 10.0 * score,
              "moves": 3, "terminated": True, "truncated": False, "victory": False,
              "end_reason": "terminated", "end_detail": "", "seconds": 0.1, "metrics": metrics}  # fmt: skip
    return {"type": "unit", "format": 1, "unit_id": f"{agent}/{env}/s{seed}/e0", "agent": agent,
            "env": env, "env_id": f"s2b/{env}-v0", "seed": seed, "episode": 0,
            "reset_seed": seed * 1000, "status": status, "attempts": 1 if status == "ok" else 2,
            "error": error, "result": result if status == "ok" else None, "verdicts": verdicts,
            "judged": judged, "seconds": 1.5}  # fmt: skip


def write_run(run: Path, records: list[dict], config: dict = CONFIG, tail: str = "") -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "bench.json").write_text(json.dumps(
        {"format": "s2b-bench/1", "config": config, "config_hash": "x"}))  # fmt: skip
    (run / "units.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return run


def standard_records() -> list[dict]:
    recs = []
    for seed, (s_base, s_up) in enumerate([(0.0, 1.0), (1.0, 2.0)]):
        recs.append(unit("base", "lastferry", seed, score=s_base,
                         values={"benevolence_caring": 2.0, "power_dominance": 1.0}))  # fmt: skip
        recs.append(unit("up", "lastferry", seed, score=s_up,
                         values={"benevolence_caring": 3.0, "power_dominance": 1.0}))  # fmt: skip
        recs.append(unit("random", "lastferry", seed, score=0.0, values={}))
        recs.append(unit("base", "zork1", seed, score=5.0, immorality=2.0))
        recs.append(unit("up", "zork1", seed, score=5.0, immorality=float(seed)))
        recs.append(unit("base", "dilemma", seed, values={"achievement": 1.0},
                         verdicts={"NTA": 1} if seed else {"YTA": 1}))  # fmt: skip
        recs.append(unit("up", "dilemma", seed, values={"achievement": 1.0}, verdicts={"NTA": 1}))
    recs.append(unit("random", "zork1", 0, status="failed", error="worker hung for 300 s\nmore"))
    return recs


def read_csv(path: Path) -> dict[tuple, dict]:
    with path.open() as f:
        return {(r["agent"], r["env"], r["metric"]): r for r in csv.DictReader(f)}


def test_means_intervals_and_n_by_hand(tmp_path) -> None:
    run = write_run(tmp_path / "run", standard_records())
    assert write_report(run) == run / "report.md"
    rows = read_csv(run / "results.csv")
    # base's lastferry scores 0 and 1: mean 0.5, the bootstrap's tails are the two points.
    assert rows[("base", "lastferry", "score")] | {} == {
        "agent": "base", "env": "lastferry", "metric": "score", "mean": "0.5", "lo": "0",
        "hi": "1", "n": "2"}  # fmt: skip
    assert rows[("base", "lastferry", "percent_completion")]["mean"] == "5"
    # A value the unit does not list counts 0 (value_totals are sparse).
    assert rows[("random", "lastferry", "value:benevolence_caring")]["mean"] == "0"
    assert rows[("base", "lastferry", "value:benevolence_caring")]["hi"] == "2"
    # Verdict shares over episodes: base said YTA once and NTA once.
    assert rows[("base", "dilemma", "verdict:NTA")]["mean"] == "0.5"
    assert rows[("up", "dilemma", "verdict:NTA")]["lo"] == "1"
    assert rows[("up", "zork1", "immorality")]["mean"] == "0.5"
    # The failed unit is counted and listed, never averaged.
    assert not any(k[:2] == ("random", "zork1") for k in rows)
    md = (run / "report.md").read_text()
    assert "1 failed" in md
    assert "- `random/zork1/s0/e0` after 2 attempt(s): worker hung for 300 s" in md
    assert "| random | zork1 | 0 | 1 |" in md
    assert "| base | lastferry | 2 | 0 | 0.50 [0.00, 1.00] |" in md


def test_shifts_from_the_baseline_are_paired_by_unit(tmp_path) -> None:
    run = write_run(tmp_path / "run", standard_records())
    write_report(run)
    with (run / "shifts.csv").open() as f:
        shifts = {(r["agent"], r["env"], r["metric"]): r for r in csv.DictReader(f)}
    # up scores exactly 1 more than base on each (seed, episode): paired shift 1 [1, 1].
    got = shifts[("up", "lastferry", "score")]
    assert (got["shift"], got["lo"], got["hi"], got["n"], got["paired"]) == (
        "1",
        "1",
        "1",
        "2",
        "1",
    )
    assert shifts[("up", "lastferry", "value:benevolence_caring")]["shift"] == "1"
    # Immorality 0 and 1 against 2 and 2: differences -2, -1 -> mean -1.5 in [-2, -1].
    got = shifts[("up", "zork1", "immorality")]
    assert (got["shift"], got["lo"], got["hi"]) == ("-1.5", "-2", "-1")
    # random is compared too; "all" pools the value totals of both envs that label values.
    assert shifts[("random", "lastferry", "value:benevolence_caring")]["shift"] == "-2"
    assert shifts[("up", "all", "value:benevolence_caring")]["n"] == "4"
    md = (run / "report.md").read_text()
    assert "### up − base" in md
    assert (
        "up vs base on lastferry: moved (95% interval excludes 0): score +1.00 [+1.00, +1.00]" in md
    )
    assert "up vs base on dilemma: nothing moved" in md


def test_report_is_deterministic_and_plots_exist(tmp_path, console) -> None:
    run = write_run(tmp_path / "run", standard_records())
    assert main(["report", str(run)], console=console) == 0, console_text(console)
    names = ["report.md", "results.csv", "shifts.csv", "shift.png", "tradeoff.png"]
    first = {n: (run / n).read_bytes() for n in names}
    assert first["shift.png"][:8] == b"\x89PNG\r\n\x1a\n"
    for n in names:
        (run / n).unlink()
    assert main(["report", str(run)], console=console) == 0
    assert {n: (run / n).read_bytes() for n in names} == first
    out = console_text(console)
    assert "headline" in out and "lastferry" in out


def test_torn_tail_and_rerun_duplicates_count_once(tmp_path) -> None:
    recs = standard_records()
    retried = unit("random", "zork1", 0, score=3.0, immorality=1.0)
    run = write_run(tmp_path / "run", [*recs, retried], tail='{"type": "unit", "unit_i')
    loaded = load_run(run)
    assert len(loaded.records) == len({r["unit_id"] for r in loaded.records}) == len(recs)
    summary = summarize(loaded)
    assert summary.means[("random", "zork1", "score")].n == 1 and not loaded.failed


def test_not_a_bench_run_is_one_line(tmp_path, console) -> None:
    assert main(["report", str(tmp_path)], console=console) == 2
    out = console_text(console)
    assert "not an s2b bench run (no bench.json)" in out and len(out.strip().splitlines()) == 1
    (tmp_path / "bench.json").write_text('{"format": "s2b-study/1"}')
    with pytest.raises(DataError, match="field 'format': is 's2b-study/1'"):
        load_run(tmp_path)
    write_run(tmp_path / "r", standard_records(), tail="")
    text = (tmp_path / "r" / "units.jsonl").read_text().splitlines()
    (tmp_path / "r" / "units.jsonl").write_text("\n".join([text[0], "{oops", *text[1:]]) + "\n")
    with pytest.raises(DataError, match=r"units.jsonl, line 2: not a JSON line"):
        load_run(tmp_path / "r")


def align_run(folder: Path, *, placebo: bool, shift: float, placebo_run: Path | None = None):
    """An `s2b align` run folder as training/align.py writes it (the fields the report reads)."""
    (folder / "adapter").mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "targets:\n  values: [benevolence_caring]\n  direction: up\n  delta: 2\n"
        f"  placebo: {'true' if placebo else 'false'}\n"
        f"eval:\n  placebo_run: {placebo_run or 'null'}\n"
    )
    rows = [{"value": "benevolence_caring", "role": "target", "n_items": 6, "baseline": 3.0,
             "aligned": 3.0 + shift, "shift": shift, "ci_low": shift - 0.1,
             "ci_high": shift + 0.1, "significant": True}]  # fmt: skip
    results = {"moved_values": ["benevolence_caring"], "direction": "up", "values": rows,
               "average_check": {"verdict": "item-specific"}}  # fmt: skip
    if placebo_run:
        results["vs_placebo"] = {"values": [{"value": "benevolence_caring", "n_items": 6,
                                             "diff": 0.5, "ci_low": 0.4, "ci_high": 0.6}]}  # fmt: skip
    (folder / "results.json").write_text(json.dumps(results))
    return folder / "adapter"


def test_align_adapter_survey_shift_beside_behaviour_and_placebo(tmp_path) -> None:
    placebo = align_run(tmp_path / "placebo", placebo=True, shift=0.2)
    aligned = align_run(tmp_path / "aligned", placebo=False, shift=0.7,
                        placebo_run=tmp_path / "placebo")  # fmt: skip
    config = dict(CONFIG, agents=[{"name": "base", "kind": "llm"},
                                  {"name": "up", "kind": "llm", "adapter": str(aligned)},
                                  {"name": "plac", "kind": "llm", "adapter": str(placebo)}])  # fmt: skip
    recs = []
    for seed in (0, 1):
        for agent, caring in (("base", 1.0), ("up", 4.0), ("plac", 2.0)):
            recs.append(unit(agent, "lastferry", seed, score=1.0,
                             values={"benevolence_caring": caring + seed}))  # fmt: skip
    run = write_run(tmp_path / "run", recs, config)
    write_report(run)
    md = (run / "report.md").read_text()
    assert "## The question per value" in md and "### Per value: up − base" in md
    assert "held-out verdict item-specific" in md
    section = md.split("### Per value: up − base")[1]
    row = next(line for line in section.splitlines() if line.startswith("| benevolence_caring |"))
    # survey shift, survey − placebo, behaviour shift (3 per unit), behaviour − placebo (2).
    assert row.split(" | ")[1:5] == ["+0.70 [+0.60, +0.80]", "+0.50 [+0.40, +0.60]",
                                     "+3.00 [+3.00, +3.00] *", "+2.00 [+2.00, +2.00] * |"]  # fmt: skip
    assert (run / "shift.png").is_file() and not (run / "tradeoff.png").exists()


def test_report_of_a_real_bench_run(tmp_path, console, games_dir) -> None:
    """A real `s2b bench` run (random agents, an own game, judgments, Zork through Jiminy
    Cricket), then `s2b report`: each mean in results.csv is the plain mean of units.jsonl."""
    config = tmp_path / "bench.yaml"
    config.write_text(
        "name: real\nagents:\n  - {name: a, kind: random}\n  - {name: b, kind: random}\n"
        "baseline: a\nenvs:\n  - {name: ferry, id: s2b-lastferry, max_steps: 12}\n"
        "  - {name: judgment, id: judgment, kwargs: {split: test}}\n"
        "  - {name: zork1, id: jiminy-zork1, kwargs: {starting_percentage: 0}, max_steps: 4}\n"
        "seeds: [0, 1, 2]\nepisodes: 1\nworkers: 1\n"
    )
    run = tmp_path / "run"
    args = ["bench", str(config), "--out", str(run), "--games-dir", str(games_dir)]
    assert main([*args, "--progress", "off", "--no-report"], console=console) == 0
    assert main(["report", str(run)], console=console) == 0, console_text(console)
    units = [json.loads(line) for line in (run / "units.jsonl").read_text().splitlines()]
    rows = read_csv(run / "results.csv")
    for agent in ("a", "b"):
        for env, metric, get in (
            ("ferry", "steps", lambda u: u["result"]["steps"]),
            ("judgment", "total_reward", lambda u: u["result"]["total_reward"]),
            ("zork1", "immorality", lambda u: u["result"]["metrics"]["immorality"]),
            ("judgment", "verdict:NTA", lambda u: (u["verdicts"] or {}).get("NTA", 0)),
        ):
            xs = [get(u) for u in units if u["agent"] == agent and u["env"] == env]
            assert len(xs) == 3
            row = rows[(agent, env, metric)]
            assert float(row["mean"]) == pytest.approx(sum(xs) / 3) and row["n"] == "3"
            assert float(row["lo"]) >= min(xs) - 1e-9 and float(row["hi"]) <= max(xs) + 1e-9
    # Random agents are reseeded from the same reset seed: the paired shift is exactly 0.
    with (run / "shifts.csv").open() as f:
        assert {(r["shift"], r["lo"], r["hi"], r["paired"]) for r in csv.DictReader(f)} == {
            ("0", "0", "0", "1")
        }
    assert (run / "tradeoff.png").is_file() and "immorality" in (run / "report.md").read_text()


def test_an_unnamed_placebo_stands_in_only_for_a_run_of_the_same_anchors(tmp_path) -> None:
    from agents.bench.align_info import find_align_run, matching_placebo

    hard = align_run(tmp_path / "hard-placebo", placebo=True, shift=0.1)
    soft = align_run(tmp_path / "soft-placebo", placebo=True, shift=0.0)
    text = (tmp_path / "soft-placebo" / "config.yaml").read_text()
    (tmp_path / "soft-placebo" / "config.yaml").write_text(
        text.replace("targets:\n", "targets:\n  anchors: soft\n")
    )
    aligned = align_run(tmp_path / "soft-run", placebo=False, shift=0.7)
    text = (tmp_path / "soft-run" / "config.yaml").read_text()
    (tmp_path / "soft-run" / "config.yaml").write_text(
        text.replace("targets:\n", "targets:\n  anchors: soft\n")
    )
    infos = {name: find_align_run(path, tmp_path) for name, path in
             (("hard-plac", hard), ("soft-plac", soft))}  # fmt: skip
    assert matching_placebo(find_align_run(aligned, tmp_path), infos) == "soft-plac"
    # The hard placebo alone is no control for a soft run.
    assert (
        matching_placebo(find_align_run(aligned, tmp_path), {"hard-plac": infos["hard-plac"]})
        is None
    )
