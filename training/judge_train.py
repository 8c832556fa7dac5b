"""Fine-tuning the value judge (``s2b judge train``): a LoRA adapter on the judge's labelled data.

The data (:mod:`agents.judge.labels`) are the dilemmas' option effects, our own games' value events
and the Jiminy Cricket labels of finished runs' steps, in the judge's own prompt format; training is
:func:`training.sft.train_adapter` (TRL + peft, as ``s2b align``; ``lm_head`` is never a target).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.judge.judge import ValueJudge
from agents.judge.labels import Labelled, dilemma_items, run_items, save_rows, training_rows
from s2b_env.errors import ConfigError
from s2b_env.values import VALUE_IDS


def tokenized(tokenize: Any, row: dict[str, Any], eos: int | None) -> dict[str, list[int]]:
    """A row's ``input_ids`` and ``completion_mask`` with prompt and completion tokenized apart.

    The judge reads its label after the prompt's last token (``"Answer: "`` ends in a space
    token); tokenized together, ``"Answer: Yes"`` would merge into ``" Yes"`` and the adapter
    would learn a context it never sees when judging. So the completion's tokens follow the
    prompt's exactly as at inference, then the end-of-sequence token (loss on both).
    """
    prompt, completion = tokenize(row["prompt"]), tokenize(row["completion"])
    completion += [eos] if eos is not None else []
    return {"input_ids": prompt + completion,
            "completion_mask": [0] * len(prompt) + [1] * len(completion)}  # fmt: skip


def train_judge(
    out_dir: str | Path,
    *,
    model: str | None = None,
    runs: Sequence[str | Path] = (),
    dilemmas: bool = True,
    exclude: Sequence[str] = (),
    zero_share: float = 0.1,
    negatives_per_positive: float = 3.0,
    max_examples: int | None = None,
    only: Sequence[str] = (),
    lora: Any = None,
    train: Any = None,
    progress: str = "off",
    console: Any = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Build the judge's training rows and fine-tune a LoRA judge adapter into ``OUT/adapter``.

    Args:
        out_dir: The run folder (``adapter/``, ``examples.jsonl``, ``judge.json``, logs).
        model: The base model folder (default: the default model).
        runs: Finished runs whose labelled steps to learn from (Jiminy, own games).
        dilemmas: Learn from the dilemmas' train split too.
        exclude: Groups (game names, dilemma ids) left out, e.g. a held-out game.
        zero_share, negatives_per_positive: See :func:`training_rows`.
        max_examples: Keep at most this many rows (a random subset, for quick runs).
        only: Keep only the rows of these questions (value ids, ``harm_others``, ``harm_self``);
            empty: all.
        lora, train: :class:`training.align_config.LoraSettings` and ``TrainConfig``.
        progress, console, resume: As :func:`training.sft.train_adapter`.

    Returns:
        What ``OUT/judge.json`` records: prompt version, base model, example counts, training.

    Raises:
        ValueError: No labelled example, or ``lm_head`` among the LoRA targets.
    """
    from agents.backends.transformers_backend import TransformersBackend
    from training.align_config import LoraSettings, TrainConfig
    from training.sft import train_adapter

    lora = lora or LoraSettings()
    train = train or TrainConfig()
    if any("lm_head" in m for m in lora.lora_target_modules):
        raise ConfigError("lora_target_modules: the judge never adapts lm_head; drop it")
    out = Path(out_dir)
    items: list[Labelled] = dilemma_items("train") if dilemmas else []
    for run in runs:
        items += run_items(run)
    items = [i for i in items if i.group not in set(exclude)]
    backend = TransformersBackend(model)
    try:
        judge = ValueJudge(backend)
        rows = training_rows(judge, items, zero_share=zero_share,
                             negatives_per_positive=negatives_per_positive, seed=train.seed)  # fmt: skip
        if only:
            unknown = sorted(set(only) - {q.key for q in judge.questions})
            if unknown:
                raise ConfigError(
                    f"--only: unknown question {unknown[0]!r}; expected a value id, harm_others "
                    "or harm_self"
                )
            rows = [r for r in rows if r["key"] in set(only)]
        if max_examples is not None:
            rows = rows[:max_examples]  # already shuffled
        eos = backend.tokenizer.eos_token_id
        for row in rows:
            row.update(tokenized(backend.tokenize, row, eos))
        model_dir = backend.model_dir
        version = judge.prompt_version
    finally:
        backend.close()
    if not rows:
        raise ConfigError("no labelled example to train the judge on: give --runs or dilemmas")
    save_rows([{k: v for k, v in r.items() if k not in ("input_ids", "completion_mask")}
               for r in rows], out / "examples.jsonl")  # fmt: skip
    counts: dict[str, int] = {}
    for row in rows:
        kind = f"{row['source']}:{'value' if row['key'] in VALUE_IDS else 'harm'}"
        counts[kind] = counts.get(kind, 0) + 1
    result = train_adapter(model_dir, rows, out, lora=lora, train=train, progress=progress,
                           console=console, resume=resume)  # fmt: skip
    summary = {
        "prompt_version": version,
        "base_model": str(model_dir),
        "runs": [str(r) for r in runs],
        "dilemmas": dilemmas,
        "excluded": list(exclude),
        "only": list(only),
        "labelled_items": len(items),
        "examples": len(rows),
        "examples_by_source": counts,
        "train": result.to_json(),
    }
    (out / "judge.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
