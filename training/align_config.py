"""Configuration of ``s2b align``: dataclasses, presets and YAML files.

A run is configured by five sections, each a dataclass whose fields become ``s2b align`` options
(help in the field metadata, checks in ``__post_init__``): :class:`TargetConfig` (what to move),
:class:`DataConfig` (which training items), :class:`LoraSettings`, :class:`TrainConfig` and
:class:`EvalConfig`; :class:`AlignConfig` holds them plus the model and the run folder.

Values come from, in increasing precedence: the dataclass defaults (the CPU recipe for the
default model), a preset (:data:`PRESETS`), a YAML file (``--config``), and options given on the
command line. A YAML file has the sections as mappings, e.g.::

    preset: cpu
    targets: {values: [power_dominance], direction: down, delta: 2}
    train: {epochs: 12, learning_rate: 0.0015}

Every run writes its resolved configuration as ``config.yaml``; :func:`load_config` reproduces it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from s2b_env.errors import DataError
from s2b_env.values import VALUE_IDS
from training.align_checks import is_int, positive, value_ids
from training.align_presets import PRESETS
from training.targets import DIRECTIONS, MOVED_TARGETS

#: The LoRA target modules of Llama-style models: all attention and MLP projections.
ALL_PROJECTIONS: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
SCHEDULERS: tuple[str, ...] = ("cosine", "linear", "constant", "constant_with_warmup")
__all__ = ["PRESETS", "AlignConfig", "build_config", "load_config", "save_config"]


@dataclass
class TargetConfig:
    """What to move: values up or down by some points, or a full target profile."""

    values: tuple[str, ...] = field(
        default=(),
        metadata={"help": "value id(s) to move, e.g. power_dominance", "flag": "--value"},
    )
    direction: Literal["down", "up"] = field(
        default="down", metadata={"help": "move the chosen values' answers down or up"}
    )
    delta: int = field(default=2, metadata={"help": "scale points to move them (1-5)"})
    target_profile: Path | None = field(
        default=None,
        metadata={
            "help": "JSON file {value id: rating 1-6} setting the answers of those values "
            "(instead of --value/--direction/--delta)"
        },
    )

    placebo: bool = field(
        default=False,
        metadata={
            "help": "a placebo adapter: the same values, items, recipe, steps and seed, but "
            "every target is the model's own answer (nothing moved)"
        },
    )
    anchors: Literal["hard", "soft"] = field(
        default="hard",
        metadata={
            "help": "hard: train every item on one digit (the paper's recipe); soft: train each "
            "prompt towards the base model's own digit distribution (docs/align.md)"
        },
    )
    moved_target: Literal["shifted", "onehot"] = field(
        default="shifted",
        metadata={
            "help": "with --anchors soft, a moved value's target: the base distribution "
            "shifted by --delta, or one-hot on the hard target digit"
        },
    )

    def __post_init__(self) -> None:
        self.values = value_ids("value", self.values)
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction: expected down or up, got {self.direction!r}")
        for name, allowed in (("anchors", ("hard", "soft")), ("moved_target", MOVED_TARGETS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: expected one of {allowed}, got {getattr(self, name)!r}")
        if not is_int(self.delta) or not 1 <= self.delta <= 5:
            raise ValueError(f"delta: expected an integer from 1 to 5, got {self.delta!r}")
        if self.target_profile is not None:
            self.target_profile = Path(self.target_profile)
            if self.placebo:
                raise ValueError("placebo: expected --value (a placebo keeps --direction for its "
                                 "report), got a --target-profile")  # fmt: skip
            if self.values:
                raise ValueError(
                    "expected either --value or --target-profile, got both "
                    f"(--value {' '.join(self.values)}, --target-profile {self.target_profile})"
                )


@dataclass
class DataConfig:
    """Which training items become examples."""

    anchor_values: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "values whose training items are trained on the model's own answers "
            "(default: --n-anchor-values drawn with --seed from the values not moved)"
        },
    )
    n_anchor_values: int = field(
        default=2,
        metadata={"help": "anchor values to draw when --anchor-values is not given (0-19)"},
    )
    train_items_per_value: int = field(
        default=8,
        metadata={"help": "training items per value, first in file order; 0 takes all (10)"},
    )
    phrasings: tuple[str, ...] = field(
        default=(), metadata={"help": "phrasing ids for training and evaluation (default: all)"}
    )
    items_file: Path | None = field(
        default=None,
        metadata={
            "help": "your own survey items (.jsonl/.csv, the shipped format; default: shipped)"
        },
    )
    phrasings_file: Path | None = field(
        default=None,
        metadata={"help": "your own phrasings (.json, the shipped schema; default: shipped)"},
    )

    def __post_init__(self) -> None:
        for name in ("items_file", "phrasings_file"):
            if getattr(self, name) is not None:
                setattr(self, name, Path(getattr(self, name)))
        self.anchor_values = value_ids("anchor_values", self.anchor_values)
        if not is_int(self.n_anchor_values):
            raise ValueError(f"n_anchor_values: expected an integer, got {self.n_anchor_values!r}")
        if not 0 <= self.n_anchor_values <= len(VALUE_IDS) - 1:
            raise ValueError(f"n_anchor_values: expected 0 to 19, got {self.n_anchor_values}")
        positive("train_items_per_value", self.train_items_per_value, zero=True)
        if isinstance(self.phrasings, str):
            self.phrasings = (self.phrasings,)
        self.phrasings = tuple(self.phrasings)


@dataclass
class LoraSettings:
    """The peft LoRA adapter."""

    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha (scale = alpha / r)"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA input"})
    lora_target_modules: tuple[str, ...] = field(
        default=ALL_PROJECTIONS,
        metadata={"help": "module names to adapt (default: all attention and MLP projections)"},
    )

    def __post_init__(self) -> None:
        positive("lora_r", self.lora_r)
        positive("lora_alpha", self.lora_alpha)
        if not isinstance(self.lora_dropout, int | float) or not 0 <= self.lora_dropout < 1:
            raise ValueError(
                f"lora_dropout: expected a number in [0, 1), got {self.lora_dropout!r}"
            )
        if isinstance(self.lora_target_modules, str):
            self.lora_target_modules = (self.lora_target_modules,)
        self.lora_target_modules = tuple(self.lora_target_modules)
        if not self.lora_target_modules:
            raise ValueError("lora_target_modules: expected at least one module name, got none")


@dataclass
class TrainConfig:
    """The optimisation (TRL ``SFTTrainer``)."""

    learning_rate: float = field(default=1.5e-3, metadata={"help": "peak learning rate"})
    lr_scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = field(
        default="cosine", metadata={"help": "learning-rate schedule"}
    )
    warmup_ratio: float = field(default=0.0, metadata={"help": "share of steps to warm up"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    epochs: float = field(default=12.0, metadata={"help": "passes over the training examples"})
    batch_size: int = field(default=8, metadata={"help": "examples per device step"})
    grad_accum: int = field(default=1, metadata={"help": "gradient accumulation steps"})
    seed: int = field(default=0, metadata={"help": "seed of training, anchor draw, bootstrap"})
    threads: int = field(
        default=1,
        metadata={
            "help": "torch CPU threads (1 was 4-7x faster than 2 on a shared 2-core machine); "
            "0 keeps torch's default"
        },
    )
    dtype: Literal["float32", "bfloat16"] = field(
        default="float32", metadata={"help": "training dtype (bfloat16 on a GPU)"}
    )
    device: Literal["auto", "cpu", "cuda"] = field(
        default="auto", metadata={"help": "where to train (auto: cuda if available)"}
    )
    save_steps: int = field(default=20, metadata={"help": "save a checkpoint every N steps"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints to keep"})
    max_length: int = field(default=512, metadata={"help": "longest example in tokens"})
    gradient_checkpointing: bool = field(
        default=False, metadata={"help": "trade compute for memory (large models)"}
    )
    answer_only_loss: bool = field(
        default=True,
        metadata={
            "help": "vocabulary logits only at the positions that carry loss (the answer); "
            "false: at every position (TRL's loss, same value, slower)"
        },
    )
    bf16_autocast: bool = field(
        default=False,
        metadata={"help": "bfloat16 autocast (float32 weights, bf16 matmuls; CPUs with AMX)"},
    )
    shared_prefix: bool = field(
        default=False, metadata={"help": "batches of one phrasing, their shared prefix run once"}
    )

    def __post_init__(self) -> None:
        positive("learning_rate", self.learning_rate, float)
        if self.lr_scheduler not in SCHEDULERS:
            raise ValueError(
                f"lr_scheduler: expected one of {SCHEDULERS}, got {self.lr_scheduler!r}"
            )
        for name in ("warmup_ratio", "weight_decay"):
            positive(name, getattr(self, name), float, zero=True)
        if self.warmup_ratio >= 1:
            raise ValueError(f"warmup_ratio: expected a number in [0, 1), got {self.warmup_ratio}")
        positive("epochs", self.epochs, float)
        for name in ("batch_size", "grad_accum", "save_steps", "save_total_limit", "max_length"):
            positive(name, getattr(self, name))
        positive("threads", self.threads, zero=True)
        positive("seed", self.seed, zero=True)
        if self.dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype: expected float32 or bfloat16, got {self.dtype!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device: expected auto, cpu or cuda, got {self.device!r}")
        flags = "gradient_checkpointing answer_only_loss bf16_autocast shared_prefix"
        for name in flags.split():
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"{name}: expected a bool, got {type(getattr(self, name)).__name__}"
                )


@dataclass
class EvalConfig:
    """The held-out evaluation."""

    eval_values: tuple[str, ...] = field(
        default=(),
        metadata={"help": "values whose held-out items are evaluated (default: all 20)"},
    )
    bootstrap: int = field(
        default=2000, metadata={"help": "bootstrap replicates for the 95%% intervals"}
    )
    placebo_run: Path | None = field(
        default=None,
        metadata={
            "help": "a placebo run's folder (--placebo, same settings): report aligned - placebo"
        },
    )

    def __post_init__(self) -> None:
        if self.placebo_run is not None:
            self.placebo_run = Path(self.placebo_run)
        self.eval_values = value_ids("eval_values", self.eval_values)
        if not is_int(self.bootstrap) or self.bootstrap < 100:
            raise ValueError(f"bootstrap: expected an integer >= 100, got {self.bootstrap!r}")


#: Section name in YAML -> dataclass.
SECTIONS: dict[str, type] = {
    "targets": TargetConfig,
    "data": DataConfig,
    "lora": LoraSettings,
    "train": TrainConfig,
    "eval": EvalConfig,
}


@dataclass
class AlignConfig:
    """A whole ``s2b align`` run."""

    model: str | None = None
    preset: str = "cpu"
    targets: TargetConfig = field(default_factory=TargetConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraSettings = field(default_factory=LoraSettings)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {self.preset!r}")
        for name, cls in SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise TypeError(
                    f"{name}: expected a {cls.__name__}, got {type(getattr(self, name)).__name__}"
                )
        if not self.targets.values and self.targets.target_profile is None:
            raise ValueError(
                "expected a value to move (--value ID, with --direction and --delta) or a "
                "--target-profile JSON file, got neither"
            )
        overlap = set(self.targets.values) & set(self.data.anchor_values)
        if overlap:
            raise ValueError(
                f"anchor_values: expected values that are not moved, got {sorted(overlap)}"
            )
        left_out = [v for v in self.targets.values if v not in self.eval.eval_values]
        if self.eval.eval_values and left_out:
            raise ValueError(
                f"eval_values: expected every moved value among them (the target shift is "
                f"measured on its held-out items), got {list(self.eval.eval_values)} without "
                f"{left_out}; add them or leave eval_values empty (all 20)"
            )

    def to_dict(self) -> dict[str, Any]:
        """A YAML/JSON-ready dict (paths as strings, tuples as lists)."""
        out: dict[str, Any] = {"model": self.model, "preset": self.preset}
        for name in SECTIONS:
            section = {}
            for f in dataclasses.fields(getattr(self, name)):
                x = getattr(getattr(self, name), f.name)
                section[f.name] = (
                    list(x) if isinstance(x, tuple) else str(x) if isinstance(x, Path) else x
                )
            out[name] = section
        return out


def field_sections() -> dict[str, str]:
    """Every option's field name -> its section (field names are unique across sections)."""
    return {f.name: name for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)}


def build_config(
    *,
    preset: str = "cpu",
    yaml_data: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    model: str | None = None,
    source: Path | None = None,
) -> AlignConfig:
    """Resolve defaults < preset < YAML < overrides into an :class:`AlignConfig`.

    Args:
        preset: A :data:`PRESETS` name (a ``preset`` key in the YAML wins over it).
        yaml_data: A parsed YAML config (sections as mappings; ``model``, ``preset``).
        overrides: Field values given explicitly, by field name (e.g. ``{"epochs": 2}``).
        model: The model, unless the YAML or ``overrides["model"]`` names one.
        source: The YAML file, for error messages.

    Raises:
        DataError: The YAML has an unknown section or key.
        ValueError: A value is invalid (from the dataclasses' checks).
    """
    yaml_data = dict(yaml_data or {})
    overrides = dict(overrides or {})
    where = source or Path("<config>")
    for key in yaml_data:
        if key not in ("model", "preset", *SECTIONS):
            raise DataError(
                where,
                f"unknown key {key!r}: expected model, preset, {', '.join(SECTIONS)}",
                field=key,
            )
    preset = str(overrides.pop("preset", None) or yaml_data.get("preset") or preset)
    if preset not in PRESETS:
        raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {preset!r}")
    model = overrides.pop("model", None) or yaml_data.get("model") or model
    sections = field_sections()
    floats = {f.name for c in SECTIONS.values() for f in dataclasses.fields(c) if f.type == "float"}
    for key in overrides:
        if key not in sections:
            raise ValueError(f"unknown option {key!r}")
    built: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        values: dict[str, Any] = dict(PRESETS[preset].get(name, {}))
        given = yaml_data.get(name) or {}
        if not isinstance(given, dict):
            raise DataError(where, f"expected a mapping, got {type(given).__name__}", field=name)
        names = {f.name for f in dataclasses.fields(cls)}
        for key, x in given.items():
            if key not in names:
                raise DataError(
                    where,
                    f"unknown key {key!r} in section {name}: expected {', '.join(sorted(names))}",
                    field=f"{name}.{key}",
                )
            values[key] = _from_yaml(floats, key, x)
        values.update({k: v for k, v in overrides.items() if sections[k] == name})
        try:
            built[name] = cls(**values)
        except (ValueError, TypeError) as exc:
            if source is not None:
                raise _yaml_error(source, exc, name) from None
            raise
    try:
        return AlignConfig(model=model, preset=preset, **built)
    except (ValueError, TypeError) as exc:
        if source is not None:
            raise _yaml_error(source, exc, None) from None
        raise


def _from_yaml(floats: set[str], key: str, x: Any) -> Any:
    """A YAML value as the dataclass takes it: lists as tuples, numeric strings of float fields as floats.

    PyYAML follows YAML 1.1, which reads ``1e-3`` (no dot) as the string ``'1e-3'``; a float field
    takes it as the number it was meant to be.
    """
    if isinstance(x, list):
        return tuple(x)
    if key in floats and isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return x
    return x


def _yaml_error(source: Path, exc: Exception, section: str | None) -> DataError:
    """A dataclass check's ``"<field>: ..."`` error as a DataError naming the YAML file and field.

    Args:
        source: The YAML file.
        exc: The ValueError/TypeError; its message starts with the field name (or, for
            ``targets.values``, the option name ``value``) when the check is about one field.
        section: The section whose dataclass raised it; ``None`` for the cross-section checks of
            :class:`AlignConfig`.
    """
    message = str(exc)
    head, sep, rest = message.partition(": ")
    sections = field_sections()
    flags = {
        f.metadata["flag"].lstrip("-"): f.name
        for cls in SECTIONS.values()
        for f in dataclasses.fields(cls)
        if "flag" in f.metadata
    }
    name = flags.get(head, head) if sep else None
    if name in sections and (section is None or sections[name] == section):
        return DataError(source, rest, field=f"{sections[name]}.{name}")
    return DataError(source, message, field=section)


def load_config(path: str | Path, **kwargs: Any) -> AlignConfig:
    """Read a YAML config file (see the module docstring) into an :class:`AlignConfig`.

    Args:
        path: The ``.yaml`` file.
        **kwargs: Passed to :func:`build_config` (``overrides``, ``model``).

    Raises:
        DataError: The file is missing, not YAML, or has unknown keys or bad values.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such config file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(
            path, f"invalid YAML: {exc}", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise DataError(path, f"expected a mapping of sections, got {type(data).__name__}")
    return build_config(yaml_data=data, source=path, **kwargs)


def save_config(config: AlignConfig, path: str | Path) -> Path:
    """Write ``config`` as YAML (loads back with :func:`load_config`)."""
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return path
