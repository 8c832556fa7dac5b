"""Probing candidate actions for world changes, in this process or split over worker processes.

A probe sends one command from a saved state and restores the state afterwards; a candidate is
kept when the game's world changed (jericho's world-change check: objects moved, attributes set or
cleared, the game's special RAM changed, the score changed or the game ended) and the game did not
just take an item as a side effect (``(Taken)``). Probes run in batches through jericho's C
``filter_candidate_actions`` (about 60 us a candidate on zork1), each batch under the
:mod:`~s2b_env.jericho.watchdog` time limit: a candidate that hangs is stopped, skipped and reported, and
probing goes on with the next one.

:class:`ProbePool` splits the candidates over worker processes, each with its own emulator. A
worker that makes no progress for longer than the time limit allows (a hang the halt flag cannot
stop, a crash) is killed and restarted; its unprobed candidates are reported.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import mmap
import multiprocessing as mp
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np
from numpy.ctypeslib import as_ctypes

from s2b_env.jericho.watchdog import WATCHDOG, EmulatorSnapshot, halt_flag

#: uint16 values jericho writes per kept candidate: 64 object numbers, then 64 destinations/values.
DIFF_SIZE = 128


@dataclass
class ProbeResult:
    """What probing a list of candidates found.

    Attributes:
        changed: ``(command, world_diff)`` for each candidate that changed the world, where
            ``world_diff`` is jericho's cleaned diff as bytes (equal diffs: equal effects).
        hung: Candidates stopped by the time limit (skipped).
        halted: Candidates that halted the emulator (a Frotz error; skipped).
        unprobed: Candidates never probed because their worker stalled and was killed.
    """

    changed: list[tuple[str, bytes]] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)
    halted: list[str] = field(default_factory=list)
    unprobed: list[str] = field(default_factory=list)

    def extend(self, other: ProbeResult) -> None:
        """Add another result's lists to this one's."""
        self.changed.extend(other.changed)
        self.hung.extend(other.hung)
        self.halted.extend(other.halted)
        self.unprobed.extend(other.unprobed)


class Prober:
    """Batched world-change probes on one ``FrotzEnv``, with the time limit per batch.

    The emulator is left in the state it had before :meth:`probe` (restored from a snapshot).
    """

    def __init__(self, frotz: Any) -> None:
        self.frotz = frotz
        self._lib = frotz.frotz_lib
        self._flag = halt_flag(frotz)
        self._snapshot = EmulatorSnapshot(frotz)

    def probe(
        self,
        candidates: list[str],
        *,
        timeout: float,
        batch_size: int,
        progress: Any = None,
    ) -> ProbeResult:
        """Probe ``candidates`` (ASCII commands without ``;``) from the current state.

        Args:
            candidates: Commands to try.
            timeout: Seconds one batch of probes may run before it is stopped.
            batch_size: Candidates per C call.
            progress: A shared counter bumped after each batch (for a watching parent).
        """
        result = ProbeResult()
        self._snapshot.take()
        try:
            start = 0
            while start < len(candidates):
                batch = candidates[start : start + batch_size]
                done = self._batch(batch, timeout, result)
                start += done
                if progress is not None:
                    progress.value += 1
        finally:
            self._snapshot.restore()
        return result

    def _batch(self, batch: list[str], timeout: float, result: ProbeResult) -> int:
        """Probe one batch; returns how many candidates of it were dealt with."""
        encoded = (";".join(batch) + ";").encode("ascii")
        commands = ctypes.create_string_buffer(encoded)
        kept = ctypes.create_string_buffer(len(encoded) + 1)
        diffs = np.zeros(len(batch) * DIFF_SIZE, dtype=np.uint16)
        timer = WATCHDOG.arm(self._flag, timeout)
        try:
            count = self._lib.filter_candidate_actions(commands, kept, as_ctypes(diffs))
        finally:
            fired = WATCHDOG.disarm(timer)
        names = kept.value.decode("cp1252").split(";")[:count]
        for i, name in enumerate(names):
            result.changed.append((name, diffs[i * DIFF_SIZE : (i + 1) * DIFF_SIZE].tobytes()))
        if not self._lib.halted():
            return len(batch)
        # Stopped (or a Frotz error) inside candidate `at`: strtok has cut the buffer at every
        # ';' up to and including the one after it. The C code returned without restoring.
        at = encoded.count(b";") - commands.raw[: len(encoded)].count(b";") - 1
        at = min(max(at, 0), len(batch) - 1)
        (result.hung if fired else result.halted).append(batch[at])
        self._flag.value = 0
        self._snapshot.restore()
        return at + 1


# ---------------------------------------------------------------------------- worker processes


def _worker_main(conn: Connection, progress: mmap.mmap) -> None:
    """A probe worker: loads each story file once, then probes what it is sent."""
    import jericho

    warnings.simplefilter("ignore")
    counter = _Counter(progress)
    probers: dict[str, Prober] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        story, state, candidates, timeout, batch_size = message
        prober = probers.get(story)
        if prober is None:
            if len(probers) >= 4:
                probers.pop(next(iter(probers))).frotz.close()
            prober = Prober(jericho.FrotzEnv(story))
            probers[story] = prober
        prober.frotz.set_state(state)
        conn.send(
            prober.probe(candidates, timeout=timeout, batch_size=batch_size, progress=counter)
        )


class _Counter:
    """A 64-bit counter in shared memory with a ``value`` attribute (like ``multiprocessing.Value``)."""

    def __init__(self, memory: mmap.mmap) -> None:
        self._memory = memory

    @property
    def value(self) -> int:
        return struct.unpack_from("Q", self._memory)[0]

    @value.setter
    def value(self, number: int) -> None:
        struct.pack_into("Q", self._memory, 0, number)


class _Worker:
    """One worker: a fresh interpreter (``python -m s2b_env.jericho.probe_pool``), never a fork.

    Starting a fresh interpreter means the caller's main module is not re-imported (no
    ``if __name__ == "__main__"`` guard needed) and no threads, locks or emulators are inherited.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        memory_fd = os.memfd_create("s2b-probe-progress")
        os.ftruncate(memory_fd, 8)
        self.progress = _Counter(mmap.mmap(memory_fd, 8))
        paths = [p or os.getcwd() for p in sys.path]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
        # Its own working folder: files a story writes by itself (its own @save, a transcript)
        # land there, not in the caller's folder, and go when the worker goes.
        self.folder = tempfile.mkdtemp(prefix="s2b-probe-")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "s2b_env.jericho.probe_pool",
                str(theirs.fileno()),
                str(memory_fd),
            ],
            pass_fds=(theirs.fileno(), memory_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # jericho's C code prints a line when the emulator halts
            cwd=self.folder,
            env=env,
        )
        theirs.close()
        os.close(memory_fd)
        self.conn = Connection(ours.detach())

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class ProbePool:
    """Worker processes that probe candidates in parallel, each with its own emulator.

    Workers start on first use (about half a second each) and stay for later calls.

    Args:
        workers: Number of processes (at least 1).
    """

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        self.workers = workers
        self._pool: list[_Worker] = []
        #: How many workers were killed and restarted after stalling.
        self.restarts = 0

    def _ensure(self) -> list[_Worker]:
        self._pool = [w if w.alive() else self._replace(w) for w in self._pool]
        while len(self._pool) < self.workers:
            self._pool.append(_Worker())
        return self._pool

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        return _Worker()

    def probe(
        self,
        story: str,
        state: tuple,
        candidates: list[str],
        *,
        timeout: float,
        batch_size: int,
    ) -> ProbeResult:
        """Probe ``candidates`` from emulator ``state`` of ``story``, split over the workers.

        A worker whose progress counter does not move for ``2 * timeout + 1`` seconds is killed
        and restarted; its candidates are reported as unprobed.
        """
        pool = self._ensure()
        shares = [candidates[i :: len(pool)] for i in range(len(pool))]
        busy: dict[Connection, tuple[_Worker, list[str], int, float]] = {}
        for worker, share in zip(pool, shares, strict=True):
            if share:
                worker.conn.send((story, state, share, timeout, batch_size))
                busy[worker.conn] = (worker, share, worker.progress.value, time.monotonic())
        result = ProbeResult()
        stall = 2 * timeout + 1
        while busy:
            ready = wait(list(busy), timeout=min(1.0, stall))
            now = time.monotonic()
            for conn, (worker, share, seen, since) in list(busy.items()):
                if conn in ready:
                    try:
                        result.extend(conn.recv())
                        del busy[conn]
                        continue
                    except (EOFError, OSError):  # the worker died
                        since = -stall
                count = worker.progress.value
                if count != seen and since >= 0:
                    busy[conn] = (worker, share, count, now)
                elif now - since > stall:
                    del busy[conn]
                    result.unprobed.extend(share)
                    pool[pool.index(worker)] = self._replace(worker)
                    self.restarts += 1
        return result

    def pids(self) -> list[int]:
        """Process ids of the running workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._ensure()]

    def close(self) -> None:
        """Stop the workers (a later :meth:`probe` starts new ones)."""
        for worker in self._pool:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            try:
                worker.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=10)
            worker.conn.close()
            shutil.rmtree(worker.folder, ignore_errors=True)
        self._pool = []


_POOLS: dict[int, ProbePool] = {}


def shared_pool(workers: int) -> ProbePool:
    """The process-wide pool of ``workers`` workers (made on first use, closed at exit)."""
    pool = _POOLS.get(workers)
    if pool is None:
        pool = _POOLS[workers] = ProbePool(workers)
    return pool


def can_start_workers() -> bool:
    """False in daemonic processes such as AsyncVectorEnv's workers.

    There the envs already run in parallel, one per core; probe workers on top would only
    oversubscribe the cores, so such envs probe in their own process.
    """
    return not mp.current_process().daemon


def default_workers() -> int:
    """The number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _close_pools() -> None:
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


atexit.register(_close_pools)


if __name__ == "__main__":
    # Run the imported module's function so results pickle as s2b_env.jericho.probe_pool classes.
    from s2b_env.jericho.probe_pool import _worker_main as _main

    _main(Connection(int(sys.argv[1])), mmap.mmap(int(sys.argv[2]), 8))


__all__ = [
    "DIFF_SIZE",
    "ProbePool",
    "ProbeResult",
    "Prober",
    "can_start_workers",
    "default_workers",
    "shared_pool",
]
