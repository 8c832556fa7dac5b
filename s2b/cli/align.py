"""``s2b align``: fine-tune a LoRA adapter on survey answers with values moved, and measure the shift.

Example::

    s2b align --value power_dominance --direction down --delta 2
    s2b align --value benevolence_caring --direction up --delta 2 --run-dir runs/align/bc-up
    s2b align --target-profile my_profile.json --preset gpu --model /models/llama-8b
    s2b align --config run.yaml --epochs 4
    s2b align --resume runs/align/bc-up

Settings resolve as dataclass defaults < ``--preset`` < ``--config`` YAML < options given here.
The run prints a table of per-value held-out shifts; the run folder holds everything else
(``summary.md``, ``shift.png``, ``results.json``, the adapter, the data, the logs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from s2b.cli._args import add_dataclass_args, config_errors
from s2b.cli._common import add_progress
from s2b_env.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``align``."""
    from training.align_config import PRESETS, SECTIONS

    parser = subparsers.add_parser(
        "align",
        help="fine-tune a LoRA adapter on survey answers with values moved; measure the shift",
        description="Baseline profile -> targets -> LoRA training (TRL SFTTrainer) -> held-out "
        "evaluation of the shift. Settings: defaults < --preset < --config < options.",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--model",
        default=argparse.SUPPRESS,
        help="base model folder (default: SmolLM2-135M-Instruct)",
    )
    run.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=argparse.SUPPRESS,
        help="starting settings: cpu (the recipe for the default model), demo (a few minutes "
        "on a 2-core CPU, one phrasing), gpu (7-8B, bf16), smoke (a minutes-long check) "
        "(default: cpu)",
    )
    run.add_argument("--config", type=Path, default=None, help="YAML file with settings")
    run.add_argument(
        "--run-dir", type=Path, default=None, help="run folder (default: runs/align/<time>-<what>)"
    )
    run.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run with its saved config.yaml",
    )
    add_progress(run)
    for name, cls in SECTIONS.items():
        # Only options given on the command line override the preset and the YAML file, so
        # none may have a default in the namespace; the help shows the dataclass default.
        for action in add_dataclass_args(parser.add_argument_group(name), cls):
            if action.help and "%(default)s" in action.help:
                action.help = action.help.replace("%(default)s", _shown(action.default))
            action.default = argparse.SUPPRESS
    parser.set_defaults(handler=_align)


def _shown(default: object) -> str:
    if isinstance(default, tuple | list):
        return " ".join(map(str, default)) or "none"
    return str(default).replace("%", "%%")


def _align(args: argparse.Namespace, console: Console) -> int:
    from training.align import run_align
    from training.align_config import build_config, field_sections, load_config

    overrides = {
        name: tuple(getattr(args, name))
        if isinstance(getattr(args, name), list)
        else getattr(args, name)
        for name in field_sections()
        if hasattr(args, name)
    }
    for name in ("model", "preset"):
        if hasattr(args, name):
            overrides[name] = getattr(args, name)
    if args.resume is not None:
        if overrides or args.config or args.run_dir:
            raise ConfigError(
                "--resume RUN_DIR continues a run with its own config.yaml: expected no other "
                f"settings, got {', '.join(sorted(overrides)) or '--config/--run-dir'}"
            )
        run_dir = args.resume
        with config_errors():
            config = load_config(run_dir / "config.yaml")
    else:
        with config_errors():
            if args.config is not None:
                config = load_config(args.config, overrides=overrides)
            else:
                config = build_config(overrides=overrides)
        from training.align import default_run_dir

        run_dir = args.run_dir or default_run_dir(config)
    result = run_align(
        config, run_dir, console=console, progress=args.progress, resume=args.resume is not None
    )
    console.print(result_table(result.evaluation))
    ev = result.evaluation
    check, coll, target = ev["average_check"], ev["collateral"], ev["target"]
    toward = "toward the targets " if ev["direction"] == "mixed" else ""
    console.print(
        f"target {', '.join(ev['moved_values'])} ({ev['direction']}): held-out shift {toward}"
        f"{target['mean']:+.2f} [{target['ci_low']:+.2f}, {target['ci_high']:+.2f}]; "
        f"collateral mean |shift| {coll['mean_abs']:.2f} [{coll['ci_low']:.2f}, {coll['ci_high']:.2f}]; "
        f"anchors' training items {check['anchor_train_shift']['mean']:+.2f}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"verdict: [bold]{check['verdict']}[/] ({check['explanation']})", soft_wrap=True)
    placebo, spread = ev.get("vs_placebo"), ev["shape"]["spread"]
    if placebo:
        t, c = placebo["target"], placebo["collateral"]
        console.print(f"aligned - placebo: target {t['mean']:+.2f} [{t['ci_low']:+.2f}, "
                      f"{t['ci_high']:+.2f}]; collateral mean |diff| {c['mean_abs']:.2f}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    console.print("spread of the unmoved values' means: " + ", ".join(
        f"{name} {s['mean']:.3f}" for name, s in spread.items()), highlight=False, soft_wrap=True)  # fmt: skip
    console.print(
        f"wall time {result.timings['total']:.0f} s, peak memory {result.peak_rss_gib:.2f} GiB; "
        f"run folder {run_dir} (summary.md, shift.png, adapter/)",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def result_table(evaluation: dict) -> Table:
    """The per-value held-out shifts as a rich table."""
    table = Table(title="held-out shift per value (aligned - baseline, 95% CI)")
    for column, justify in (
        ("value", "left"),
        ("role", "left"),
        ("base", "right"),
        ("aligned", "right"),
        ("shift", "right"),
        ("95% CI", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in evaluation["values"]:
        style = "bold" if r["role"] == "target" else None
        shift = f"{r['shift']:+.2f}" + ("*" if r["significant"] else "")
        table.add_row(
            r["value"],
            r["role"],
            f"{r['baseline']:.2f}",
            f"{r['aligned']:.2f}",
            shift,
            f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]",
            style=style,
        )
    return table
