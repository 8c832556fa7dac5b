"""``run_bench``: plan a bench's units, skip the finished ones, play the rest, record each one.

A rerun of the same bench in the same folder continues where it stopped: units already in
``units.jsonl`` are skipped, failed ones are played again. Another config in that folder is
refused, naming the first field that changed (the executor, the worker count, the Ray address and
the games folder may change between reruns: they do not change results).

When an agent or the judge uses ``backend: vllm``, the bench starts one vLLM server for the base
model and every adapter (:func:`agents.bench.server.bench_server`, a context manager yielding the
server's URL; its log is ``RUN/server.log``) and stops it at the end.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.bench.config import BenchConfig
from agents.bench.executor import Executor, LocalExecutor
from agents.bench.store import BenchStore
from agents.bench.units import plan_units


@dataclass
class BenchSummary:
    """What a call of :func:`run_bench` did.

    Attributes:
        run_dir: The run folder.
        total: Units planned.
        done_before: Units already finished when the call started (skipped).
        played: Units recorded by this call (ok or failed).
        failed: Units recorded ``failed`` by this call.
        seconds: Wall time of this call.
    """

    run_dir: Path
    total: int
    done_before: int
    played: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Every unit is recorded (ok or failed)."""
        return self.done_before + self.played >= self.total


class BenchObserver:
    """Receives a bench's progress (every method a no-op; subclass what you need)."""

    def on_bench_start(self, config: BenchConfig, total: int, done: int) -> None:
        """Before the first unit: ``done`` of ``total`` units are finished already."""

    def on_unit(self, record: dict[str, Any], finished: int, total: int) -> None:
        """After a unit is recorded; ``finished`` units of ``total`` are now done."""

    def on_bench_end(self, summary: BenchSummary) -> None:
        """After the last unit (also after an interruption or a fatal error)."""


def needs_server(config: BenchConfig) -> bool:
    """Whether an agent or the judge uses the bench's vLLM server."""
    judge = config.judge is not None and config.judge.backend == "vllm"
    return judge or any(a.kind == "llm" and a.backend == "vllm" for a in config.agents)


@contextlib.contextmanager
def _server(config: BenchConfig, log_path: Path) -> Iterator[BenchConfig]:
    if config.server_url or not needs_server(config):
        yield config
        return
    from agents.bench.server import bench_server

    with bench_server(config, log_path=log_path) as url:
        yield replace(config, server_url=url)


def make_executor(config: BenchConfig) -> Executor:
    """The executor ``config.executor`` names."""
    if config.executor == "ray":
        from agents.bench.ray_executor import RayExecutor  # imports ray itself, lazily

        return RayExecutor(address=config.ray_address)
    return LocalExecutor()


def run_bench(
    config: BenchConfig,
    run_dir: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = True,
    observers: Sequence[BenchObserver] = (),
) -> BenchSummary:
    """Play every unit of ``config`` not finished yet in ``run_dir``, recording each as it ends.

    Args:
        config: The bench.
        run_dir: Its folder (``bench.json``, ``units.jsonl``).
        executor: Where units run (default: the one ``config.executor`` names).
        resume: Continue a run in ``run_dir`` (else a folder holding results is refused).
        observers: Receive the progress.

    Returns:
        The summary of this call.

    Raises:
        BenchStoreError: The folder holds another config, or the disk is full.
        FatalBenchError: A unit failed in a way every unit would (units finished are kept).
        BenchConfigError: An env of the config does not exist.
    """
    started = time.perf_counter()
    config.check_envs()
    store = BenchStore(run_dir)
    done = store.open(config, resume=resume)
    units = plan_units(config)
    todo = [u for u in units if u.unit_id not in done]
    summary = BenchSummary(Path(run_dir), len(units), len(units) - len(todo))
    for observer in observers:
        observer.on_bench_start(config, summary.total, summary.done_before)

    def on_record(record: dict[str, Any]) -> None:
        if not store.append(record):
            return
        summary.played += 1
        summary.failed += record.get("status") != "ok"
        for observer in observers:
            observer.on_unit(record, summary.done_before + summary.played, summary.total)

    try:
        if todo:
            with _server(config, Path(run_dir) / "server.log") as running:
                (executor or make_executor(running)).run(running, todo, on_record)
    finally:
        summary.seconds = round(time.perf_counter() - started, 3)
        for observer in observers:
            with contextlib.suppress(Exception):
                observer.on_bench_end(summary)
    return summary


__all__ = ["BenchObserver", "BenchSummary", "make_executor", "needs_server", "run_bench"]
