"""``s2b align`` end to end: baseline profile -> targets -> LoRA training -> held-out evaluation.

:func:`run_align` runs the method's steps 2 and 3 for one :class:`~training.align_config.AlignConfig`
and leaves everything in one run folder::

    RUN/config.yaml            the resolved configuration (reload with load_config)
    RUN/versions.json          s2b, Python and library versions
    RUN/plan.json              moved, anchor, trained and evaluated values; phrasings
    RUN/target_profile.json    a copy of --target-profile (if given), read on resume
    RUN/profiles/baseline-heldout/, baseline-train/, aligned-heldout/, aligned-train/
                               s2b profile outputs (results.jsonl, profile.json, ...)
    RUN/targets.json           the target digit (and, --anchors soft, distributions) of every trained item
    RUN/data/train.jsonl       the training examples (prompt, completion, item, phrasing, ...)
    RUN/adapter/               the LoRA adapter (adapter_model.safetensors)
    RUN/checkpoints/           trainer checkpoints
    RUN/logs/                  train_log.jsonl, train.log
    RUN/timings.json           seconds per stage and peak memory, over all calls (resumes)
    RUN/results.json           evaluate_shift's result plus timings and memory
    RUN/summary.md, RUN/shift.png

Every stage writes its output before the next starts, so ``resume=True`` skips what is done
(profiles continue from their ``results.jsonl``, training from its newest checkpoint).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from s2b_env.errors import ConfigError
from s2b_env.values import VALUE_IDS
from training.align_config import AlignConfig, load_config, save_config
from training.align_progress import ProfileProgress
from training.align_report import shape_markdown, shape_report
from training.evaluate import (
    evaluate_shift,
    intended_directions,
    summary_markdown,
    versus_placebo,
)
from training.placebo import load_placebo, placebo_shifts
from training.profile import (
    RESULTS_FILE,
    ProfileConfig,
    load_profile,
    run_profile,
    select_phrasings,
)
from training.profile_charts import plot_shift
from training.sft import ProgressMode, library_versions, peak_rss_gib, train_adapter
from training.sft_data import build_examples, check_split, save_examples, training_items
from training.survey import Survey
from training.survey_io import load_custom_survey
from training.targets import (
    add_soft_targets,
    build_targets,
    load_base_distributions,
    load_target_profile,
    save_targets,
    shifts_for,
)

#: The run's copy of its ``--target-profile`` file, read on resume.
TARGET_PROFILE_COPY = "target_profile.json"
#: The run's copies of its ``--items-file`` and ``--phrasings-file`` (suffix kept), read on resume.
SURVEY_COPY = "survey"


@dataclass(frozen=True)
class AlignPlan:
    """Which values a run moves, anchors, trains on and evaluates.

    Attributes:
        moved: Values whose answers are moved.
        anchors: Values trained on the model's own answers.
        evaluated: Values whose held-out items are evaluated.
        phrasings: Phrasing ids used for profiles and training.
    """

    moved: tuple[str, ...]
    anchors: tuple[str, ...]
    evaluated: tuple[str, ...]
    phrasings: tuple[str, ...]

    @property
    def trained(self) -> tuple[str, ...]:
        """Moved and anchor values, in taxonomy order."""
        chosen = set(self.moved) | set(self.anchors)
        return tuple(v for v in VALUE_IDS if v in chosen)


@dataclass(frozen=True)
class AlignResult:
    """The outcome of :func:`run_align`.

    Attributes:
        run_dir: The run folder.
        evaluation: :func:`training.evaluate.evaluate_shift`'s result.
        train: The training summary (``train_summary.json``).
        timings: Seconds per stage, summed over the calls that worked on it (resumes), and total.
        peak_rss_gib: Peak resident memory over those calls, GiB.
    """

    run_dir: Path
    evaluation: dict[str, Any]
    train: dict[str, Any]
    timings: dict[str, float]
    peak_rss_gib: float


def default_run_dir(config: AlignConfig, root: str | Path = "runs/align") -> Path:
    """``runs/align/<time>-<value>-<direction><delta>`` (or ``-profile`` for a target profile)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    t = config.targets
    what = (
        f"{'+'.join(t.values)}-{t.direction}{t.delta}{'-placebo' if t.placebo else ''}"
        if t.values
        else f"profile-{Path(str(t.target_profile)).stem}"
    )
    return Path(root) / f"{stamp}-{what}"


def make_plan(config: AlignConfig, survey: Survey, moved: Sequence[str]) -> AlignPlan:
    """Resolve the anchors (drawn with the training seed when not given) and the evaluated values.

    Raises:
        ValueError: A phrasing id names no phrasing of the survey, or ``eval_values`` leaves out
            a moved value.
    """
    trainable = {i.value for i in survey.select("train")}
    lacking = [v for v in (*moved, *config.data.anchor_values) if v not in trainable]
    lacking += [v for v in moved if not survey.select("heldout", [v])]
    if lacking:
        raise ConfigError(
            f"the survey has no training or held-out items of {sorted(set(lacking))}: a moved "
            "value needs both, an anchor training items (see --items-file)"
        )
    if config.data.anchor_values:
        anchors = tuple(config.data.anchor_values)
    else:
        candidates = [v for v in survey.values if v not in moved and v in trainable]
        n = min(config.data.n_anchor_values, len(candidates))
        rng = np.random.default_rng(config.train.seed)
        drawn = set(rng.choice(candidates, size=n, replace=False).tolist()) if n else set()
        anchors = tuple(v for v in VALUE_IDS if v in drawn)
    evaluated = tuple(config.eval.eval_values) or survey.values
    left_out = [v for v in moved if v not in evaluated]
    if left_out:
        raise ConfigError(
            f"eval_values: expected every moved value among them (the target shift is measured "
            f"on its held-out items), got {list(evaluated)} without {left_out}; add them or "
            "leave eval_values empty (all 20)"
        )
    phrasings = tuple(p.id for p in select_phrasings(survey, config.data.phrasings))
    return AlignPlan(tuple(moved), anchors, tuple(evaluated), phrasings)


def run_align(
    config: AlignConfig,
    run_dir: str | Path,
    *,
    console: Any = None,
    progress: ProgressMode = "rich",
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    survey: Survey | None = None,
) -> AlignResult:
    """Run baseline profile -> targets -> training -> held-out evaluation.

    Args:
        config: The run's configuration.
        run_dir: The run folder; must be new or empty unless ``resume``.
        console: A rich console for progress and notes (required unless ``progress="off"``).
        progress: ``"rich"``, ``"plain"`` or ``"off"``.
        resume: Continue the run in ``run_dir`` (its ``config.yaml`` must match ``config``).
        callbacks: Extra transformers ``TrainerCallback`` objects for the training stage.
        survey: The survey (default: the shipped one).

    Returns:
        An :class:`AlignResult`; everything is also in ``run_dir``.

    Raises:
        ValueError: ``run_dir`` holds another run (or any files, without ``resume``), or bad
            settings (an unknown phrasing, a moved value not evaluated); these are refused
            before ``run_dir`` is made or a model is loaded.
    """
    from agents.backends.transformers_backend import TransformersBackend
    from agents.models import resolve_model

    run_dir = Path(run_dir)
    # bad input is refused before the run folder is made or a model is loaded
    survey = survey or load_custom_survey(*survey_files(config, run_dir, resume))
    if config.targets.target_profile is not None:
        profile_targets = load_target_profile(target_profile_source(config, run_dir, resume))
        shifts: dict[str, int] = {}
        moved = [v for v in VALUE_IDS if v in profile_targets]
    else:
        profile_targets = {}
        shifts = shifts_for(config.targets.values, config.targets.direction, config.targets.delta)
        moved = [v for v in VALUE_IDS if v in shifts]
    placebo = placebo_shifts(shifts) if config.targets.placebo else None
    plan = make_plan(config, survey, moved)
    _prepare_run_dir(run_dir, config, resume)
    keep_target_profile(config, run_dir)
    keep_survey_files(config, run_dir)
    say = _say(console, progress)
    ledger = _Ledger(run_dir / "timings.json")
    (run_dir / "plan.json").write_text(
        json.dumps({**plan.__dict__, "trained": plan.trained}, indent=1) + "\n"
    )
    model_dir = resolve_model(config.model)
    threads = config.train.threads or None

    def profiles(backend: Any, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The held-out and train profiles; ``ran[prefix]`` says whether any prompt was asked."""
        out = []
        for split, values in (("heldout", plan.evaluated), ("train", plan.trained)):
            name = f"{prefix}-{split}"
            cfg = ProfileConfig(
                items=split,
                phrasings=plan.phrasings,
                values=values,
                bootstrap=config.eval.bootstrap,
                seed=config.train.seed,
                out=run_dir / "profiles" / name,
                resume=True,
            )
            done = cfg.out / "profile.json"
            if resume and done.is_file():
                out.append(load_profile(done))
                continue
            ran[prefix] = True
            with ProfileProgress(console, progress, name) as bar:
                out.append(
                    run_profile(
                        backend,
                        survey,
                        cfg,
                        progress=bar.update,
                        restart_hint=_restart_hint(cfg.out),
                    )
                )
        return out[0], out[1]

    ran = {"baseline": False, "aligned": False}

    # 1. baseline profile, targets and data
    say(f"baseline profile of {model_dir.name} ({len(plan.evaluated)} values held-out, "
        f"{len(plan.trained)} values train, {len(plan.phrasings)} phrasings)")  # fmt: skip
    with (
        ledger.stage("baseline", ran),
        TransformersBackend(model_dir, dtype=config.train.dtype, threads=threads) as backend,
    ):
        base_heldout, base_train = profiles(backend, "baseline")
        items = training_items(survey, plan.trained, config.data.train_items_per_value or None)
        scores = {i["id"]: i["score"] for i in base_train["items"]}
        trained_shifts = placebo[0] if placebo else shifts
        targets = build_targets(items, scores, shifts=trained_shifts, profile=profile_targets)
        if config.targets.anchors == "soft":  # each prompt's own base digit distribution
            base = load_base_distributions(run_dir / "profiles" / "baseline-train" / RESULTS_FILE)
            targets = add_soft_targets(targets, base, plan.phrasings, shifts=trained_shifts,
                                       moved_target=config.targets.moved_target)  # fmt: skip
        if not placebo:
            intended_directions(targets)  # refuses targets that ask for no move, before training
        save_targets(targets, run_dir / "targets.json")
        rows = build_examples(
            survey,
            targets,
            lambda messages, prefix: backend.chat_prompt(messages, assistant_prefix=prefix),
            plan.phrasings,
        )
    check_split(rows, survey)
    save_examples(rows, run_dir / "data" / "train.jsonl")

    # 2. training
    summary_path = run_dir / "train_summary.json"
    adapter = run_dir / "adapter"
    if resume and summary_path.is_file() and (adapter / "adapter_model.safetensors").is_file():
        say("training: already done")
        train = json.loads(summary_path.read_text())
        ledger.add("train", 0.0, worked=False)
    else:
        say(f"training: {len(rows)} examples x {config.train.epochs:g} epochs")
        with ledger.stage("train", {"train": True}):
            train = train_adapter(
                model_dir,
                rows,
                run_dir,
                lora=config.lora,
                train=config.train,
                progress=progress,
                console=console,
                resume=resume,
                callbacks=callbacks,
            ).to_json()

    # 3. aligned profile and evaluation
    say("aligned profile (base model + adapter)")
    with (
        ledger.stage("aligned", ran),
        TransformersBackend(
            model_dir, adapter=adapter, dtype=config.train.dtype, threads=threads
        ) as backend,
    ):
        aligned_heldout, aligned_train = profiles(backend, "aligned")
    evaluation = evaluate_shift(
        base_heldout,
        aligned_heldout,
        base_train,
        aligned_train,
        targets=targets,
        bootstrap=config.eval.bootstrap,
        seed=config.train.seed,
        directions=placebo[1] if placebo else None,
    )
    placebo_heldout = None
    if config.eval.placebo_run is not None:
        placebo_heldout = load_placebo(config, config.eval.placebo_run)
        evaluation["vs_placebo"] = versus_placebo(
            placebo_heldout,
            aligned_heldout,
            {v: 1 if d == "up" else -1 for v, d in evaluation["directions"].items()},
            bootstrap=config.eval.bootstrap,
            seed=config.train.seed,
        )
    evaluation["shape"] = shape_report(base_heldout, aligned_heldout, placebo_heldout, moved=moved,
                                       bootstrap=config.eval.bootstrap, seed=config.train.seed)  # fmt: skip
    timings, peak = ledger.timings(), ledger.peak
    meta = {
        "model": str(config.model or model_dir.name),
        "moved": ", ".join(
            f"{v} ({f'{shifts[v]:+d}' if v in shifts else f'= {profile_targets[v]}'})"
            for v in moved
        )
        + (" (placebo: trained on its own answers)" if placebo else ""),
        "anchors": (", ".join(plan.anchors) or "none")
        + f" ({config.targets.anchors} targets"
        + (f", moved: {config.targets.moved_target})" if config.targets.anchors == "soft" else ")"),
        "examples": f"{len(rows)} ({len(items)} training items x {len(plan.phrasings)} phrasings)",
        "training": f"{train['steps']} steps, {train['epochs']:g} epochs, "
        f"{train['seconds']:.0f} s, {_per_second(train.get('examples_per_second'))}, "
        f"final loss {train['final_loss']:.4f}"
        if train.get("final_loss") is not None
        else "n/a",
        "wall time": ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()),
        "peak memory": f"{peak:.2f} GiB RSS"
        + (f", {train['peak_gpu_gib']:.2f} GiB GPU" if train.get("peak_gpu_gib") else ""),
    }
    result = {
        **evaluation,
        "meta": meta,
        "timings": timings,
        "peak_rss_gib": peak,
        "train": train,
        "plan": {**plan.__dict__, "trained": plan.trained},
    }
    (run_dir / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_shift(evaluation, run_dir / "shift.png", title=f"s2b align: {meta['moved']}",
               placebo=placebo_heldout)  # fmt: skip
    summary = summary_markdown(evaluation, meta) + "\n" + shape_markdown(evaluation["shape"])
    (run_dir / "summary.md").write_text(summary)
    return AlignResult(run_dir, evaluation, train, timings, peak)


class _Ledger:
    """Seconds per stage and peak memory of a run, summed over the calls that did the work
    (a resumed call adds what it did, not the time to skip finished stages)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = json.loads(path.read_text()) if path.is_file() else {}
        self.seconds: dict[str, float] = dict(data.get("seconds", {}))
        self.calls = int(data.get("calls", 0)) + 1
        self.peak = float(data.get("peak_rss_gib", 0.0))

    def add(self, stage: str, seconds: float, worked: bool) -> None:
        if worked or stage not in self.seconds:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + seconds, 2)
        self.peak = round(max(self.peak, peak_rss_gib()), 3)
        payload = {"seconds": self.seconds, "peak_rss_gib": self.peak, "calls": self.calls}
        self.path.write_text(json.dumps(payload, indent=1) + "\n")

    @contextlib.contextmanager
    def stage(self, stage: str, worked: dict[str, bool]) -> Iterator[None]:
        """Time a stage, recorded even when it is interrupted; ``worked[stage]`` says whether
        it did work (read at its end)."""
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.add(stage, time.monotonic() - t0, worked.get(stage, False))

    def timings(self) -> dict[str, float]:
        return {**self.seconds, "total": round(sum(self.seconds.values()), 2)}


def target_profile_source(config: AlignConfig, run_dir: Path, resume: bool) -> Path:
    """The ``--target-profile`` file a run reads: on resume, the run's own copy if it has one.

    A run copies its target profile to ``RUN/target_profile.json`` when it starts
    (:func:`keep_target_profile`), so a resume neither depends on the path as typed (another
    working directory, a moved run folder) nor on the original file staying unchanged.

    Raises:
        ValueError: ``config`` has no target profile.
    """
    if config.targets.target_profile is None:
        raise ValueError("expected a config with targets.target_profile, got none")
    copy = Path(run_dir) / TARGET_PROFILE_COPY
    return copy if resume and copy.is_file() else Path(config.targets.target_profile)


def survey_files(
    config: AlignConfig, run_dir: Path, resume: bool
) -> tuple[Path | None, Path | None]:
    """The ``--items-file`` and ``--phrasings-file`` a run reads (``None``: the shipped one); on
    resume, the run's own copies (see :func:`keep_survey_files`), like the target profile."""
    out: list[Path | None] = []
    for given in (config.data.items_file, config.data.phrasings_file):
        copy = None if given is None else Path(run_dir) / SURVEY_COPY / Path(given).name
        out.append(copy if resume and copy is not None and copy.is_file() else given)
    return out[0], out[1]


def keep_survey_files(config: AlignConfig, run_dir: Path) -> None:
    """Copy the config's own survey files into ``RUN/survey/``, unless the run has them."""
    for given in (config.data.items_file, config.data.phrasings_file):
        if given is not None:
            copy = Path(run_dir) / SURVEY_COPY / Path(given).name
            if not copy.is_file():
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(given, copy)


def keep_target_profile(config: AlignConfig, run_dir: Path) -> None:
    """Copy the config's target profile into the run folder, unless the run has its copy."""
    if config.targets.target_profile is None:
        return
    copy = Path(run_dir) / TARGET_PROFILE_COPY
    if not copy.is_file():
        shutil.copyfile(config.targets.target_profile, copy)


def _per_second(x: float | None) -> str:
    """Training speed for the summary (``None``: the call that finished did no step)."""
    return "examples/s n/a" if x is None else f"{x:.2f} examples/s"


def _restart_hint(profile_dir: Path) -> str:
    """How to start a profile of ``s2b align`` afresh (for ResultsLog's different-run error)."""
    return (
        f"delete {profile_dir} to ask this profile again, or start a new run "
        "(s2b align without --resume, with another --run-dir)"
    )


def _prepare_run_dir(run_dir: Path, config: AlignConfig, resume: bool) -> None:
    saved = run_dir / "config.yaml"
    if resume:
        if not saved.is_file():
            raise ConfigError(
                f"--resume {run_dir}: expected a run folder with config.yaml, found none"
            )
        if load_config(saved).to_dict() != config.to_dict():
            raise ConfigError(
                f"--resume {run_dir}: the configuration differs from the run's config.yaml; "
                "resume with the same settings (s2b align --resume RUN uses them)"
            )
        return
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(
            f"run folder {run_dir} exists and is not empty: expected a new folder "
            "(or pass --resume to continue that run)"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, saved)
    (run_dir / "versions.json").write_text(json.dumps(library_versions(), indent=1) + "\n")


def _say(console: Any, progress: ProgressMode) -> Callable[[str], None]:
    def say(text: str) -> None:
        if console is not None and progress != "off":
            console.print(f"[bold]align:[/] {text}", highlight=False)

    return say
