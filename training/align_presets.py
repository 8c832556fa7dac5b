"""The named starting points of ``s2b align`` (``--preset``); see ``docs/align.md``.

Each preset overrides the dataclass defaults of :mod:`training.align_config`, section by
section; a YAML file and the command line override the preset.
"""

from __future__ import annotations

from typing import Any

#: Named starting points; each overrides the dataclass defaults, section by section.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # The recipe measured on SmolLM2-135M-Instruct with 2 CPU cores (docs/align.md), faster
    # since issue 16 (T1 in docs/benchmarks.md): logits at the answer only, bfloat16 autocast, no
    # LoRA dropout; item-specific in its full run. Batches of one phrasing (shared_prefix) were
    # faster still but learned mostly the average answer here ("Speed"), so they are off.
    "cpu": {
        "data": {"n_anchor_values": 2, "train_items_per_value": 8},
        "lora": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0},
        "train": {
            "learning_rate": 1.5e-3,
            "lr_scheduler": "cosine",
            "epochs": 12.0,
            "batch_size": 8,
            "threads": 1,
            "dtype": "float32",
            "device": "cpu",
            "answer_only_loss": True,
            "bf16_autocast": True,
        },
    },
    # A few minutes on a 2-core CPU, for s2b demo: one phrasing (portrait) for training and the
    # profiles, the cpu recipe's items and anchors, no LoRA dropout (its random masks were a
    # sixth of a CPU step), a higher learning rate and fewer epochs.
    "demo": {
        "data": {"n_anchor_values": 2, "train_items_per_value": 8, "phrasings": ("portrait",)},
        "lora": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0},
        "train": {
            "learning_rate": 3e-3,
            "lr_scheduler": "cosine",
            "epochs": 8.0,
            "batch_size": 8,
            "threads": 1,
            "dtype": "float32",
            "device": "cpu",
            "save_steps": 8,
            "answer_only_loss": True,
            "bf16_autocast": True,
            "shared_prefix": True,
        },
        "eval": {"bootstrap": 1000},
    },
    # 7-8B instruct models on one GPU: bf16, every value anchored, all training items.
    "gpu": {
        "data": {"n_anchor_values": 19, "train_items_per_value": 0},
        "lora": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05},
        "train": {
            "learning_rate": 2e-4,
            "lr_scheduler": "cosine",
            "warmup_ratio": 0.03,
            "epochs": 4.0,
            "batch_size": 16,
            "threads": 0,
            "dtype": "bfloat16",
            "device": "cuda",
            "save_steps": 50,
            "gradient_checkpointing": True,
        },
    },
    # A minutes-long end-to-end check (CI): a few items, one phrasing, two epochs; the cpu
    # preset's fast path (answer-only loss, bf16 autocast).
    "smoke": {
        "data": {"n_anchor_values": 1, "train_items_per_value": 2, "phrasings": ("portrait",)},
        "train": {
            "epochs": 2.0,
            "batch_size": 4,
            "save_steps": 1,
            "threads": 1,
            "device": "cpu",
            "bf16_autocast": True,
            "shared_prefix": True,
        },
        "eval": {"bootstrap": 500},
    },
}
