"""A time budget for the symbolic computations: a cooperative deadline checked between steps, and a
hard stop for a single sympy call that runs away: ``signal.setitimer`` in the main thread; in any other
thread (a pytest-xdist worker, a thread pool, a notebook kernel's executor) a timer thread raises the same
exception asynchronously in the budgeted thread (``PyThreadState_SetAsyncExc``), so no thread can hang.

:func:`_budget` opens a budget (nested calls share the outermost one); :func:`_step` names the step
now running (reported on timeout and to the progress callback) and raises when the deadline has
passed. On expiry the error says which step did not finish and what to try.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
import time
from typing import Callable, Iterator

from nntheory.errors import InvariantError

__all__: list[str] = []


class _Expired(BaseException):
    """Raised by the hard stop inside a sympy call (a BaseException so that the broad ``except
    Exception`` around sympy's solvers does not swallow it)."""


class _Budget:
    def __init__(self, timeout: float | None, progress: Callable[[str], None] | None, hint: str) -> None:
        self.timeout = timeout
        self.start = time.monotonic()
        self.deadline = None if timeout is None else self.start + timeout
        self.progress = progress
        self.hint = hint
        self.step = "start"

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def error(self) -> InvariantError:
        return InvariantError(
            f"timeout: not finished within {self.timeout:g} s (stopped in step: {self.step}, after "
            f"{self.elapsed():.1f} s). Try {self.hint}, or a larger timeout."
        )


_CURRENT: list[_Budget] = []


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise _Expired


DEFAULT_HINT = ("a lower order, the other route (method='characteristics' or 'moving frame'), or another cross-section "
                "(give the finite action, or reorder the generators)")


@contextlib.contextmanager
def _budget(timeout: float | None, progress: Callable[[str], None] | None = None, hint: str = DEFAULT_HINT) -> Iterator[_Budget]:
    """Run the body under a time budget of ``timeout`` seconds (None: unlimited, steps still reported).

    Raises:
        InvariantError: when the budget runs out (naming the step that did not finish).
    """
    if _CURRENT:  # nested: the outermost budget rules
        yield _CURRENT[-1]
        return
    b = _Budget(timeout, progress, hint)
    _CURRENT.append(b)
    hard = timeout is not None and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old = None
    timer = None
    if hard:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 1e-3))
    elif timeout is not None:
        timer = _AsyncStop(threading.get_ident(), timeout)
    try:
        yield b
    except _Expired:
        raise b.error() from None
    finally:
        if hard:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)
        if timer is not None:
            timer.cancel()
        _CURRENT.pop()


class _AsyncStop:
    """The hard stop outside the main thread: after ``timeout`` seconds a timer thread raises
    :class:`_Expired` in thread ``ident`` (at its next bytecode); :meth:`cancel` stops the timer and
    clears an exception that was scheduled but not yet delivered."""

    def __init__(self, ident: int, timeout: float) -> None:
        self.ident, self.lock, self.active, self.fired = ident, threading.Lock(), True, False
        self.timer = threading.Timer(max(timeout, 1e-3), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _set(self, exc) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident), ctypes.py_object(exc) if exc else None)

    def _fire(self) -> None:
        with self.lock:
            if self.active:
                self.fired = True
                self._set(_Expired)

    def cancel(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.active = False
            if self.fired:  # scheduled after the body finished: drop it
                self._set(None)


def _step(name: str) -> None:
    """Enter the step ``name``: report it and stop when the deadline has passed."""
    if not _CURRENT:
        return
    b = _CURRENT[-1]
    if b.deadline is not None and time.monotonic() > b.deadline:
        raise b.error()
    b.step = name
    if b.progress is not None:
        b.progress(f"[{b.elapsed():7.1f} s] {name}")
