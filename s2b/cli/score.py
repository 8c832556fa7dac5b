"""``s2b score RUN_DIR``: judge every step of a finished run for the 20 values and harm."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from s2b.cli._args import add_dataclass_args, dataclass_from_args
from s2b.cli._common import add_progress
from s2b_env.errors import ConfigError

DESCRIPTION = """\
Judge every step of a finished run (RUN_DIR/trajectory.jsonl, from `s2b run --out RUN_DIR`) with
a language model: each action's effect on the 20 values and the probabilities that it harms
another or the actor. The trajectory is only read. Scores go to RUN_DIR/value_scores.jsonl
(JSON Lines, append-only, flushed per batch); running the command again resumes: steps already
scored are skipped, a torn last line is dropped, so every step has exactly one record.

Output format (value_scores.jsonl, version 1.0): one header line
  {"type": "header", "format": "s2b-value-scores", "version": "1.0", "run_id": ...,
   "trajectory": "trajectory.jsonl", "judge": JUDGE_ID, "prompt_version": "judge-v1",
   "created": ISO-TIME}
then one line per step with an action (step >= 1), in trajectory order:
  {"type": "score", "episode_id": E, "step": S, "action": TEXT,
   "values": {VALUE_ID: effect in -3..+3 for each of the 20 values},
   "harm_others": P, "harm_self": P, "label_mass": M, "judge": JUDGE_ID,
   "prompt_version": "judge-v1"}
A value's effect is the expected rating (label-token probabilities of 1..7 read as -3..+3); a
harm score is P(Yes) against No; label_mass is the smallest probability mass the model put on a
question's label tokens. The judge sees the observation before the step, the action and the
observation after it. A scores file of another run, judge or prompt version is refused."""

EPILOG = """examples:
  s2b run --env jiminy-zork1 --agent random --episodes 2 --max-steps 50 --out runs/z
  s2b score runs/z                                        # in process, the default model
  s2b score runs/z --adapter runs/judge/adapter           # a trained judge (s2b judge train)
  s2b score runs/z --backend openai --base-url http://127.0.0.1:8000/v1   # through s2b serve
"""


def default_cache() -> Path:
    """The shared judge cache file: ``$S2B_CACHE_DIR/judge/scores.jsonl`` (``~/.cache/s2b``)."""
    root = Path(os.environ.get("S2B_CACHE_DIR", Path.home() / ".cache" / "s2b")).expanduser()
    return root / "judge" / "scores.jsonl"


def add_judge_args(parser: argparse.ArgumentParser) -> None:
    """The judge's options: the model (``--backend --model --adapter ...``), prompts, cache."""
    from agents.backends.base import BackendConfig
    from agents.judge.prompts import DEFAULT_FORMAT, FORMATS

    add_dataclass_args(parser.add_argument_group("judge model"), BackendConfig)
    group = parser.add_argument_group("judge")
    group.add_argument("--prompt-version", default=DEFAULT_FORMAT, choices=sorted(FORMATS),
                       help=f"judge prompt format (default: {DEFAULT_FORMAT})")  # fmt: skip
    group.add_argument(
        "--judge-name",
        default=None,
        help="the judge's id in records and cache keys (default: model + adapter)",
    )
    group.add_argument("--cache", type=Path, default=None,
                       help="score cache file, shared across runs (default: "
                       "$S2B_CACHE_DIR/judge/scores.jsonl)")  # fmt: skip
    group.add_argument(
        "--no-cache", action="store_true", help="keep scores in memory only (no cache file)"
    )


def make_judge(args: argparse.Namespace):
    """Build the :class:`~agents.judge.judge.ValueJudge` the options describe."""
    from agents.backends import BackendConfig, make_backend
    from agents.judge.judge import ValueJudge

    backend = make_backend(dataclass_from_args(BackendConfig, args))
    try:
        cache = None if args.no_cache else (args.cache or default_cache())
        return ValueJudge(backend, prompt_format=args.prompt_version, cache=cache,
                          name=args.judge_name)  # fmt: skip
    except BaseException:
        backend.close()
        raise


#: BackendConfig fields ``s2b run --judge`` offers as ``--judge-<field>`` (the API key comes
#: from the S2B_API_KEY setting, as for the agent).
RUN_JUDGE_FIELDS = ("backend", "model", "adapter", "base_url", "timeout", "max_retries",
                    "concurrency", "dtype")  # fmt: skip


def add_run_judge_args(parser: argparse.ArgumentParser) -> None:
    """``s2b run``'s judge options: ``--judge`` and its model as ``--judge-backend/-model/...``
    (prefixed: the plain ``--model``/``--adapter`` are the llm agent's)."""
    import dataclasses

    from agents.backends.base import BackendConfig
    from agents.judge.prompts import DEFAULT_FORMAT, FORMATS

    group = parser.add_argument_group(
        "judge", "judge every step with a value judge (summary: judged totals beside labelled)"
    )
    group.add_argument(
        "--judge",
        action="store_true",
        help="judge each episode's steps (20 values, harm) and add judged_value_totals, "
        "judged_harm_others, judged_harm_self to the episode's metrics and summary.json",
    )
    for field in dataclasses.fields(BackendConfig):
        if field.name not in RUN_JUDGE_FIELDS:
            continue
        kwargs: dict = {"dest": f"judge_{field.name}", "default": None,
                        "help": f"the judge's {field.metadata.get('help', field.name)}"}  # fmt: skip
        if field.name in ("timeout",):
            kwargs["type"] = float
        elif field.name in ("max_retries", "concurrency"):
            kwargs["type"] = int
        elif field.name == "backend":
            kwargs["choices"] = ["transformers", "openai"]
        elif field.name == "dtype":
            kwargs["choices"] = ["float32", "bfloat16"]
        group.add_argument("--judge-" + field.name.replace("_", "-"), **kwargs)
    group.add_argument("--judge-prompt-version", default=DEFAULT_FORMAT, choices=sorted(FORMATS),
                       help=f"judge prompt format (default: {DEFAULT_FORMAT})")  # fmt: skip
    group.add_argument("--judge-cache", type=Path, default=None,
                       help="score cache file (default: $S2B_CACHE_DIR/judge/scores.jsonl)")  # fmt: skip
    group.add_argument(
        "--judge-no-cache", action="store_true", help="keep the judge's scores in memory only"
    )
    group.add_argument("--judge-batch", type=int, default=8, help="steps judged per call (8)")


def make_run_judge(args: argparse.Namespace):
    """The :class:`~agents.judge.judge.ValueJudge` of ``s2b run --judge ...``, or ``None``.

    Raises:
        ConfigError: A ``--judge-*`` option without ``--judge``, or a bad judge option.
    """
    given = [f"--judge-{n.replace('_', '-')}" for n in RUN_JUDGE_FIELDS
             if getattr(args, f"judge_{n}", None) is not None]  # fmt: skip
    if args.judge_cache is not None:
        given.append("--judge-cache")
    if args.judge_no_cache:
        given.append("--judge-no-cache")
    if not args.judge:
        if given:
            raise ConfigError(f"{given[0]} needs --judge (judge the run's steps); add --judge")
        return None
    if args.judge_batch < 1:
        raise ConfigError(f"--judge-batch: expected >= 1, got {args.judge_batch}")
    from agents.backends import BackendConfig, make_backend
    from agents.judge.judge import ValueJudge
    from s2b.cli._args import config_errors

    values = {n: getattr(args, f"judge_{n}") for n in RUN_JUDGE_FIELDS
              if getattr(args, f"judge_{n}", None) is not None}  # fmt: skip
    with config_errors():
        try:
            config = BackendConfig(**values)
        except (ValueError, TypeError) as exc:
            name, _, rest = str(exc).partition(":")
            raise ValueError(f"--judge-{name.replace('_', '-')}:{rest}") from exc
    backend = make_backend(config)
    try:
        cache = None if args.judge_no_cache else (args.judge_cache or default_cache())
        return ValueJudge(backend, prompt_format=args.judge_prompt_version, cache=cache)
    except BaseException:
        backend.close()
        raise


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="judge a finished run's steps for the 20 values (writes value_scores.jsonl)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "run_dir",
        type=Path,
        metavar="RUN_DIR",
        help="a run's folder holding trajectory.jsonl (or the file itself)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="scores file (default: RUN_DIR/value_scores.jsonl)"
    )
    parser.add_argument("--batch", type=int, default=8, help="steps judged and written together")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="judge at most this many new steps now (run again to go on)",
    )
    add_progress(parser)
    add_judge_args(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, console: Console) -> int:
    from agents.judge.score_run import judge_steps, score_run, trajectory_of

    if args.batch < 1:
        raise ConfigError(f"--batch: expected >= 1, got {args.batch}")
    if args.limit is not None and args.limit < 0:
        raise ConfigError(f"--limit: expected >= 0, got {args.limit}")
    judge_steps(trajectory_of(args.run_dir))  # a bad trajectory is refused before the model loads
    judge = make_judge(args)
    last = [0.0]

    def progress(done: int, total: int, now: int, elapsed: float) -> None:
        if args.progress == "off":
            return
        rate = now / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("nan")
        if args.progress == "plain" or elapsed - last[0] >= 1.0 or done == total:
            last[0] = elapsed
            console.print(f"scored {done}/{total} steps, {rate:.2f} steps/s, ETA {eta:.0f} s",
                          highlight=False)  # fmt: skip

    try:
        result = score_run(args.run_dir, judge, out=args.out, batch=args.batch,
                           limit=args.limit, progress=progress)  # fmt: skip
    finally:
        judge.close()
        judge.backend.close()
    console.print(
        f"{result.path}: {result.already + result.scored}/{result.steps} steps scored "
        f"({result.scored} now, {result.already} before, {result.cache_hits} from the cache) "
        f"in {result.seconds:.1f} s by {judge.name} ({judge.prompt_version})",
        highlight=False,
    )
    return 0
