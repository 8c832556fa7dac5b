"""The bench's model server: one vLLM server for the base model and every agent's adapter.

When a bench's llm agents (or its judge) use backend ``vllm``, :func:`serve_bench` starts ONE
vLLM OpenAI-compatible server (the ``s2b serve`` machinery,
:class:`~agents.backends.vllm_server.VLLMServer`, on loopback) that serves the base model and every
adapter those agents name as LoRA modules in one process. Workers, local processes or Ray actors,
reach it by URL through the OpenAI backend (the config's ``server_url``; each adapter is asked for
by its name on the server, which is the agent's ``adapter`` string as written in the config). The
server is stopped when the bench ends, however it ends.

A server that dies mid-bench: each request is retried a bounded number of times by the OpenAI
backend (``max_retries``, with backoff), then the unit's backend error is fatal
(:class:`~agents.bench.executor.FatalBenchError`): the bench stops, and the error says the server
died, with its exit status and the tail of its log; the finished units are kept and the same
command continues the run.

The server listens on loopback only, so it serves this machine: a Ray cluster's other nodes cannot
reach it. With ``ray_address`` set, use backend ``openai`` and a server started with
``s2b serve --host ... --api-key ...`` that every node can reach.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agents.bench.config import BenchConfig, BenchConfigError, resolve_adapter

#: The config's name for the model of an agent that names none.
DEFAULT_MODEL = "default"


def served_specs(config: BenchConfig) -> list[tuple[tuple[str | int, ...], Any]]:
    """The agents and the judge that use the bench's server, with their config paths."""
    specs: list[tuple[tuple[str | int, ...], Any]] = [
        (("agents", i), a)
        for i, a in enumerate(config.agents)
        if a.kind == "llm" and a.backend == "vllm"
    ]
    judge = config.judge
    if judge is not None and getattr(judge, "backend", None) == "vllm":
        specs.append((("judge",), judge))
    return specs


def needs_server(config: BenchConfig) -> bool:
    """Whether any agent (or the judge) of ``config`` uses backend ``vllm``."""
    return bool(served_specs(config))


def server_plan(config: BenchConfig) -> tuple[str, dict[str, Path]]:
    """What the one server serves: ``(model, {adapter name: folder})``.

    Raises:
        BenchConfigError: Two base models (one server serves one), an adapter that is not a peft
            folder or an align run folder, an adapter name vLLM cannot take, or a Ray cluster
            (the server is on this machine's loopback).
    """
    specs = served_specs(config)
    if config.ray_address:
        raise BenchConfigError(
            ("ray_address",),
            "backend vllm starts the bench's server on this machine's loopback, which a Ray "
            "cluster's other nodes cannot reach; start `s2b serve --host ADDRESS` with an API key "
            "(S2B_API_KEY) and give the agents backend openai with base_url",
        )
    models = {spec.model for _, spec in specs}
    if len(models) > 1:
        path = next(p for p, s in specs if s.model != specs[0][1].model)
        raise BenchConfigError(
            (*path, "model"),
            f"the bench's vLLM server serves one base model, but backend vllm names several "
            f"({', '.join(sorted(models))}); give these agents the same model, or serve the other "
            "with `s2b serve` and backend openai",
        )
    adapters: dict[str, Path] = {}
    for path, spec in specs:
        if spec.adapter is None:
            continue
        name = str(spec.adapter)
        if "=" in name or any(c.isspace() for c in name):
            raise BenchConfigError(
                (*path, "adapter"),
                f"{name!r}: with backend vllm the adapter path is its name on the server, which "
                "may not contain '=' or spaces; move or link the folder to a plain path",
            )
        folder = resolve_adapter(name)
        if folder is None:
            raise BenchConfigError(
                (*path, "adapter"),
                f"{name!r} is neither a LoRA adapter folder (with adapter_config.json) nor an "
                "`s2b align` run folder holding one in adapter/",
            )
        adapters[name] = folder
    return specs[0][1].model if specs else DEFAULT_MODEL, adapters


class BenchServer:
    """The one vLLM server of a bench (see the module docstring).

    Args:
        config: The bench (its ``vllm`` agents and judge decide the model and adapters).
        log_path: The server's log (default: a fresh private folder).
        startup_timeout: Seconds to wait for it to answer ``/health``.
        **server_options: Passed to :class:`~agents.backends.vllm_server.VLLMServer`
            (``max_model_len``, ``kv_cache_gib``, ``python``...).
    """

    def __init__(
        self,
        config: BenchConfig,
        *,
        log_path: str | Path | None = None,
        startup_timeout: float = 300.0,
        **server_options: Any,
    ) -> None:
        from agents.backends.vllm_server import VLLMServer
        from agents.models import resolve_model

        model, adapters = server_plan(config)
        folder = resolve_model(None if model == DEFAULT_MODEL else model)
        self.startup_timeout = startup_timeout
        # The base model answers to the name the agents ask for (the server's first model for the
        # default model, which the OpenAI backend takes when no name is given).
        served = None if model == DEFAULT_MODEL else model
        self.server = VLLMServer(
            folder, adapters=adapters, served_name=served, log_path=log_path, **server_options
        )

    @property
    def base_url(self) -> str:
        """The URL workers give the OpenAI backend."""
        return self.server.base_url

    @property
    def adapters(self) -> list[str]:
        """The served adapters' names."""
        return list(self.server.adapters)

    def start(self) -> BenchServer:
        """Start the server and wait until it answers.

        Raises:
            BackendError: It exited or did not come up in time (with its log's tail).
        """
        self.server.start(wait=self.startup_timeout)
        return self

    def exit_status(self) -> int | None:
        """The server's exit status if it has exited, else ``None`` (running or never started)."""
        process = self.server.process
        return None if process is None else process.poll()

    def death_note(self) -> str | None:
        """One paragraph on a server that has died (status, log path and tail), else ``None``."""
        code = self.exit_status()
        if code is None:
            return None
        return (
            f"the bench's vLLM server died (exit status {code}; log {self.server.log_path}):\n"
            f"{self.server.log_tail(8)}"
        )

    def stop(self) -> None:
        """Stop the server (its whole process group)."""
        self.server.stop()


@contextlib.contextmanager
def bench_server(
    config: BenchConfig,
    *,
    log_path: str | Path | None = None,
    startup_timeout: float = 300.0,
    **server_options: Any,
) -> Iterator[str]:
    """Run the bench's server for the ``with`` block; yields its URL (the config's ``server_url``).

    The server is stopped at the end, however the block ends. A
    :class:`~agents.bench.executor.FatalBenchError` raised in the block while the server is dead
    is raised again with the server's exit status, its log's tail, and how to continue.

    Raises:
        BenchConfigError: See :func:`server_plan`.
        BackendError: The server did not come up (with its log's tail).
    """
    from agents.bench.executor import FatalBenchError

    server = BenchServer(
        config, log_path=log_path, startup_timeout=startup_timeout, **server_options
    )
    server.start()
    try:
        yield server.base_url
    except FatalBenchError as exc:
        note = server.death_note()
        if note is None:
            raise
        raise FatalBenchError(
            f"{exc}\n{note}\nThe finished units are kept: run the same command again to continue."
        ) from None
    finally:
        server.stop()


@contextlib.contextmanager
def serve_bench(
    config: BenchConfig, *, log_path: str | Path | None = None, **options: Any
) -> Iterator[BenchConfig]:
    """:func:`bench_server` when ``config`` needs it; yields the config the workers get.

    Without backend ``vllm`` anywhere, nothing starts and ``config`` itself is yielded; otherwise
    a copy with ``server_url`` set.
    """
    if not needs_server(config):
        yield config
        return
    with bench_server(config, log_path=log_path, **options) as url:
        yield BenchConfig.from_dict({**config.to_dict(), "server_url": url})


__all__ = [
    "DEFAULT_MODEL",
    "BenchServer",
    "bench_server",
    "needs_server",
    "serve_bench",
    "served_specs",
    "server_plan",
]
