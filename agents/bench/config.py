"""The configuration of ``s2b bench``: which agents play which envs, with which seeds, and how.

A bench is written as YAML (see docs/bench.md)::

    name: base-vs-power-down
    agents:
      - {name: random, kind: random}
      - {name: base, kind: llm, model: default, backend: transformers}
      - {name: power-down, kind: llm, adapter: runs/align/power_dominance-down}
    baseline: base
    envs:
      - {name: lastferry, id: s2b-lastferry, max_steps: 30}
      - {name: dilemma, id: dilemma, kwargs: {split: test}}
    seeds: [0, 1]
    episodes: 1

:func:`load_bench_config` reads it; every problem is a :class:`BenchConfigError` naming the file,
the line and the field (``bench.yaml:7: agents[2].kind: unknown agent kind 'lmm'; did you mean
'llm'?``). The dataclasses check their own fields in ``__post_init__``, so a config built in
Python is checked the same way (the message then names the field only).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from s2b_env.errors import ConfigError

AGENT_KINDS = ("random", "walkthrough", "llm")
BACKENDS = ("transformers", "vllm", "openai")
EXECUTORS = ("local", "ray")
#: Fields that say where and how fast a bench runs, not what it computes: a rerun may change them.
RUNTIME_FIELDS = ("executor", "workers", "ray_address", "games_dir", "unit_timeout", "server_url")

Path_ = tuple[str | int, ...]


class BenchConfigError(ConfigError):
    """A bad bench config field; ``path`` is the field (``("agents", 1, "kind")``)."""

    def __init__(self, path: Path_, detail: str, where: str | None = None) -> None:
        self.path = tuple(path)
        self.detail = detail
        self.where = where
        prefix = f"{where}: " if where else ""
        name = field_name(self.path)
        super().__init__(f"{prefix}{name + ': ' if name else ''}{detail}")

    def within(self, *prefix: str | int) -> BenchConfigError:
        """The same error for a field nested in ``prefix``."""
        return BenchConfigError(tuple(prefix) + self.path, self.detail, self.where)


def field_name(path: Path_) -> str:
    """``("agents", 1, "kind")`` as ``agents[1].kind``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _one_of(path: str, value: Any, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise BenchConfigError(
            (path,), f"unknown {what} {value!r}{_did_you_mean(value, choices)} "
            f"(expected one of: {', '.join(choices)})",
        )  # fmt: skip


def _name(path: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BenchConfigError((path,), f"expected a non-empty name, got {value!r}")
    if "/" in value or value != value.strip():
        raise BenchConfigError(
            (path,), f"a name may not contain '/' or surrounding spaces: {value!r}"
        )


def _from_mapping(cls: type, data: Any, path: Path_ = ()) -> Any:
    """Build dataclass ``cls`` from a mapping: unknown keys and missing fields are errors."""
    if not isinstance(data, dict):
        raise BenchConfigError(path, f"expected a mapping of {cls.__name__} fields, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            raise BenchConfigError(
                (*path, str(key)),
                f"unknown field{_did_you_mean(key, known)} (known: {', '.join(known)})",
            )
    for name, f in known.items():
        if name not in data and f.default is MISSING and f.default_factory is MISSING:
            raise BenchConfigError((*path, name), "this field is required")
    try:
        return cls(**data)
    except BenchConfigError as exc:
        raise exc.within(*path) from None
    except (TypeError, ValueError) as exc:
        raise BenchConfigError(path, str(exc)) from None


def resolve_adapter(adapter: str) -> Path | None:
    """The peft adapter folder of ``adapter``: the folder itself, or an ``s2b align`` run folder's
    ``adapter/``; ``None`` when neither holds ``adapter_config.json``."""
    path = Path(adapter).expanduser()
    for candidate in (path, path / "adapter"):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    return None


@dataclass
class AgentSpec:
    """One agent of a bench."""

    name: str = field(metadata={"help": "the agent's name in results and reports"})
    kind: str = field(metadata={"help": "random | walkthrough | llm"})
    model: str = field(
        default="default",
        metadata={"help": "llm: a model folder or served name; 'default' is SmolLM2-135M-Instruct"},
    )
    adapter: str | None = field(
        default=None,
        metadata={
            "help": "llm: a LoRA adapter folder, or an `s2b align` run folder (its adapter/)"
        },
    )
    backend: str = field(
        default="transformers",
        metadata={
            "help": "llm: transformers (in each worker) | vllm (the bench's server) | openai"
        },
    )
    base_url: str | None = field(
        default=None, metadata={"help": "llm with backend openai: the server's URL"}
    )
    route: str | None = field(
        default=None, metadata={"help": "walkthrough: which of the game's walkthroughs to play"}
    )
    options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "llm: LLMAgentConfig fields (history, orders, temperature, ...)"},
    )

    def __post_init__(self) -> None:
        _name("name", self.name)
        _one_of("kind", self.kind, AGENT_KINDS, "agent kind")
        _one_of("backend", self.backend, BACKENDS, "backend")
        if not isinstance(self.model, str) or not self.model.strip():
            raise BenchConfigError(
                ("model",), f"expected a model name or folder, got {self.model!r}"
            )
        if self.kind != "llm":
            for key in ("adapter", "base_url"):
                if getattr(self, key) is not None:
                    raise BenchConfigError(
                        (key,), f"only an llm agent takes {key} (kind is {self.kind})"
                    )
            if self.options:
                raise BenchConfigError(
                    ("options",), f"only an llm agent takes options (kind is {self.kind})"
                )
        if self.adapter is not None:
            if not isinstance(self.adapter, str) or not self.adapter.strip():
                raise BenchConfigError(
                    ("adapter",), f"expected an adapter folder, got {self.adapter!r}"
                )
            if self.backend != "openai" and resolve_adapter(self.adapter) is None:
                raise BenchConfigError(
                    ("adapter",),
                    f"{self.adapter!r} is neither a LoRA adapter folder (with adapter_config.json) "
                    "nor an `s2b align` run folder holding one in adapter/ (paths are relative to "
                    "the current folder)",
                )
        if not isinstance(self.options, dict):
            raise BenchConfigError(("options",), f"expected a mapping, got {self.options!r}")
        if self.options:
            from agents.llm_agent import LLMAgentConfig

            known = [f.name for f in fields(LLMAgentConfig)]
            for key in self.options:
                if key not in known:
                    raise BenchConfigError(
                        ("options", str(key)),
                        f"unknown LLM agent option{_did_you_mean(key, known)} (known: {', '.join(known)})",
                    )
            try:
                LLMAgentConfig(**self.options)
            except (TypeError, ValueError) as exc:
                raise BenchConfigError(("options",), str(exc)) from None


@dataclass
class EnvSpec:
    """One env of a bench."""

    name: str = field(metadata={"help": "the env's name in results and reports"})
    id: str = field(
        metadata={"help": "an s2b env id or short name (s2b-lastferry, dilemma, jiminy-zork1)"}
    )
    kwargs: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "keywords of the env (split, starting_percentage...)"},
    )
    max_steps: int | None = field(
        default=None, metadata={"help": "stop each episode after this many actions"}
    )

    def __post_init__(self) -> None:
        _name("name", self.name)
        if not isinstance(self.id, str) or not self.id.strip():
            raise BenchConfigError(("id",), f"expected an env id, got {self.id!r}")
        if not isinstance(self.kwargs, dict):
            raise BenchConfigError(("kwargs",), f"expected a mapping, got {self.kwargs!r}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, int)
            or self.max_steps < 1
        ):
            raise BenchConfigError(
                ("max_steps",), f"expected an integer >= 1, got {self.max_steps!r}"
            )

    def env_id(self, games_dir: str | None = None) -> str:
        """The registered id (checks the name and the keywords).

        Raises:
            BenchConfigError: No such env (with the closest ids), or a keyword it does not take.
        """
        import gymnasium

        import s2b_env
        from s2b_env.registration import accepts_kwarg, resolve_env_id

        s2b_env.register_games_dir(games_dir)
        try:
            env_id = resolve_env_id(self.id)
        except gymnasium.error.Error as exc:
            raise BenchConfigError(("id",), str(exc)) from None
        for key in self.kwargs:
            if not accepts_kwarg(env_id, key):
                raise BenchConfigError(("kwargs", str(key)), f"{env_id} takes no keyword {key!r}")
        return env_id


@dataclass
class JudgeSpec:
    """The value judge that scores every step (optional)."""

    model: str = field(
        default="default", metadata={"help": "the judge's model ('default': SmolLM2)"}
    )
    adapter: str | None = field(default=None, metadata={"help": "a LoRA adapter for the judge"})
    backend: str = field(default="transformers", metadata={"help": "transformers | vllm | openai"})
    base_url: str | None = field(default=None, metadata={"help": "backend openai: the URL"})
    prompt_version: str | None = field(default=None, metadata={"help": "the judge's prompt format"})
    batch: int = field(default=8, metadata={"help": "steps judged per call"})

    def __post_init__(self) -> None:
        _one_of("backend", self.backend, BACKENDS, "backend")
        if (
            self.adapter is not None
            and self.backend != "openai"
            and resolve_adapter(self.adapter) is None
        ):
            raise BenchConfigError(("adapter",), f"{self.adapter!r} is no LoRA adapter folder")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise BenchConfigError(("batch",), f"expected an integer >= 1, got {self.batch!r}")


@dataclass
class BenchConfig:
    """A whole bench: every (agent, env, seed, episode) is one unit of work."""

    agents: list[AgentSpec] = field(metadata={"help": "the agents (name, kind, model, adapter...)"})
    envs: list[EnvSpec] = field(metadata={"help": "the envs (name, id, kwargs, max_steps)"})
    name: str = field(default="bench", metadata={"help": "the bench's name"})
    baseline: str | None = field(
        default=None, metadata={"help": "the agent others are compared with (default: the first)"}
    )
    seeds: list[int] = field(default_factory=lambda: [0], metadata={"help": "the seeds"})
    episodes: int = field(default=1, metadata={"help": "episodes per (agent, env, seed)"})
    judge: JudgeSpec | None = field(default=None, metadata={"help": "the value judge, or null"})
    executor: str = field(default="local", metadata={"help": "local | ray"})
    workers: int = field(default=1, metadata={"help": "worker processes (local) or actors (ray)"})
    ray_address: str | None = field(default=None, metadata={"help": "ray: a cluster to join"})
    games_dir: str | None = field(
        default=None, metadata={"help": "games folder (else S2B_GAMES_DIR)"}
    )
    unit_timeout: float = field(
        default=900.0,
        metadata={
            "help": "seconds one unit may take before its worker is killed and it is retried"
        },
    )
    server_url: str | None = field(
        default=None, metadata={"help": "set by the bench: its vLLM server's URL (not in a file)"}
    )

    def __post_init__(self) -> None:
        self.agents = _specs(AgentSpec, self.agents, "agents")
        self.envs = _specs(EnvSpec, self.envs, "envs")
        if isinstance(self.judge, dict):
            self.judge = _from_mapping(JudgeSpec, self.judge, ("judge",))
        _name("name", self.name)
        names = [a.name for a in self.agents]
        if self.baseline is None:
            self.baseline = names[0]
        elif self.baseline not in names:
            raise BenchConfigError(
                ("baseline",), f"no agent called {self.baseline!r}{_did_you_mean(self.baseline, names)} "
                f"(agents: {', '.join(names)})",
            )  # fmt: skip
        if isinstance(self.seeds, tuple | range):
            self.seeds = list(self.seeds)
        if (
            not isinstance(self.seeds, list)
            or not self.seeds
            or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in self.seeds
            )
        ):
            raise BenchConfigError(
                ("seeds",), f"expected a list of integers >= 0, got {self.seeds!r}"
            )
        if len(set(self.seeds)) != len(self.seeds):
            raise BenchConfigError(("seeds",), f"seeds must differ, got {self.seeds}")
        if (
            isinstance(self.episodes, bool)
            or not isinstance(self.episodes, int)
            or not 1 <= self.episodes <= 1000
        ):
            raise BenchConfigError(
                ("episodes",), f"expected an integer in 1..1000, got {self.episodes!r}"
            )
        _one_of("executor", self.executor, EXECUTORS, "executor")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise BenchConfigError(("workers",), f"expected an integer >= 1, got {self.workers!r}")
        if (
            isinstance(self.unit_timeout, bool)
            or not isinstance(self.unit_timeout, int | float)
            or not self.unit_timeout > 0
        ):
            raise BenchConfigError(
                ("unit_timeout",), f"expected seconds > 0, got {self.unit_timeout!r}"
            )
        if self.games_dir is not None:
            self.games_dir = str(self.games_dir)

    def agent(self, name: str) -> AgentSpec:
        """The agent called ``name``."""
        return next(a for a in self.agents if a.name == name)

    def env(self, name: str) -> EnvSpec:
        """The env called ``name``."""
        return next(e for e in self.envs if e.name == name)

    def check_envs(self) -> dict[str, str]:
        """Resolve every env's id (``{name: env id}``).

        Raises:
            BenchConfigError: An unknown env or keyword (naming ``envs[i].id``).
        """
        ids = {}
        for i, spec in enumerate(self.envs):
            try:
                ids[spec.name] = spec.env_id(self.games_dir)
            except BenchConfigError as exc:
                raise exc.within("envs", i) from None
        return ids

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (JSON-able)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchConfig:
        """Build from plain data (unknown keys are errors)."""
        return _from_mapping(cls, dict(data))

    def result_dict(self) -> dict[str, Any]:
        """What determines the results: :meth:`to_dict` without :data:`RUNTIME_FIELDS`."""
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}

    def config_hash(self) -> str:
        """A hash of :meth:`result_dict` (a run folder holds one config hash)."""
        text = json.dumps(self.result_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _specs(cls: type, items: Any, key: str) -> list[Any]:
    if not isinstance(items, list) or not items:
        raise BenchConfigError((key,), f"expected a non-empty list of {key}, got {items!r}")
    out = []
    for i, item in enumerate(items):
        out.append(item if isinstance(item, cls) else _from_mapping(cls, item, (key, i)))
    names = [s.name for s in out]
    for i, spec in enumerate(out):
        if names.index(spec.name) != i:
            raise BenchConfigError((key, i, "name"), f"the name {spec.name!r} is used twice")
    return out


# --------------------------------------------------------------------------- YAML


def _line_map(node: Any, path: Path_, lines: dict[Path_, int]) -> None:
    """Record the 1-based line of every field in a composed YAML node tree."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            _line_map(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _line_map(value, (*path, i), lines)


def _line_of(path: Path_, lines: dict[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def load_bench_config(path: str | Path, overrides: dict[str, Any] | None = None) -> BenchConfig:
    """Read a bench config from YAML; ``overrides`` (command-line flags) replace top-level fields.

    Raises:
        BenchConfigError: A bad field (``FILE:LINE: field: problem``; an overridden field is named
            as coming from the command line), or YAML that does not parse.
        FileNotFoundError: No such file.
    """
    import yaml

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise BenchConfigError(
            (), f"not valid YAML: {getattr(exc, 'problem', exc)}", where
        ) from None
    if not isinstance(data, dict):
        raise BenchConfigError(
            (), "expected a mapping of bench fields (agents, envs, seeds...)", str(path)
        )
    lines: dict[Path_, int] = {}
    _line_map(node, (), lines)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    data.update(overrides)
    try:
        config = BenchConfig.from_dict(data)
        config.check_envs()
    except BenchConfigError as exc:
        if exc.path and exc.path[0] in overrides:
            where = f"{path} (overridden on the command line)"
        else:
            line = _line_of(exc.path, lines)
            where = f"{path}:{line}" if line else str(path)
        raise BenchConfigError(exc.path, exc.detail, where) from None
    return config


__all__ = [
    "AGENT_KINDS",
    "BACKENDS",
    "EXECUTORS",
    "RUNTIME_FIELDS",
    "AgentSpec",
    "BenchConfig",
    "BenchConfigError",
    "EnvSpec",
    "JudgeSpec",
    "field_name",
    "load_bench_config",
    "resolve_adapter",
]
