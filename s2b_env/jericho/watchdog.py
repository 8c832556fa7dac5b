"""Step watchdog: stop an emulator call that runs past a time limit, restore, and raise.

A hung Frotz call cannot be interrupted from Python: the main thread sits inside C, and signal
handlers only run between bytecodes. The interpreter loop of jericho's Frotz, however, checks the
C global ``emulator_halted`` before every Z-machine instruction (``run_free``), and ctypes releases
the GIL during the call. So one daemon thread (:class:`Watchdog`) watches the deadlines of the
calls in flight and, when one passes, sets that emulator's ``emulator_halted``: the call returns at
the next instruction. The caller then clears the flag, restores the snapshot it took before the
call (:class:`EmulatorSnapshot`) and raises :class:`StepTimeoutError`.

Ctrl-C works the same way: the C-level signal handler cannot run Python while the main thread is
inside Frotz, but it writes the signal's number to a wakeup file descriptor
(:func:`signal.set_wakeup_fd`). A daemon thread (:class:`InterruptListener`, installed by
:func:`guard_steps` from the main thread) reads it and halts every emulator call in flight, so
Ctrl-C stops a stuck command within milliseconds, with or without a time limit. A guarded call
then restores its snapshot and raises :class:`KeyboardInterrupt`; a call without a time limit (no
snapshot is taken, to keep it cheap) leaves the game mid-command, so later steps raise
:class:`StepInterruptedError` until the next reset.

Limits: this stops any Z-code loop (an endless ``jump``, a routine that never returns), which is
how story files hang. It does not stop a loop inside one instruction's C code, nor a nested
interpreter loop that Frotz runs for an interrupt routine (timed input, sound callbacks): those do
not check the flag. Probing candidates in worker processes adds a second layer for such cases:
a stalled worker is killed and restarted (see :mod:`s2b_env.jericho.probe_pool`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import socket
import threading
import time
from typing import Any

import numpy as np
from numpy.ctypeslib import as_ctypes

from s2b_env.errors import S2BError


class StepTimeoutError(S2BError, TimeoutError):
    """An emulator call ran past its time limit; it was stopped and the game restored."""


class StepInterruptedError(S2BError, RuntimeError):
    """A command without a time limit was stopped by Ctrl-C mid-way: the game needs a reset."""


def halt_flag(frotz: Any) -> ctypes.c_int:
    """The ``emulator_halted`` global of one jericho ``FrotzEnv``'s own copy of libfrotz."""
    return ctypes.c_int.in_dll(frotz.frotz_lib, "emulator_halted")


_NEVER = float("inf")


class _Timer:
    """One armed deadline: the flag to set, when, and whether it was set."""

    __slots__ = ("deadline", "fired", "flag", "interrupted")

    def __init__(self, flag: ctypes.c_int, deadline: float) -> None:
        self.flag = flag
        self.deadline = deadline
        self.fired = False
        self.interrupted = False


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
        self._armed: set[_Timer] = set()  # timers with a deadline (the thread watches them)
        self._unbounded: set[_Timer] = set()  # timers without one (only interrupt() fires them)
        self._thread: threading.Thread | None = None
        self._wake = float("inf")  # when the thread wakes next (inf: when notified)

    def arm(self, flag: ctypes.c_int, seconds: float | None) -> _Timer:
        """Set ``flag`` to 1 if :meth:`disarm` is not called within ``seconds`` (``None``: no
        deadline; only :meth:`interrupt` sets it)."""
        if seconds is None:
            # No deadline: the thread need not know. A set's add and discard are atomic under
            # the GIL, so this path takes no lock (it runs on every step of every env).
            timer = _Timer(flag, _NEVER)
            self._unbounded.add(timer)
            return timer
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
        if timer.deadline == _NEVER:
            self._unbounded.discard(timer)
            return timer.fired
        with self._cond:
            self._armed.discard(timer)
            return timer.fired

    def interrupt(self) -> int:
        """Halt every call in flight now (Ctrl-C); returns how many were halted."""
        with self._cond:
            # list() of a set runs in C without releasing the GIL: a consistent copy.
            unbounded = list(self._unbounded)
            timers = list(self._armed) + unbounded
            for timer in timers:
                timer.fired = timer.interrupted = True
                timer.flag.value = 1
            self._armed.clear()
            for timer in unbounded:
                self._unbounded.discard(timer)
            self._cond.notify()
        return len(timers)

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
                cond.wait(None if self._wake == float("inf") else self._wake - now)


#: The process's watchdog thread (started on first use).
WATCHDOG = Watchdog()


class InterruptListener:
    """Halts the emulator calls in flight when Ctrl-C (SIGINT) arrives (see the module docstring).

    :meth:`install` is a no-op when it cannot work: outside the main thread, when SIGINT has no
    Python handler, or when another wakeup descriptor is set (an event loop's: left alone).
    """

    def __init__(self) -> None:
        self.installed = False
        os.register_at_fork(after_in_child=self._forget)

    def install(self) -> bool:
        """Start listening (once per process); returns whether it listens."""
        if self.installed:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        if not callable(signal.getsignal(signal.SIGINT)):
            return False  # ignored or default at C level: no wakeup byte would come
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        try:
            old = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except (ValueError, OSError):
            reader.close()
            writer.close()
            return False
        if old != -1:  # someone else listens (an event loop): keep theirs
            signal.set_wakeup_fd(old)
            reader.close()
            writer.close()
            return False
        self._sockets = (reader, writer)
        thread = threading.Thread(
            target=self._listen, args=(reader,), name="s2b-interrupt", daemon=True
        )
        thread.start()
        self.installed = True
        return True

    @staticmethod
    def _listen(reader: socket.socket) -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                WATCHDOG.interrupt()

    def _forget(self) -> None:
        # A forked child has no listener thread; its signals must not reach the parent's socket.
        if self.installed:
            with contextlib.suppress(ValueError, OSError):
                signal.set_wakeup_fd(-1)
        self.installed = False


#: The process's Ctrl-C listener (installed by :func:`guard_steps`).
INTERRUPTS = InterruptListener()


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
    """A replacement for ``FrotzEnv.step`` that Ctrl-C and (with ``seconds``) a time limit stop.

    Installed on one emulator by :func:`guard_steps`; every caller of ``frotz.step`` (the env's
    ``step``, ``probe``, subclass hooks) is then guarded. With ``seconds``, the state before each
    call is kept and restored when the call is stopped, which then raises
    :class:`StepTimeoutError` (time limit) or :class:`KeyboardInterrupt` (Ctrl-C). Without, no
    snapshot is taken (it would cost about 8% of a step); Ctrl-C then leaves the game mid-command
    and later calls raise :class:`StepInterruptedError` until a reset.
    """

    def __init__(self, frotz: Any, seconds: float | None, original: Any) -> None:
        self.seconds = seconds
        self.original = original
        self._flag = halt_flag(frotz)
        self._snapshot = EmulatorSnapshot(frotz) if seconds is not None else None
        self.broken = False

    def __call__(self, action: str) -> tuple:
        if self.broken:
            raise StepInterruptedError(
                "the game was stopped by Ctrl-C in the middle of a command; call reset()"
            )
        if self._snapshot is not None:
            self._snapshot.take()
        timer = WATCHDOG.arm(self._flag, self.seconds)
        try:
            result = self.original(action)
        finally:
            # In the finally: a KeyboardInterrupt raised as the call returns must not skip this.
            fired = WATCHDOG.disarm(timer)
            if fired:
                self._flag.value = 0
                if self._snapshot is not None:
                    self._snapshot.restore()
                else:
                    self.broken = True
        if fired:
            if timer.interrupted:
                raise KeyboardInterrupt
            raise StepTimeoutError(
                f"the game did not answer {action!r} within the step time limit of "
                f"{self.seconds:g} s; the command was stopped and the game restored to its state "
                "before it (raise step_timeout if the game is just slow)"
            )
        return result


def guarded_reset(frotz: Any, seconds: float | None) -> tuple:
    """``frotz.reset()`` (which runs the game up to its first prompt) stopped after ``seconds``
    (``None``: no limit) or by Ctrl-C.

    A reset cannot be undone (jericho frees the old game first), so a stopped reset leaves the
    emulator half-started: the caller must treat the env as needing a new reset.

    Raises:
        StepTimeoutError: The game did not reach its first prompt within ``seconds``.
        KeyboardInterrupt: Ctrl-C stopped it.
    """
    flag = halt_flag(frotz)
    timer = WATCHDOG.arm(flag, seconds)
    try:
        result = frotz.reset()
    finally:
        fired = WATCHDOG.disarm(timer)
        if fired:
            flag.value = 0
    if fired:
        if timer.interrupted:
            raise KeyboardInterrupt
        raise StepTimeoutError(
            f"the game did not reach its first prompt within the step time limit of {seconds:g} s "
            "after a reset; it was stopped and the episode is gone (call reset() again, or raise "
            "step_timeout if the game is just slow to start)"
        )
    guarded = frotz.__dict__.get("step")
    if isinstance(guarded, GuardedStep):
        guarded.broken = False  # a fresh game
    return result


#: Seconds a story file may take to reach its first prompt when no ``step_timeout`` is set: the
#: start-up (``JerichoEnv(...)`` and every reset) is always guarded, as it is not an agent's step.
STARTUP_TIMEOUT = 60.0


def start_frotz(story_file: str, seed: int, seconds: float) -> Any:
    """``jericho.FrotzEnv(story_file, seed)``, its start-up stopped after ``seconds``.

    jericho's constructor runs the game up to its first prompt; a story file that never gets
    there would hang it. The load runs under the watchdog like a step.

    Raises:
        StepTimeoutError: The game did not reach its first prompt within ``seconds``.
        KeyboardInterrupt: Ctrl-C stopped it.
    """
    frotz = _guarded_frotz_class()(story_file, seed=seed, seconds=seconds)
    if frotz.start_interrupted:
        raise KeyboardInterrupt
    if frotz.start_stopped:
        raise StepTimeoutError(
            f"the story file {story_file!r} did not reach its first prompt within {seconds:g} s "
            "of starting; it was stopped (pass a larger step_timeout if the game is just slow "
            "to start)"
        )
    return frotz


@functools.cache
def _guarded_frotz_class() -> type:
    import jericho

    class GuardedStartFrotzEnv(jericho.FrotzEnv):
        """A ``FrotzEnv`` whose first load (the game's start-up) runs under the watchdog."""

        def __init__(self, story_file: str, seed: int, seconds: float) -> None:
            self.start_seconds = seconds
            self.start_stopped = False
            super().__init__(story_file, seed=seed)

        def load(self, story_file: str, seed: int | None = None) -> None:
            flag = halt_flag(self)
            timer = WATCHDOG.arm(flag, self.start_seconds)
            try:
                super().load(story_file, seed)
            finally:
                self.start_stopped = WATCHDOG.disarm(timer)
                self.start_interrupted = timer.interrupted
            if self.start_stopped:
                flag.value = 0

    return GuardedStartFrotzEnv


def guard_steps(frotz: Any, seconds: float | None) -> None:
    """Guard every ``frotz.step`` call: Ctrl-C stops it, and so does a time limit of ``seconds``
    (``None``: no limit). Also starts the Ctrl-C listener when called from the main thread.

    Raises:
        TypeError: ``seconds`` is not a number.
        ValueError: ``seconds`` is not positive.
    """
    if seconds is not None:
        seconds = check_timeout(seconds, "step_timeout")
    INTERRUPTS.install()
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
    "INTERRUPTS",
    "STARTUP_TIMEOUT",
    "WATCHDOG",
    "EmulatorSnapshot",
    "GuardedStep",
    "InterruptListener",
    "StepInterruptedError",
    "StepTimeoutError",
    "Watchdog",
    "check_timeout",
    "guard_steps",
    "guarded_reset",
    "halt_flag",
    "start_frotz",
]
