"""``s2b judge train|validate``: fine-tune a LoRA value judge; measure it against ground truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from s2b.cli._args import add_dataclass_args, dataclass_from_args, seed_value
from s2b.cli._common import add_progress

TRAIN_EPILOG = """examples:
  s2b run --env jiminy-zork1 --agent walkthrough --out runs/data/zork1-walk
  s2b run --env jiminy-zork1 --agent random --episodes 2 --max-steps 100 --out runs/data/zork1-random
  s2b judge train --out runs/judge/all --runs runs/data/zork1-walk runs/data/zork1-random
  s2b judge train --out runs/judge/no-zork1 --runs runs/data/*-walk --exclude zork1   # held out
  s2b score runs/some-run --adapter runs/judge/all/adapter
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    from training.align_config import LoraSettings, TrainConfig

    parser = subparsers.add_parser(
        "judge", help="train a LoRA value judge, or validate a judge against ground truth"
    )
    sub = parser.add_subparsers(dest="judge_command", metavar="SUBCOMMAND", required=True)

    train = sub.add_parser(
        "train",
        help="fine-tune a LoRA judge on labelled actions (dilemmas, own games, Jiminy)",
        description="Fine-tune a LoRA judge adapter (TRL + peft; lm_head is never adapted) on "
        "the dilemmas' train-split option effects and the labelled steps of finished runs "
        "(own games' value events, Jiminy Cricket harm labels; unlabelled steps are negatives). "
        "Writes OUT/adapter, OUT/examples.jsonl (the prompt/completion rows), OUT/judge.json.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--out", type=Path, required=True, help="run folder")
    train.add_argument("--model", default=None, help="base model folder (default: the default)")
    train.add_argument(
        "--runs",
        type=Path,
        nargs="*",
        default=[],
        help="finished runs (s2b run --out) whose labelled steps to learn from",
    )
    train.add_argument(
        "--no-dilemmas", action="store_true", help="leave out the dilemmas' train split"
    )
    train.add_argument(
        "--exclude",
        nargs="*",
        default=[],
        help="games or dilemma ids to leave out (a held-out game)",
    )
    train.add_argument(
        "--zero-share",
        type=float,
        default=0.1,
        help="share of zero value effects kept as examples (default 0.1)",
    )
    train.add_argument(
        "--negatives-per-positive",
        type=float,
        default=3.0,
        help="harm negatives kept per positive (default 3)",
    )
    train.add_argument(
        "--max-examples",
        type=int,
        default=None,
        help="keep at most this many examples (a quick run)",
    )
    train.add_argument(
        "--only",
        nargs="*",
        default=[],
        metavar="QUESTION",
        help="train only these questions (value ids, harm_others, harm_self; default: all)",
    )
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    add_progress(train)
    add_dataclass_args(train.add_argument_group("LoRA"), LoraSettings)
    add_dataclass_args(train.add_argument_group("training"), TrainConfig)
    train.set_defaults(handler=_train)

    validate = sub.add_parser(
        "validate",
        help="judge labelled steps and report AUROC, Spearman, sign accuracy with 95%% intervals",
        description="Measure a judge (zero-shot model or --adapter) against ground truth: "
        "Jiminy harm-to-others vs bad_others > 0 on the steps of --runs (beside always-0 and a "
        "verb-keyword rule), and the dilemmas' test split (per-value Spearman, sign accuracy).",
    )
    validate.add_argument(
        "--runs",
        type=Path,
        nargs="*",
        default=[],
        help="finished Jiminy runs (walkthrough and agent steps)",
    )
    validate.add_argument(
        "--baselines-only",
        action="store_true",
        help="only the always-0 and keyword baselines (no model)",
    )
    validate.add_argument(
        "--dilemmas", action="store_true", help="also judge the dilemmas' test split (values)"
    )
    validate.add_argument(
        "--own-runs",
        type=Path,
        nargs="*",
        default=[],
        help="finished runs of our own games: agreement with their value events",
    )
    validate.add_argument(
        "--negatives-per-positive",
        type=float,
        default=3.0,
        help="unlabelled steps sampled per harmful one, per run (default 3)",
    )
    validate.add_argument("--seed", type=seed_value, default=0, help="sampling and bootstrap seed")
    validate.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    validate.add_argument("--json", type=Path, default=None, help="write rows and metrics here")
    add_progress(validate)
    from s2b.cli.score import add_judge_args

    add_judge_args(validate)
    validate.set_defaults(handler=_validate)

    pool = sub.add_parser(
        "pool",
        help="pool the harm rows of several validations (leave-one-game-out folds) into one table",
        description="Read the harm rows (steps, labels, each scorer's score) that `s2b judge "
        "validate --json` wrote, e.g. one file per held-out game, and report AUROC, precision "
        "and recall of every scorer over all of them, per step kind and per game, with 95%% "
        "bootstrap intervals. Only scorers every file has are compared.",
    )
    pool.add_argument("files", type=Path, nargs="+", metavar="JSON", help="validation files")
    pool.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    pool.add_argument("--json", type=Path, default=None, help="write the pooled metrics here")
    pool.set_defaults(handler=_pool)


def _train(args: argparse.Namespace, console: Console) -> int:
    from training.align_config import LoraSettings, TrainConfig
    from training.judge_train import train_judge

    summary = train_judge(
        args.out, model=args.model, runs=args.runs, dilemmas=not args.no_dilemmas,
        exclude=args.exclude, zero_share=args.zero_share,
        negatives_per_positive=args.negatives_per_positive, max_examples=args.max_examples,
        only=args.only, lora=dataclass_from_args(LoraSettings, args), train=dataclass_from_args(TrainConfig, args),
        progress=args.progress, console=console, resume=args.resume,
    )  # fmt: skip
    train = summary["train"]
    console.print(
        f"judge adapter {train['adapter_dir']}: {summary['examples']} examples "
        f"({', '.join(f'{k} {v}' for k, v in summary['examples_by_source'].items())}), "
        f"{train['steps']} steps in {train['seconds']:.0f} s, final loss {train['final_loss']}",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _validate(args: argparse.Namespace, console: Console) -> int:
    from agents.judge.validate import harm_rows, harm_table

    judge = None if args.baselines_only else _make_judge(args)

    def progress(done: int, total: int) -> None:
        if args.progress != "off" and (done % 25 == 0 or done == total):
            console.print(f"judged {done}/{total} steps", highlight=False)

    report: dict = {}
    try:
        if args.runs:
            rows = harm_rows(judge, args.runs, negatives_per_positive=args.negatives_per_positive,
                             seed=args.seed, progress=progress)  # fmt: skip
            metrics = harm_table(rows, n_boot=args.boot)
            _print_harm(console, metrics, "harm to others vs bad_others > 0 (95% bootstrap)")
            report["harm"] = {"rows": rows, "metrics": metrics}
        if args.dilemmas and judge is not None:
            report["dilemmas"] = _dilemmas(judge, args, console)
        if args.own_runs and judge is not None:
            report["own_games"] = _own_games(judge, args, console)
    finally:
        if judge is not None:
            judge.close()
            judge.backend.close()
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 0


def _pool(args: argparse.Namespace, console: Console) -> int:
    from agents.judge.validate import harm_table
    from s2b_env.errors import DataError

    rows: list[dict] = []
    for path in args.files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = data["harm"]["rows"]
        except (ValueError, KeyError, TypeError):
            raise DataError(path, "expected the JSON `s2b judge validate --runs ... --json` "
                            "writes (harm rows)", field="harm") from None  # fmt: skip
        rows += found
    if not rows:
        raise DataError(args.files[0], "no harm rows to pool", field="harm")
    common = set.intersection(*(set(r["scores"]) for r in rows))
    rows = [{**r, "scores": {k: v for k, v in r["scores"].items() if k in common}} for r in rows]
    games = sorted({r["game"] for r in rows})
    report = {"files": [str(f) for f in args.files], "games": games,
              "pooled": harm_table(rows, n_boot=args.boot)}  # fmt: skip
    _print_harm(console, report["pooled"], f"pooled over {len(games)} games: {', '.join(games)}")
    report["per_game"] = {}
    for game in games:
        metrics = harm_table([r for r in rows if r["game"] == game], n_boot=args.boot)
        report["per_game"][game] = metrics
        _print_harm(console, [m for m in metrics if m["steps"] == "all"], f"held out: {game}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 0


def _print_harm(console: Console, metrics: list[dict], title: str) -> None:
    from agents.judge.validate import fmt_interval

    table = Table(title=title, title_justify="left")
    for column in ("steps", "scorer", "n", "pos", "AUROC", "precision@0.5", "recall@0.5"):
        table.add_column(column)
    for m in metrics:
        table.add_row(m["steps"], m["scorer"], str(m["n"]), str(m["positives"]),
                      fmt_interval(m["auroc"]), fmt_interval(m["precision"]),
                      fmt_interval(m["recall"]))  # fmt: skip
    console.print(table)


def _make_judge(args: argparse.Namespace):
    from s2b.cli.score import make_judge

    return make_judge(args)


def _dilemmas(judge, args: argparse.Namespace, console: Console) -> dict:
    from agents.judge.labels import dilemma_items
    from agents.judge.validate import fmt_interval, value_table
    from s2b_env.values import VALUE_IDS

    items = dilemma_items("test")
    scores = judge.score_many([i.item for i in items])
    predicted = [s.values.to_tuple() for s in scores]
    truth = [[i.labels[v] for v in VALUE_IDS] for i in items]
    result = value_table(predicted, truth, n_boot=args.boot)
    console.print(
        f"dilemmas (test split, {result['items']} options, {result['nonzero']} non-zero effects): "
        f"Spearman {fmt_interval(result['spearman_all'])}, sign accuracy "
        f"{fmt_interval(result['sign_accuracy'])}",
        highlight=False,
        soft_wrap=True,
    )
    return result


def _own_games(judge, args: argparse.Namespace, console: Console) -> dict:
    from agents.judge.labels import run_items
    from agents.judge.validate import fmt_interval, value_table
    from s2b_env.values import VALUE_IDS

    items = [i for run in args.own_runs for i in run_items(run) if i.source == "own-game"]
    if not items:
        raise ValueError("--own-runs: no step with value_effects; give runs of our own games")
    scores = judge.score_many([i.item for i in items])
    result = value_table(
        [s.values.to_tuple() for s in scores],
        [[i.labels[v] for v in VALUE_IDS] for i in items],
        n_boot=args.boot,
    )
    console.print(
        f"own games ({result['items']} steps, {result['nonzero']} non-zero effects): Spearman "
        f"{fmt_interval(result['spearman_all'])}, sign accuracy "
        f"{fmt_interval(result['sign_accuracy'])}",
        highlight=False,
        soft_wrap=True,
    )
    return result
