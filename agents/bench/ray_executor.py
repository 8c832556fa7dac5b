"""The Ray executor of ``s2b bench``: Ray actors own envs and agents, a free actor takes the next unit.

:class:`RayExecutor` implements the bench's :class:`~agents.bench.executor.Executor` protocol on Ray,
for users who outgrow one machine (``--executor ray``, ``ray_address`` in the config) or who want
Ray's scheduling on one machine (a local Ray started here and shut down at the end).

* Each worker is a Ray actor holding the ``cache`` of :func:`agents.bench.units.play_unit`, so the
  envs and agents it built are reused across its units, exactly as in the local executor's worker
  processes.
* Units are dispatched one at a time to whichever actor is free (no lockstep): a slow unit holds one
  actor, the others go on with the queue. Records reach ``on_record`` in the calling process as
  each unit finishes.
* An actor that dies (its process crashed) or that does not finish a unit within ``unit_timeout``
  seconds (it is killed) is replaced by a fresh actor; its unit is retried once, then recorded
  ``failed`` with the reason. An error that the bench calls fatal (a dead model server) stops the
  run: the actors are killed and the error is raised in the caller, finished units stay recorded.
* The model is reached through the bench's server by URL (:mod:`agents.bench.server`), never copied
  into the actors.

Ray is imported only when a run starts; without it the error names the ``ray`` extra. On a cluster
(``address``), every node needs s2b installed and the games folder at the same path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from s2b_env.errors import S2BError, require

_REPO_ROOT = Path(__file__).resolve().parents[2]
#: The object store of a local Ray started here (bytes): units move small records, not tensors.
LOCAL_OBJECT_STORE = 100 * 1024 * 1024


def import_ray() -> Any:
    """Import Ray, or raise an error naming the ``ray`` extra to install."""
    return require("ray", "ray", "The Ray executor (--executor ray)")


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray, initialised for the duration of the ``with`` block; yields the ``ray`` module.

    Args:
        address: A running cluster's address (``ray.init(address=...)``; ``"auto"`` finds a local
            one); ``None`` starts a private local Ray (no dashboard, workers' logs not forwarded, a
            fresh temp folder removed at the end).
        num_cpus: CPUs the local Ray may schedule on (ignored with ``address``).

    A Ray that is already initialised in this process is used as it is and left running.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    temp_dir = None
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "configure_logging": False,
    }
    if address:
        kwargs["address"] = address
    else:
        # A short path: Ray's sockets live under it, and a Unix socket path is at most 107 bytes.
        temp_dir = tempfile.mkdtemp(
            prefix="s2b-ray-", dir="/tmp" if os.path.isdir("/tmp") else None
        )
        path = os.pathsep.join(p for p in (str(_REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
        kwargs.update(
            num_cpus=num_cpus,
            object_store_memory=LOCAL_OBJECT_STORE,
            _temp_dir=temp_dir,
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise S2BError(f"ray: cannot start or join {where} ({exc})") from None
    try:
        yield ray
    finally:
        ray.shutdown()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


class _UnitWorker:
    """A Ray actor's state: the bench config and the play_unit cache (envs, agents) it built."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.cache: dict[Any, Any] = {}

    def play(self, spec: Any) -> dict[str, Any]:
        from agents.bench.units import play_unit

        return play_unit(self.config, spec, self.cache)

    def pid(self) -> int:
        return os.getpid()


def _is_fatal(exc: BaseException) -> bool:
    """Whether a unit's error stops the whole bench (a dead model server) rather than one unit."""
    from agents.backends.errors import ServerError

    try:
        from agents.bench import units
    except ImportError:  # pragma: no cover - bench-run's module is always there in a bench
        units = None
    fatal = getattr(units, "FATAL_ERRORS", (ServerError,))
    return isinstance(exc, fatal)


def _failed_record(config: Any, spec: Any, error: str, attempts: int, seconds: float) -> dict:
    """The record of a unit that failed after its retry (the shared format of RUN/units.jsonl)."""
    from agents.bench import units

    make = getattr(units, "failed_record", None)
    if make is not None:
        return make(config, spec, error=error, attempts=attempts, seconds=seconds)
    raise RuntimeError("agents.bench.units.failed_record is missing")  # pragma: no cover


class RayExecutor:
    """Play bench units on Ray actors (see the module docstring).

    Args:
        address: A Ray cluster's address; ``None``: the config's ``ray_address``, else a local Ray.
        num_cpus: CPUs of a local Ray (default: the number of workers).
        workers: Actors (default: the config's ``workers``); capped at the cluster's CPUs, since an
            actor takes one CPU.
        unit_timeout: Seconds one unit may take before its actor is killed and the unit retried
            (default: the config's ``unit_timeout`` if it has one, else no limit).
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        *,
        workers: int | None = None,
        unit_timeout: float | None = None,
    ) -> None:
        if num_cpus is not None and num_cpus < 1:
            raise S2BError(f"ray num_cpus: expected >= 1, got {num_cpus}")
        if workers is not None and workers < 1:
            raise S2BError(f"workers: expected >= 1, got {workers}")
        self.address = address
        self.num_cpus = num_cpus
        self.workers = workers
        self.unit_timeout = unit_timeout

    def run(
        self,
        config: Any,
        units: Sequence[Any],
        on_record: Callable[[dict], None],
    ) -> None:
        """Play every unit on Ray actors; ``on_record(record)`` here as each finishes."""
        if not units:
            return
        workers = self.workers or int(getattr(config, "workers", 1) or 1)
        address = self.address or getattr(config, "ray_address", None)
        timeout = self.unit_timeout
        if timeout is None:
            timeout = getattr(config, "unit_timeout", None)
        with ray_session(address, self.num_cpus or workers) as ray:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            workers = max(1, min(workers, cpus, len(units)))
            _Dispatch(ray, config, workers, timeout, on_record).run(units)


class _Dispatch:
    """One run's actors, queue and in-flight units."""

    def __init__(
        self,
        ray: Any,
        config: Any,
        workers: int,
        timeout: float | None,
        on_record: Callable[[dict], None],
    ) -> None:
        self.ray = ray
        self.config = config
        self.config_ref = ray.put(config)
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_UnitWorker)
        self.workers = workers
        self.timeout = timeout
        self.on_record = on_record
        self.idle: list[Any] = []
        self.in_flight: dict[Any, tuple[Any, Any, float]] = {}  # ref -> (actor, spec, started)
        self.tries: dict[Any, int] = {}

    def _new_actor(self) -> Any:
        return self.actor_class.remote(self.config_ref)

    def run(self, units: Sequence[Any]) -> None:
        queue = deque(units)
        self.idle = [self._new_actor() for _ in range(self.workers)]
        try:
            while queue or self.in_flight:
                while queue and self.idle:
                    spec = queue.popleft()
                    actor = self.idle.pop()
                    self.tries[spec] = self.tries.get(spec, 0) + 1
                    ref = actor.play.remote(spec)
                    self.in_flight[ref] = (actor, spec, time.monotonic())
                for spec in self._collect():
                    queue.appendleft(spec)  # a retry goes first: its siblings may wait on it
        finally:
            for actor, _, _ in self.in_flight.values():
                self.ray.kill(actor, no_restart=True)
            for actor in self.idle:
                self.ray.kill(actor, no_restart=True)
            self.in_flight.clear()
            self.idle.clear()

    def _wait_seconds(self) -> float | None:
        if self.timeout is None:
            return None
        now = time.monotonic()
        first = min(started for _, _, started in self.in_flight.values())
        return max(0.0, first + self.timeout - now) + 0.05

    def _collect(self) -> list[Any]:
        """Wait for a unit to finish (or one to run out of time); return the units to retry."""
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

        ready, _ = self.ray.wait(list(self.in_flight), num_returns=1, timeout=self._wait_seconds())
        retry = []
        for ref in ready:
            actor, spec, started = self.in_flight.pop(ref)
            try:
                record = self.ray.get(ref)
            except RayTaskError as exc:
                cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                if _is_fatal(cause):
                    raise cause from None
                self.idle.append(actor)  # the actor lives; its unit raised
                retry += self._failed(spec, started, _one_line(cause))
                continue
            except (RayActorError, GetTimeoutError) as exc:
                self.idle.append(self._new_actor())
                retry += self._failed(spec, started, f"the Ray worker died ({_one_line(exc)})")
                continue
            self.idle.append(actor)
            record = dict(record)
            record["attempts"] = self.tries[spec]
            self.on_record(record)
        if self.timeout is not None:
            now = time.monotonic()
            for ref, (actor, spec, started) in list(self.in_flight.items()):
                if now - started >= self.timeout:
                    del self.in_flight[ref]
                    self.ray.kill(actor, no_restart=True)
                    self.idle.append(self._new_actor())
                    error = f"the unit did not finish within {self.timeout:g} s (worker killed)"
                    retry += self._failed(spec, started, error)
        return retry

    def _failed(self, spec: Any, started: float, error: str) -> list[Any]:
        """Retry a unit once; after that record it failed."""
        if self.tries[spec] < 2:
            return [spec]
        seconds = time.monotonic() - started
        self.on_record(_failed_record(self.config, spec, error, self.tries[spec], seconds))
        return []


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[-1] if text else ""
    return f"{type(exc).__name__}: {first}"[:500]


__all__ = ["LOCAL_OBJECT_STORE", "RayExecutor", "import_ray", "ray_session"]
