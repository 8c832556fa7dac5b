"""LoRA fine-tuning on survey examples with TRL's ``SFTTrainer``.

:func:`train_adapter` trains a peft LoRA adapter on the prompt/completion examples of
:mod:`training.sft_data` (loss on the completion only), saving checkpoints as it goes, and
writes into the run folder:

* ``adapter/``: the adapter (``adapter_model.safetensors``, ``adapter_config.json``);
* ``checkpoints/checkpoint-N/``: trainer checkpoints (adapter, optimizer, scheduler and RNG
  states), so ``resume=True`` continues an interrupted run from the last one;
* ``logs/train_log.jsonl`` (every logged step: loss, learning rate, epoch) and
  ``logs/train.log`` (transformers' and TRL's messages);
* ``train_summary.json``: steps, wall time, throughput and peak memory.

Progress is a rich bar (ETA and loss) drawn inside a ``Live`` display, plain lines, or nothing.
torch, transformers, peft, trl and datasets are imported inside the functions (``s2b[train]``).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from s2b_env.errors import require
from training.align_config import LoraSettings, TrainConfig
from training.sft_loss import answer_only_trainer, frozen_linears_to_bf16
from training.soft_loss import SOFT_COLUMN, dataset_record, soft_target_trainer

ProgressMode = Literal["rich", "plain", "off"]
PROGRESS_MODES: tuple[str, ...] = ("rich", "plain", "off")
#: Libraries whose versions every run records.
RECORDED_PACKAGES: tuple[str, ...] = tuple(
    "torch transformers peft trl datasets accelerate safetensors numpy".split()
)


@dataclass(frozen=True)
class TrainResult:
    """What a training run did.

    Attributes:
        adapter_dir: The saved adapter.
        examples: Training examples.
        steps: Optimizer steps in the whole run.
        epochs: Epochs trained.
        seconds: Wall time of this call's training (not counting model loading).
        examples_per_second: Examples processed per second in this call; a call that did no step
            keeps the earlier call's figure (and ``seconds``), or ``None`` without one.
        peak_rss_gib: The process's peak resident memory so far, GiB.
        peak_gpu_gib: Peak GPU memory allocated by torch, GiB (``None`` on the CPU).
        final_loss: The last logged training loss.
        mean_loss: The mean training loss over every step of the run (from the log history).
        resumed_from: The checkpoint this call resumed from, if any.
        loss_tokens: Tokens that carry loss, per example (the digit and the end-of-turn token).
    """

    adapter_dir: str
    examples: int
    steps: int
    epochs: float
    seconds: float
    examples_per_second: float | None
    peak_rss_gib: float
    peak_gpu_gib: float | None
    final_loss: float | None
    mean_loss: float | None
    resumed_from: str | None
    loss_tokens: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def library_versions() -> dict[str, str]:
    """Versions of s2b, Python and the libraries in :data:`RECORDED_PACKAGES`."""
    from importlib.metadata import PackageNotFoundError, version

    from s2b import __version__

    out = {"s2b": __version__, "python": sys.version.split()[0]}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def peak_rss_gib() -> float:
    """This process's peak resident memory so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def make_progress_callback(mode: ProgressMode, console: Any) -> Any | None:
    """A transformers ``TrainerCallback`` drawing progress on ``console`` (``None`` for off)."""
    if mode not in PROGRESS_MODES:
        raise ValueError(f"progress: expected one of {', '.join(PROGRESS_MODES)}, got {mode!r}")
    if mode == "off":
        return None
    transformers = require("transformers", "train", "Fine-tuning")

    class _Progress(transformers.TrainerCallback):
        """Rich bar (step M/N, elapsed, ETA, loss, learning rate) or one plain line per log."""

        def __init__(self) -> None:
            self.live: Any = None
            self.progress: Any = None
            self.task: Any = None
            self.started = time.monotonic()
            self.start_step = 0
            #: The checkpoint's step when resuming (the trainer loads its state only after
            #: on_train_begin), set by train_adapter.
            self.resume_step = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.monotonic()
            self.start_step = max(state.global_step, self.resume_step)
            if mode == "rich":
                from rich.live import Live
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )

                self.progress = Progress(
                    TextColumn("[bold]training"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("steps"),
                    TimeElapsedColumn(),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}"),
                    console=console,
                )
                self.task = self.progress.add_task(
                    "train", total=state.max_steps, completed=self.start_step, loss="-", lr="-"
                )
                self.live = Live(self.progress, console=console, refresh_per_second=4)
                self.live.start()
            else:
                console.print(
                    f"training: {state.max_steps} steps"
                    + (f", resuming at step {self.start_step}" if self.start_step else ""),
                    highlight=False,
                )

        def on_step_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" not in logs:
                return
            loss, lr = f"{logs['loss']:.4f}", f"{logs.get('learning_rate', 0.0):.2e}"
            if self.progress is not None:
                self.progress.update(self.task, completed=state.global_step, loss=loss, lr=lr)
                return
            done = state.global_step - self.start_step
            elapsed = time.monotonic() - self.started
            left = state.max_steps - state.global_step
            eta = elapsed / done * left if done else float("nan")
            console.print(
                f"step {state.global_step}/{state.max_steps}  loss {loss}  lr {lr}  "
                f"elapsed {elapsed:.0f}s  ETA {eta:.0f}s",
                highlight=False,
            )

        def on_train_end(self, args, state, control, **kwargs):
            self.close()

        def close(self) -> None:
            if self.live is not None:
                self.live.stop()
                self.live = None

    return _Progress()


def last_checkpoint(checkpoint_dir: Path) -> Path | None:
    """The newest ``checkpoint-N`` folder in ``checkpoint_dir`` (``None`` if there is none)."""
    if not checkpoint_dir.is_dir():
        return None
    found = [
        p
        for p in checkpoint_dir.iterdir()
        if p.is_dir() and p.name.startswith("checkpoint-") and p.name[11:].isdigit()
    ]
    return max(found, key=lambda p: int(p.name[11:])) if found else None


def train_adapter(
    model_dir: str | Path,
    rows: Sequence[dict[str, Any]],
    run_dir: str | Path,
    *,
    lora: LoraSettings,
    train: TrainConfig,
    progress: ProgressMode = "rich",
    console: Any = None,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Fine-tune a LoRA adapter on prompt/completion examples.

    Args:
        model_dir: The base model's local folder.
        rows: Examples with ``prompt`` and ``completion`` (other keys are ignored).
        run_dir: The run folder (``adapter/``, ``checkpoints/``, ``logs/`` go there).
        lora: The adapter's settings.
        train: The optimisation settings.
        progress: ``"rich"``, ``"plain"`` or ``"off"``.
        console: A rich console for progress (required unless ``progress="off"``).
        resume: Continue from the newest checkpoint in ``run_dir/checkpoints`` if there is one.
        callbacks: Extra transformers ``TrainerCallback`` objects.

    Returns:
        A :class:`TrainResult` (also written to ``run_dir/train_summary.json``).

    Raises:
        ValueError: No examples, a row without prompt/completion, or CUDA asked for but absent.
        KeyboardInterrupt: Passed on; the checkpoints saved so far stay for ``resume``.
    """
    torch = require("torch", "train", "Fine-tuning")
    transformers = require("transformers", "train", "Fine-tuning")
    peft = require("peft", "train", "Fine-tuning")
    trl = require("trl", "train", "Fine-tuning with TRL")
    datasets = require("datasets", "train", "Fine-tuning with TRL")
    if not rows:
        raise ValueError("expected at least one training example, got none")
    for i, row in enumerate(rows):
        if not isinstance(row.get("prompt"), str) or not isinstance(row.get("completion"), str):
            raise ValueError(f"example {i}: expected string 'prompt' and 'completion' fields")
    if progress != "off" and console is None:
        raise ValueError("console: expected a rich Console when progress is shown, got None")
    run_dir = Path(run_dir)
    logs_dir, checkpoint_dir, adapter_dir = (
        run_dir / "logs",
        run_dir / "checkpoints",
        run_dir / "adapter",
    )
    logs_dir.mkdir(parents=True, exist_ok=True)

    use_cuda = train.device == "cuda" or (train.device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise ValueError("device: expected a CUDA GPU for --device cuda, found none")
    if train.threads:
        torch.set_num_threads(train.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[train.dtype]

    handler = logging.FileHandler(logs_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(n) for n in ("transformers", "trl", "peft")]
    for logger in loggers:
        logger.addHandler(handler)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()
    datasets.disable_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    progress_cb = make_progress_callback(progress, console)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        # eager attention: the bf16 SDPA backward is slow on CPU (docs/benchmarks.md, T1)
        eager = {"attn_implementation": "eager"} if train.bf16_autocast and not use_cuda else {}
        model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, **eager)
        if train.bf16_autocast and dtype == torch.float32:
            frozen_linears_to_bf16(model, tuple(lora.lora_target_modules))
        peft_config = peft.LoraConfig(
            r=lora.lora_r,
            lora_alpha=lora.lora_alpha,
            lora_dropout=lora.lora_dropout,
            target_modules=list(lora.lora_target_modules),
            task_type="CAUSAL_LM",
        )
        dataset = datasets.Dataset.from_list([dataset_record(r) for r in rows])
        args = trl.SFTConfig(
            output_dir=str(checkpoint_dir),
            num_train_epochs=train.epochs,
            per_device_train_batch_size=train.batch_size,
            gradient_accumulation_steps=train.grad_accum,
            learning_rate=train.learning_rate,
            lr_scheduler_type=train.lr_scheduler,
            weight_decay=train.weight_decay,
            logging_steps=1,
            logging_first_step=True,
            save_strategy="steps",
            save_steps=train.save_steps,
            save_total_limit=train.save_total_limit,
            seed=train.seed,
            data_seed=train.seed,
            # bf16 autocast: float32 LoRA weights, bfloat16 matmuls (oneDNN's AMX kernels on CPU)
            bf16=(use_cuda and train.dtype == "bfloat16") or train.bf16_autocast,
            use_cpu=not use_cuda,
            report_to=[],
            disable_tqdm=True,
            completion_only_loss=True,
            max_length=train.max_length,
            packing=False,
            dataloader_num_workers=0,
            save_only_model=False,
            **_checkpointing_kwargs(trl.SFTConfig, train.gradient_checkpointing),
            **_warmup_kwargs(trl.SFTConfig, train.warmup_ratio),
        )
        with warnings.catch_warnings():
            # transformers 5 renamed gradient checkpointing; TRL still asks by the old name.
            warnings.filterwarnings("ignore", ".*gradient_checkpointing.*", FutureWarning)
            groups = [str(r.get("phrasing", "")) for r in rows] if train.shared_prefix else None
            base = trl.SFTTrainer
            cls = answer_only_trainer(base, groups) if train.answer_only_loss else base
            cls = soft_target_trainer(cls) if SOFT_COLUMN in rows[0] else cls  # --anchors soft
            trainer = cls(
                model=model,
                args=args,
                train_dataset=dataset,
                processing_class=tokenizer,
                peft_config=peft_config,
                callbacks=[c for c in (progress_cb, *callbacks) if c is not None],
            )
        trainer.remove_callback(transformers.PrinterCallback)
        loss_tokens = _mean_loss_tokens(trainer.train_dataset)
        checkpoint = last_checkpoint(checkpoint_dir) if resume else None
        if use_cuda:
            torch.cuda.reset_peak_memory_stats()
        started = time.monotonic()
        start_step = int(checkpoint.name[11:]) if checkpoint else 0
        if progress_cb is not None:
            progress_cb.resume_step = start_step
        try:
            # its TrainOutput.training_loss covers this call's steps only (0.0 when none were
            # left): run_mean_loss below takes the whole run's from the log history
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        finally:
            if progress_cb is not None:
                progress_cb.close()
            _write_log_history(trainer.state.log_history, logs_dir / "train_log.jsonl")
        seconds = time.monotonic() - started
        trainer.save_model(str(adapter_dir))
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()

    state = trainer.state
    summary_path = run_dir / "train_summary.json"
    seconds, per_second = call_speed(
        steps_done=state.global_step - start_step,
        max_steps=state.max_steps,
        examples=len(rows),
        epochs=train.epochs,
        seconds=seconds,
        previous=_read_summary(summary_path),
    )
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    result = TrainResult(
        adapter_dir=str(adapter_dir),
        examples=len(rows),
        steps=state.global_step,
        epochs=float(state.epoch or 0.0),
        seconds=seconds,
        examples_per_second=per_second,
        peak_rss_gib=round(peak_rss_gib(), 3),
        peak_gpu_gib=round(torch.cuda.max_memory_allocated() / 2**30, 3) if use_cuda else None,
        final_loss=losses[-1] if losses else None,
        mean_loss=run_mean_loss(state.log_history, state.global_step),
        resumed_from=str(checkpoint) if checkpoint else None,
        loss_tokens=loss_tokens,
    )
    summary_path.write_text(json.dumps(result.to_json(), indent=1) + "\n")
    del trainer, model
    return result


def call_speed(
    *,
    steps_done: int,
    max_steps: int,
    examples: int,
    epochs: float,
    seconds: float,
    previous: dict[str, Any] | None,
) -> tuple[float, float | None]:
    """The training seconds and examples per second to report for one call of :func:`train_adapter`.

    Args:
        steps_done: Optimizer steps this call did.
        max_steps: Steps of the whole run.
        examples: Training examples.
        epochs: Epochs of the whole run.
        seconds: Wall time of this call's training.
        previous: The ``train_summary.json`` of an earlier call, if there is one.

    Returns:
        ``(seconds, examples_per_second)``. A call that did no step (resumed from the final
        checkpoint, e.g. after being killed between the last save and the summary) keeps the
        earlier call's figures when its summary has them, else reports ``None`` examples/s:
        its own near-zero time says nothing about the training speed.
    """
    if steps_done > 0:
        # examples seen in this call: its share of the run's steps times examples x epochs
        processed = steps_done / max(1, max_steps) * examples * epochs
        return round(seconds, 3), (round(processed / seconds, 4) if seconds > 0 else None)
    if previous and isinstance(previous.get("examples_per_second"), int | float):
        return float(previous.get("seconds") or 0.0), float(previous["examples_per_second"])
    return round(seconds, 3), None


def run_mean_loss(log_history: Sequence[dict[str, Any]], global_step: int) -> float | None:
    """The mean training loss over every step of the run, from the trainer's log history.

    The trainer's own ``training_loss`` averages only the steps of the current call (and is 0.0
    when a resumed call had none left); the log history, restored from the checkpoint, covers the
    whole run. Each logged ``loss`` is the mean over the steps since the previous log, so it is
    weighted by that number of steps.

    Args:
        log_history: ``trainer.state.log_history``.
        global_step: The run's last step; later entries (from an abandoned branch) are ignored.

    Returns:
        The mean loss, or ``None`` when no loss was logged.
    """
    total, steps, last = 0.0, 0, 0
    for entry in sorted(
        (e for e in log_history if "loss" in e and "step" in e), key=lambda e: e["step"]
    ):
        step = int(entry["step"])
        if step <= last or step > global_step:
            continue
        total += float(entry["loss"]) * (step - last)
        steps += step - last
        last = step
    return total / steps if steps else None


def _read_summary(path: Path) -> dict[str, Any] | None:
    """An earlier ``train_summary.json``, or ``None`` if there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _checkpointing_kwargs(config_cls: Any, enabled: bool) -> dict[str, bool]:
    """Set checkpointing explicitly: TRL turns it on by default (about 20% slower), and
    transformers 5 renamed ``gradient_checkpointing`` to ``activation_checkpointing``."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls)}
    key = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return {key: enabled}


def _warmup_kwargs(config_cls: Any, ratio: float) -> dict[str, float]:
    """transformers 5 dropped ``warmup_ratio``; its ``warmup_steps`` takes a ratio below 1."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"warmup_ratio" if "warmup_ratio" in names else "warmup_steps": ratio}


def _mean_loss_tokens(dataset: Any) -> float:
    """Mean number of tokens per example that carry loss (completion mask or labels)."""
    columns = set(dataset.column_names)
    if "completion_mask" in columns:
        counts = [sum(m) for m in dataset["completion_mask"]]
    elif "labels" in columns:
        counts = [sum(1 for x in lab if x != -100) for lab in dataset["labels"]]
    else:
        return float("nan")
    return float(sum(counts) / len(counts))


def _write_log_history(history: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w") as fh:
        for entry in history:
            fh.write(json.dumps(entry) + "\n")
