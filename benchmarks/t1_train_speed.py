"""Benchmark T1: survey fine-tuning throughput (examples/s) and peak RSS, variants side by side.

The cpu preset's data for ``s2b align --value power_dominance --direction down --delta 2`` (the
recorded run's anchors humility and universalism_concern, 8 training items each, 3 phrasings:
72 examples; targets from a flat baseline of 3.3, so 1 for power_dominance and 3 for the
anchors), trained with ``training.sft.train_adapter`` for ``--steps`` optimizer steps of batch 8.
Each variant runs in its own process (peak RSS is per process), one after the other, so the
ratios compare runs under the same machine load. The first step (warm-up) is included, as
``s2b align`` includes it.

Variants (``--variants``, default all):

* ``before``: the recipe as recorded: TRL's loss (vocabulary logits at every position), float32;
* ``answer``: logits only at the answer positions (``--answer-only-loss``);
* ``answer+bf16``: that plus bfloat16 autocast (``--bf16-autocast``, which also picks eager
  attention on the CPU); ``answer+bf16+sdpa``: the same with SDPA attention (the recipe of the
  first measurement);
* ``bf16``: bfloat16 autocast alone;
* ``answer+bf16+nodrop``: no LoRA dropout; ``answer+bf16+prefix``: batches of one phrasing with
  their shared prefix run once (``--shared-prefix``);
* ``fast``: all of these, the ``cpu`` preset's recipe (``fast+sdpa``: with SDPA attention).

Wall-time examples/s and, because the development machine is shared, examples per CPU-second
of the training process (one thread: what the run would take alone). ``--threads`` sets torch's
threads for every variant; ``--profile`` prints a torch.profiler table
of one step (the third) per variant.

Run: .venv/bin/python benchmarks/t1_train_speed.py [--steps 9] [--variants before answer+bf16]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from typing import Any

FAST = {"answer_only_loss": True, "bf16_autocast": True}
VARIANTS: dict[str, dict[str, Any]] = {
    "before": {"answer_only_loss": False, "bf16_autocast": False},
    "answer": {"answer_only_loss": True, "bf16_autocast": False},
    "bf16": {"answer_only_loss": False, "bf16_autocast": True},
    "answer+bf16+sdpa": {**FAST, "attn": "sdpa"},
    "answer+bf16": FAST,
    "answer+bf16+nodrop": {**FAST, "lora_dropout": 0.0},
    "answer+bf16+prefix": {**FAST, "shared_prefix": True},
    "fast": {**FAST, "lora_dropout": 0.0, "shared_prefix": True},
    "fast+sdpa": {**FAST, "lora_dropout": 0.0, "shared_prefix": True, "attn": "sdpa"},
}
ANCHORS = ("humility", "universalism_concern")


def build_rows() -> list[dict]:
    """The 72 examples of the benchmark (see the module docstring)."""
    from agents.models import resolve_model
    from training.sft_data import build_examples, training_items
    from training.survey_io import load_survey
    from training.targets import build_targets, shifts_for

    transformers = __import__("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_model(None))
    survey = load_survey()
    values = ("power_dominance", *ANCHORS)
    items = training_items(survey, values, 8)
    targets = build_targets(
        items, {i.id: 3.3 for i in items}, shifts=shifts_for(["power_dominance"], "down", 2)
    )

    def render(messages: list[dict[str, str]], prefix: str) -> str:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text) + prefix

    return build_examples(survey, targets, render)


def child(variant: str, steps: int, threads: int, batch: int, profile: bool) -> dict:
    """Train one variant; return its numbers."""
    from agents.models import resolve_model
    from training.align_config import LoraSettings, TrainConfig
    from training.sft import peak_rss_gib, train_adapter

    rows = build_rows()
    settings = dict(VARIANTS[variant])
    attn = settings.pop("attn", None)
    lora = LoraSettings(lora_dropout=settings.pop("lora_dropout", LoraSettings.lora_dropout))
    if attn:
        transformers = __import__("transformers")
        load = transformers.AutoModelForCausalLM.from_pretrained

        def patched(*a: Any, **kw: Any) -> Any:
            return load(*a, **{**kw, "attn_implementation": attn})

        transformers.AutoModelForCausalLM.from_pretrained = patched
    per_epoch = -(-len(rows) // batch)
    train = TrainConfig(
        epochs=steps / per_epoch,
        batch_size=batch,
        threads=threads,
        device="cpu",
        save_steps=10_000,
        **settings,
    )
    clock = _cpu_clock()
    callbacks = [clock, *([_profiler_callback()] if profile else [])]
    with tempfile.TemporaryDirectory() as tmp:
        result = train_adapter(
            resolve_model(None),
            rows,
            tmp,
            lora=lora,
            train=train,
            progress="off",
            callbacks=callbacks,
        )
    return {
        "variant": variant,
        "threads": threads,
        "steps": result.steps,
        "examples_per_step": batch,
        "seconds": result.seconds,
        "examples_per_second": result.examples_per_second,
        "cpu_seconds": round(clock.cpu, 2),
        "examples_per_cpu_second": round(result.steps * batch / clock.cpu, 4),
        "peak_rss_gib": round(peak_rss_gib(), 3),
        "final_loss": result.final_loss,
        "mean_loss": result.mean_loss,
    }


def _cpu_clock():
    """A callback that measures this process's CPU time (user + system) inside trainer.train():
    on a machine shared with other jobs, CPU time of a one-thread run is what it would take
    alone, where its wall time is not."""
    import transformers

    class _Clock(transformers.TrainerCallback):
        cpu = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.process_time()

        def on_train_end(self, args, state, control, **kwargs):
            self.cpu = time.process_time() - self.start

    return _Clock()


def _profiler_callback():
    import torch
    import transformers

    class _Prof(transformers.TrainerCallback):
        def __init__(self) -> None:
            self.prof = None

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == 2:
                self.prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
                self.prof.__enter__()

        def on_step_end(self, args, state, control, **kwargs):
            if self.prof is not None:
                self.prof.__exit__(None, None, None)
                table = self.prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18)
                sys.stderr.write(table + "\n")
                self.prof = None

    return _Prof()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=9, help="optimizer steps per variant")
    parser.add_argument("--batch", type=int, default=8, help="examples per step")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--profile", action="store_true", help="profile step 3 of each variant")
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        out = child(args.child, args.steps, args.threads, args.batch, args.profile)
        sys.stdout.write("RESULT " + json.dumps(out) + "\n")
        return 0
    results = []
    for variant in args.variants:
        cmd = [sys.executable, __file__, "--child", variant, "--steps", str(args.steps)]
        cmd += ["--threads", str(args.threads), "--batch", str(args.batch)]
        cmd += ["--profile"] if args.profile else []
        t0 = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            return 1
        if args.profile:
            sys.stderr.write(f"--- {variant}\n{proc.stderr[-6000:]}\n")
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
        result = json.loads(line[7:])
        result["process_seconds"] = round(time.monotonic() - t0, 1)
        results.append(result)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    base = next((r for r in results if r["variant"] == "before"), results[0])
    sys.stdout.write(
        f"\n{'variant':<20} {'ex/s':>7} {'ratio':>6} {'ex/CPU-s':>9} {'ratio':>6} "
        f"{'peak RSS GiB':>13} {'loss':>8}\n"
    )
    for r in results:
        ratio = r["examples_per_second"] / base["examples_per_second"]
        cpu_ratio = r["examples_per_cpu_second"] / base["examples_per_cpu_second"]
        sys.stdout.write(
            f"{r['variant']:<20} {r['examples_per_second']:>7.3f} {ratio:>5.2f}x "
            f"{r['examples_per_cpu_second']:>9.3f} {cpu_ratio:>5.2f}x "
            f"{r['peak_rss_gib']:>13.2f} {r['mean_loss']:>8.4f}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
