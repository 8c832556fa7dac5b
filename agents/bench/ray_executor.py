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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2b_env.errors import S2BError, require

if TYPE_CHECKING:
    from agents.bench.config import BenchConfig
    from agents.bench.units import UnitSpec

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

    def __init__(self, config_data: dict[str, Any]) -> None:
        from agents.bench.config import BenchConfig

        self.config = BenchConfig.from_dict(config_data)
        self.cache: dict[str, Any] = {}

    def play(self, unit_id: str, attempt: int) -> tuple[str, Any, bool]:
        """Play a unit: ``("ok", record, False)`` or ``("error", one line, fatal)``."""
        from agents.bench.executor import _inject_fault, is_fatal, one_line
        from agents.bench.units import UnitSpec, play_unit

        _inject_fault(unit_id, attempt)  # the test hook (S2B_BENCH_FAULT), as in local workers
        spec = UnitSpec.from_id(unit_id)
        try:
            record = play_unit(self.config, spec, self.cache)
        except Exception as exc:
            env = self.cache.pop(f"env:{spec.env}", None)  # it may be mid-episode or broken
            if env is not None:
                with contextlib.suppress(Exception):
                    env.close()
            return "error", one_line(exc), is_fatal(exc)
        record["attempts"] = attempt
        return "ok", record, False

    def close(self) -> None:
        """Close the envs and backends this actor holds."""
        from agents.bench.units import close_cache

        close_cache(self.cache)


class RayExecutor:
    """Play bench units on Ray actors (see the module docstring).

    Args:
        address: A Ray cluster's address; ``None``: the config's ``ray_address``, else a local Ray.
        num_cpus: CPUs of a local Ray (default: the number of workers).
        workers: Actors (default: the config's ``workers``); capped at the cluster's CPUs, since an
            actor takes one CPU.
        retries: How often a crashed, hung or failing unit is played again before it is recorded
            ``failed``.
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        *,
        workers: int | None = None,
        retries: int = 1,
    ) -> None:
        if num_cpus is not None and num_cpus < 1:
            raise S2BError(f"ray num_cpus: expected >= 1, got {num_cpus}")
        if workers is not None and workers < 1:
            raise S2BError(f"workers: expected >= 1, got {workers}")
        self.address = address
        self.num_cpus = num_cpus
        self.workers = workers
        self.retries = retries

    def run(
        self, config: BenchConfig, units: Sequence[UnitSpec], on_record: Callable[[dict], None]
    ) -> None:
        """Play every unit on Ray actors; ``on_record(record)`` here as each finishes.

        Raises:
            FatalBenchError: A unit raised a fatal error (the actors are stopped).
            S2BError: Ray is not installed, or cannot start or join the cluster.
        """
        if not units:
            return
        workers = self.workers or config.workers
        address = self.address or config.ray_address
        with ray_session(address, self.num_cpus or workers) as ray:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            workers = max(1, min(workers, cpus, len(units)))
            _Dispatch(ray, config, workers, self.retries, on_record).run(units)


class _Actor:
    """One actor and what it holds now (``agent``/``env``: the last unit's, for the pick)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.unit: str | None = None
        self.ref: Any = None
        self.deadline = 0.0
        self.agent: str | None = None
        self.env: str | None = None


class _Dispatch:
    """One run's actors, queue and in-flight units."""

    def __init__(
        self,
        ray: Any,
        config: BenchConfig,
        workers: int,
        retries: int,
        on_record: Callable[[dict], None],
    ) -> None:
        self.ray = ray
        self.config = config
        self.config_ref = ray.put(config.to_dict())
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_UnitWorker)
        self.workers = workers
        self.retries = retries
        self.on_record = on_record
        self.attempts: dict[str, int] = {}

    def _new_actor(self) -> _Actor:
        return _Actor(self.actor_class.remote(self.config_ref))

    def run(self, units: Sequence[UnitSpec]) -> None:
        from agents.bench.executor import _pick

        specs = {u.unit_id: u for u in units}
        pending = [u.unit_id for u in units]
        pool = [self._new_actor() for _ in range(self.workers)]
        try:
            while pending or any(a.unit for a in pool):
                for actor in pool:
                    if actor.unit is None and pending:
                        unit_id = pending.pop(_pick(pending, actor, specs))
                        self.attempts[unit_id] = self.attempts.get(unit_id, 0) + 1
                        actor.unit, actor.deadline = unit_id, time.monotonic()
                        actor.deadline += self.config.unit_timeout
                        actor.agent, actor.env = specs[unit_id].agent, specs[unit_id].env
                        actor.ref = actor.handle.play.remote(unit_id, self.attempts[unit_id])
                self._collect(pool, pending, specs)
        finally:
            self._stop(pool)

    def _collect(self, pool: list[_Actor], pending: list[str], specs: dict) -> None:
        """Wait for a unit to finish or run out of time; record it, or queue its retry."""
        from ray.exceptions import RayActorError

        from agents.bench.executor import FatalBenchError

        busy = [a for a in pool if a.unit is not None]
        timeout = max(0.0, min(a.deadline for a in busy) - time.monotonic())
        ready = set(self.ray.wait([a.ref for a in busy], num_returns=1, timeout=timeout)[0])
        for index, actor in enumerate(pool):
            if actor.unit is None:
                continue
            unit_id = actor.unit
            if actor.ref in ready:
                actor.unit = None
                try:
                    status, payload, fatal = self.ray.get(actor.ref)
                except RayActorError as exc:
                    pool[index] = self._new_actor()
                    reason = f"the Ray worker died ({_first_line(exc)})"
                    self._fail(unit_id, reason, pending, specs)
                    continue
                if status == "ok":
                    self.on_record(payload)
                elif fatal:
                    raise FatalBenchError(f"unit {unit_id}: {payload}")
                else:
                    self._fail(unit_id, payload, pending, specs)
            elif time.monotonic() >= actor.deadline:
                self.ray.kill(actor.handle, no_restart=True)
                pool[index] = self._new_actor()
                reason = (
                    f"no result within unit_timeout={self.config.unit_timeout:g} s (worker killed)"
                )
                self._fail(unit_id, reason, pending, specs)

    def _fail(self, unit_id: str, reason: str, pending: list[str], specs: dict) -> None:
        """Retry a unit (first in the queue); after ``retries`` retries record it failed."""
        from agents.bench.units import failed_record

        if self.attempts[unit_id] <= self.retries:
            pending.insert(0, unit_id)
        else:
            self.on_record(
                failed_record(self.config, specs[unit_id], reason, self.attempts[unit_id])
            )

    def _stop(self, pool: list[_Actor]) -> None:
        """Close idle actors' envs and backends (briefly), then end every actor."""
        idle = [a.handle.close.remote() for a in pool if a.unit is None]
        if idle:
            with contextlib.suppress(Exception):
                self.ray.wait(idle, num_returns=len(idle), timeout=10)
        for actor in pool:
            with contextlib.suppress(Exception):
                self.ray.kill(actor.handle, no_restart=True)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


__all__ = ["LOCAL_OBJECT_STORE", "RayExecutor", "import_ray", "ray_session"]
