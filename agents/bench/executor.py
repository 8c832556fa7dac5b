"""Executors play a bench's units in workers; :class:`LocalExecutor` is an asynchronous process pool.

Each worker is a process of its own (``spawn``) that keeps its envs, agents and models across units
(:func:`agents.bench.units.play_unit`'s ``cache``) and takes the next unit as soon as it finishes
one, so a slow unit never stalls the others (unlike a lockstep vector env). The pool prefers to
give a worker a unit of the agent it already holds (its model stays loaded).

Faults:

* a worker that dies (a crash, ``os._exit``, a segfault in a game) or gives no result within
  ``config.unit_timeout`` seconds (a hang) is killed and replaced; its unit is played again once,
  then recorded ``failed`` with the reason, and the other units go on;
* an exception in a unit is retried the same way, except the fatal ones: a model backend error (a
  dead or unreachable model server after the backend's own retries, a missing model or adapter) or
  another s2b input error stops the bench with :class:`FatalBenchError` (the units finished so far
  are kept; a rerun continues).

Test hook: the environment variable ``S2B_BENCH_FAULT`` (``crash:UNIT_ID``, ``crash-once:UNIT_ID``,
``hang:UNIT_ID``, ``hang-once:UNIT_ID``, comma-separated) makes a worker crash or hang on that unit
(``-once``: on its first attempt only), so tests exercise the real kill-and-retry path;
``crash-start`` makes every worker die as it starts.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents.bench.config import BenchConfig
from agents.bench.units import UnitSpec, failed_record
from s2b_env.errors import S2BError

FAULT_ENV = "S2B_BENCH_FAULT"


class FatalBenchError(S2BError):
    """A unit failed in a way every unit would (a dead model server, a missing model): the bench
    stops; the units finished so far are kept."""


class Executor(Protocol):
    """Plays units in workers."""

    def run(
        self, config: BenchConfig, units: Sequence[UnitSpec], on_record: Callable[[dict], None]
    ) -> None:
        """Play every unit with :func:`agents.bench.units.play_unit` in workers; call
        ``on_record(record)`` in the calling process once per unit as it finishes (status ok, or
        failed after one retry when its worker crashed or hung). Returns when every unit is
        recorded; raises on a fatal error or KeyboardInterrupt."""


def is_fatal(exc: BaseException) -> bool:
    """Whether a unit's exception stops the bench (it would fail every unit)."""
    from agents.backends.errors import BackendError

    if isinstance(exc, BackendError):
        return True
    return isinstance(exc, S2BError) and not isinstance(exc, TimeoutError | RuntimeError)


def one_line(exc: BaseException) -> str:
    """An exception as one line: ``Type: message``."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- the worker


def _inject_fault(unit_id: str, attempt: int) -> None:
    for item in os.environ.get(FAULT_ENV, "").split(","):
        kind, _, target = item.strip().partition(":")
        if target != unit_id or (kind.endswith("-once") and attempt > 1):
            continue
        if kind.startswith("crash"):
            os._exit(3)
        if kind.startswith("hang"):
            time.sleep(10**6)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def exit_with_parent(parent: int) -> None:
    """End this worker process when ``parent``, the process that started it, is gone.

    A worker busy with a unit otherwise runs on after its parent was killed (``kill -9``, or a
    plain ``kill``, which skips the pool's shutdown). Starts a daemon thread; usable as a process
    pool's ``initializer``.
    """
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def worker_main(conn: Any, config_data: dict[str, Any], threads: int, parent: int) -> None:
    """A worker's loop: receive ``(unit_id, attempt)``, play it, send the outcome; ``None`` ends.

    Sends ``("ready",)`` once started, then per unit ``("ok", unit_id, record)`` or
    ``("error", unit_id, message, fatal)``. A unit's time limit starts when it is handed over, so
    a worker's start-up (imports) is not counted against it.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool on Ctrl-C
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    exit_with_parent(parent)
    from agents.bench.units import close_cache, play_unit

    config = BenchConfig.from_dict(config_data)
    cache: dict[str, Any] = {}
    try:
        if "crash-start" in os.environ.get(FAULT_ENV, "").split(","):
            os._exit(4)
        conn.send(("ready",))
        while True:
            try:
                message = conn.recv()
            except EOFError:
                break
            if message is None:
                break
            unit_id, attempt = message
            _inject_fault(unit_id, attempt)
            spec = UnitSpec.from_id(unit_id)
            try:
                record = play_unit(config, spec, cache)
            except Exception as exc:
                conn.send(("error", unit_id, one_line(exc), is_fatal(exc)))
                env = cache.pop(f"env:{spec.env}", None)  # it may be mid-episode or broken
                if env is not None:
                    with contextlib.suppress(Exception):
                        env.close()
                continue
            record["attempts"] = attempt
            conn.send(("ok", unit_id, record))
    finally:
        close_cache(cache)


# --------------------------------------------------------------------------- the pool


@dataclass
class _Worker:
    process: Any
    conn: Any
    unit: str | None = None
    attempt: int = 0
    deadline: float = 0.0
    ready: bool = False
    agent: str | None = None
    env: str | None = None
    done: list[str] = field(default_factory=list)


class LocalExecutor:
    """An asynchronous pool of worker processes on this machine.

    Args:
        workers: Worker processes (default: the config's ``workers``).
        retries: How often a crashed, hung or failing unit is played again before it is recorded
            ``failed``.
        threads: Math threads per worker (default 1: a model's arithmetic, and so an llm agent's
            choices, then do not depend on the worker count; as on Ray, where an actor has one
            CPU; more workers use more cores).
    """

    def __init__(
        self, workers: int | None = None, *, retries: int = 1, threads: int | None = None
    ) -> None:
        self.workers = workers
        self.retries = retries
        self.threads = threads
        #: ``time.monotonic()`` when the first unit was handed to a ready worker (for benchmarks:
        #: the pool's work without the workers' start-up).
        self.first_unit_at: float | None = None

    def run(
        self, config: BenchConfig, units: Sequence[UnitSpec], on_record: Callable[[dict], None]
    ) -> None:
        """See :class:`Executor`.

        Raises:
            FatalBenchError: A unit raised a fatal error (the other workers are stopped).
        """
        import multiprocessing
        from multiprocessing.connection import wait

        pending = [u.unit_id for u in units]
        if not pending:
            return
        count = max(1, min(self.workers or config.workers, len(pending)))
        threads = self.threads or 1
        context = multiprocessing.get_context("spawn")
        config_data = config.to_dict()
        attempts: dict[str, int] = {}
        specs = {u.unit_id: u for u in units}

        def start() -> _Worker:
            parent_conn, child_conn = context.Pipe()
            process = context.Process(
                target=worker_main,
                args=(child_conn, config_data, threads, os.getpid()),
                daemon=True,
            )
            process.start()
            child_conn.close()
            return _Worker(process, parent_conn)

        def give(worker: _Worker) -> None:
            index = _pick(pending, worker, specs)
            unit_id = pending.pop(index)
            attempts[unit_id] = attempts.get(unit_id, 0) + 1
            worker.unit, worker.attempt = unit_id, attempts[unit_id]
            worker.agent, worker.env = specs[unit_id].agent, specs[unit_id].env
            worker.deadline = time.monotonic() + config.unit_timeout
            worker.conn.send((unit_id, worker.attempt))

        def fail(unit_id: str, reason: str) -> None:
            if attempts[unit_id] <= self.retries:
                pending.insert(0, unit_id)
            else:
                on_record(failed_record(config, specs[unit_id], reason, attempts[unit_id]))

        pool = [start() for _ in range(count)]
        startup_failures = 0
        try:
            while pending or any(w.unit for w in pool):
                for i, worker in enumerate(pool):
                    if worker.ready and worker.unit is None and pending:
                        if not worker.process.is_alive():  # died between units
                            _stop(worker, wait_s=0)
                            pool[i] = start()
                            continue
                        give(worker)
                        if self.first_unit_at is None:
                            self.first_unit_at = time.monotonic()
                waiting = [w for w in pool if w.unit is not None or not w.ready]
                deadlines = [w.deadline for w in waiting if w.unit is not None]
                timeout = min([5.0, *(d - time.monotonic() for d in deadlines)])
                handles = [w.conn for w in waiting] + [w.process.sentinel for w in waiting]
                ready = set(wait(handles, timeout=max(0.0, timeout)))
                for i, worker in enumerate(pool):
                    if worker.unit is None and worker.ready:
                        continue
                    message = None
                    if worker.conn in ready:
                        try:
                            message = worker.conn.recv()
                        except (EOFError, OSError):
                            message = None
                    if message is not None and message[0] == "ready":
                        worker.ready = True
                        continue
                    unit_id = worker.unit
                    if message is not None and unit_id is not None:
                        worker.unit = None
                        if message[0] == "ok":
                            on_record(message[2])
                        elif message[3]:
                            raise FatalBenchError(f"unit {unit_id}: {message[2]}")
                        else:
                            fail(unit_id, message[2])
                        continue
                    dead = not worker.process.is_alive()
                    late = unit_id is not None and time.monotonic() >= worker.deadline
                    if not (dead or late):
                        continue
                    code = worker.process.exitcode
                    _stop(worker, wait_s=0)
                    if unit_id is None:  # died before it was ready, or between units
                        startup_failures += 1
                        if startup_failures > count + 1:
                            raise FatalBenchError(
                                f"bench worker processes keep dying before they can play a unit "
                                f"(exit code {code}); run with workers: 1 and S2B_DEBUG=1 to see why"
                            )
                        pool[i] = start()
                        continue
                    reason = (
                        f"the worker process died (exit code {code})" if dead
                        else f"no result within unit_timeout={config.unit_timeout:g} s (worker killed)"
                    )  # fmt: skip
                    pool[i] = start()
                    fail(unit_id, reason)
        finally:
            for worker in pool:
                _stop(worker, wait_s=5 if worker.unit is None else 0)


def _pick(pending: list[str], worker: _Worker, specs: dict[str, UnitSpec]) -> int:
    """The pending unit to give ``worker``: same agent and env, else same agent, else the first."""
    if worker.agent is None:
        return 0
    same_agent = None
    for index, unit_id in enumerate(pending):
        spec = specs[unit_id]
        if spec.agent == worker.agent:
            if spec.env == worker.env:
                return index
            if same_agent is None:
                same_agent = index
    return 0 if same_agent is None else same_agent


def _stop(worker: _Worker, *, wait_s: float) -> None:
    """End a worker: politely when it is idle (``wait_s`` > 0), else kill it."""
    process = worker.process
    if wait_s > 0 and process.is_alive():
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send(None)
        process.join(wait_s)
    if process.is_alive():
        process.kill()
        process.join(5)
    worker.conn.close()


__all__ = [
    "FAULT_ENV",
    "Executor",
    "FatalBenchError",
    "LocalExecutor",
    "exit_with_parent",
    "is_fatal",
    "one_line",
    "worker_main",
]
