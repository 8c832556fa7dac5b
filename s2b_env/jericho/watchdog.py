"""Step watchdog: stop an emulator call that runs past a time limit, restore, and raise.

A hung Frotz call cannot be interrupted from Python: the main thread sits inside C, and signal
handlers only run between bytecodes. The interpreter loop of jericho's Frotz, however, checks the
C global ``emulator_halted`` before every Z-machine instruction (``run_free``), and ctypes releases
the GIL during the call. So one daemon thread (:class:`Watchdog`) watches the deadlines of the
calls in flight and, when one passes, sets that emulator's ``emulator_halted``: the call returns at
the next instruction. The caller then clears the flag, restores the snapshot it took before the
call (:class:`EmulatorSnapshot`) and raises :class:`StepTimeoutError`.

Limits: this stops any Z-code loop (an endless ``jump``, a routine that never returns), which is
how story files hang. It does not stop a loop inside one instruction's C code, nor a nested
interpreter loop that Frotz runs for an interrupt routine (timed input, sound callbacks): those do
not check the flag. Probing candidates in worker processes adds a second layer for such cases:
a stalled worker is killed and restarted (see :mod:`s2b_env.jericho.probe_pool`).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any

import numpy as np
from numpy.ctypeslib import as_ctypes

from s2b_env.errors import S2BError


class StepTimeoutError(S2BError, TimeoutError):
    """An emulator call ran past its time limit; it was stopped and the game restored."""


def halt_flag(frotz: Any) -> ctypes.c_int:
    """The ``emulator_halted`` global of one jericho ``FrotzEnv``'s own copy of libfrotz."""
    return ctypes.c_int.in_dll(frotz.frotz_lib, "emulator_halted")


class _Timer:
    """One armed deadline: the flag to set, when, and whether it was set."""

    __slots__ = ("deadline", "fired", "flag")

    def __init__(self, flag: ctypes.c_int, deadline: float) -> None:
        self.flag = flag
        self.deadline = deadline
        self.fired = False


class Watchdog:
    """One daemon thread that sets the halt flag of calls that run past their deadline.

    Arming and disarming cost a lock and a set operation (about a microsecond); the thread
    sleeps until the earliest deadline and is woken only by a call with an earlier one.
    """

    def __init__(self) -> None:
        self._reset_state()
        os.register_at_fork(after_in_child=self._reset_state)

    def _reset_state(self) -> None:
        # Also run in a forked child: the parent's thread does not exist there.
        self._cond = threading.Condition()
        self._armed: set[_Timer] = set()
        self._thread: threading.Thread | None = None
        self._wake = float("inf")  # when the thread wakes next (inf: when notified)

    def arm(self, flag: ctypes.c_int, seconds: float) -> _Timer:
        """Set ``flag`` to 1 if :meth:`disarm` is not called within ``seconds``."""
        timer = _Timer(flag, time.monotonic() + seconds)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="s2b-watchdog", daemon=True)
                self._thread.start()
            if timer.deadline < self._wake:
                self._cond.notify()
            self._armed.add(timer)
        return timer

    def disarm(self, timer: _Timer) -> bool:
        """Stop watching ``timer``; returns whether it fired (the flag was set)."""
        with self._cond:
            self._armed.discard(timer)
            return timer.fired

    def _run(self) -> None:
        cond = self._cond
        with cond:
            while True:
                now = time.monotonic()
                for timer in [t for t in self._armed if t.deadline <= now]:
                    timer.fired = True
                    timer.flag.value = 1
                    self._armed.discard(timer)
                self._wake = min((t.deadline for t in self._armed), default=float("inf"))
                cond.wait(self._wake - now if self._armed else None)


#: The process's watchdog thread (started on first use).
WATCHDOG = Watchdog()


class EmulatorSnapshot:
    """The whole state of one ``FrotzEnv`` (RAM, stack, registers, RNG, text) in reused buffers.

    About 4x cheaper than ``FrotzEnv.get_state`` (no allocation, no per-call ctypes conversion);
    one snapshot is kept, :meth:`take` overwrites it.
    """

    def __init__(self, frotz: Any) -> None:
        lib = frotz.frotz_lib
        self._lib = lib
        self._ram = np.zeros(lib.getRAMSize(), dtype=np.uint8)
        self._stack = np.zeros(lib.getStackSize(), dtype=np.uint8)
        self._ram_c = as_ctypes(self._ram)
        self._stack_c = as_ctypes(self._stack)
        self._regs: tuple = ()
        self._text = b""

    def take(self) -> None:
        """Copy the emulator's state into the buffers."""
        lib = self._lib
        lib.getRAM(self._ram_c)
        lib.getStack(self._stack_c)
        self._regs = (
            lib.getPC(),
            lib.getSP(),
            lib.getFP(),
            lib.get_opcode(),
            lib.getFrameCount(),
            lib.getRngA(),
            lib.getRngInterval(),
            lib.getRngCounter(),
        )
        self._text = lib.get_narrative_text()

    def restore(self) -> None:
        """Put the emulator back in the state of the last :meth:`take`."""
        if not self._regs:
            raise RuntimeError("EmulatorSnapshot.restore() called before take()")
        lib = self._lib
        pc, sp, fp, opcode, frames, rng_a, rng_interval, rng_counter = self._regs
        lib.setRng(rng_a, rng_interval, rng_counter)
        lib.setRAM(self._ram_c)
        lib.setStack(self._stack_c)
        lib.setPC(pc)
        lib.setSP(sp)
        lib.setFP(fp)
        lib.set_opcode(opcode)
        lib.setFrameCount(frames)
        lib.set_narrative_text(self._text)


class GuardedStep:
    """A replacement for ``FrotzEnv.step`` that stops, restores and raises after ``seconds``.

    Installed on one emulator by :func:`guard_steps`; every caller of ``frotz.step`` (the env's
    ``step``, ``probe``, subclass hooks) is then guarded.
    """

    def __init__(self, frotz: Any, seconds: float, original: Any) -> None:
        self.seconds = seconds
        self.original = original
        self._flag = halt_flag(frotz)
        self._snapshot = EmulatorSnapshot(frotz)

    def __call__(self, action: str) -> tuple:
        self._snapshot.take()
        timer = WATCHDOG.arm(self._flag, self.seconds)
        try:
            result = self.original(action)
        finally:
            fired = WATCHDOG.disarm(timer)
        if fired:
            self._flag.value = 0
            self._snapshot.restore()
            raise StepTimeoutError(
                f"the game did not answer {action!r} within the step time limit of "
                f"{self.seconds:g} s; the command was stopped and the game restored to its state "
                "before it (raise step_timeout if the game is just slow)"
            )
        return result


def guarded_reset(frotz: Any, seconds: float | None) -> tuple:
    """``frotz.reset()`` (which runs the game up to its first prompt) stopped after ``seconds``.

    A reset cannot be undone (jericho frees the old game first), so a stopped reset leaves the
    emulator half-started: the caller must treat the env as needing a new reset.

    Raises:
        StepTimeoutError: The game did not reach its first prompt within ``seconds``.
    """
    if seconds is None:
        return frotz.reset()
    flag = halt_flag(frotz)
    timer = WATCHDOG.arm(flag, seconds)
    try:
        result = frotz.reset()
    finally:
        fired = WATCHDOG.disarm(timer)
    if fired:
        flag.value = 0
        raise StepTimeoutError(
            f"the game did not reach its first prompt within the step time limit of {seconds:g} s "
            "after a reset; it was stopped and the episode is gone (call reset() again, or raise "
            "step_timeout if the game is just slow to start)"
        )
    return result


def guard_steps(frotz: Any, seconds: float | None) -> None:
    """Guard every ``frotz.step`` call with a time limit of ``seconds`` (``None``: unguard).

    Raises:
        TypeError: ``seconds`` is not a number.
        ValueError: ``seconds`` is not positive.
    """
    if seconds is None:
        frotz.__dict__.pop("step", None)
        return
    seconds = check_timeout(seconds, "step_timeout")
    frotz.step = GuardedStep(frotz, seconds, type(frotz).step.__get__(frotz))


def check_timeout(value: Any, name: str) -> float:
    """``value`` as a positive float of seconds, else a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{name} must be a number of seconds, got {type(value).__name__}: {value!r}"
        )
    if not value > 0:
        raise ValueError(f"{name} must be > 0 seconds, got {value}")
    return float(value)


__all__ = [
    "WATCHDOG",
    "EmulatorSnapshot",
    "GuardedStep",
    "StepTimeoutError",
    "Watchdog",
    "check_timeout",
    "guard_steps",
    "guarded_reset",
    "halt_flag",
]
