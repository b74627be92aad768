"""The one argument check for integers and real numbers in a range (standard library only).

Every stage uses it, so a bad size or order gets the same one-line message everywhere:
``EnsembleSpec: depth must be an integer >= 1, got 0.``  NumPy integers are accepted through
``__index__`` (no NumPy import here, so ``nntheory.theory`` stays pure); ``bool`` is refused.
"""

from __future__ import annotations

import math
import operator
from numbers import Real

from nntheory.errors import SpecError

__all__ = ["check_int", "check_real"]


def _range_text(lo, hi, *, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi}"
    return "finite"


def check_int(value, name: str, *, lo: int | None = None, hi: int | None = None, where: str = "",
              error: type[Exception] = SpecError) -> int:
    """Return ``value`` as a Python ``int`` if it is an integer in ``[lo, hi]``; raise ``error`` otherwise.

    Args:
        value: the argument (``int`` or an integer type with ``__index__``, never ``bool``).
        name: the argument's name, as the user wrote it.
        lo, hi: inclusive bounds (``None``: unbounded).
        where: the function or command, prefixed to the message.
        error: the exception class (a subclass of :class:`~nntheory.errors.NNTheoryError`).
    Returns:
        ``int(value)``.

    Example:
        >>> check_int(3, "depth", lo=1)
        3
        >>> check_int(0, "depth", lo=1, where="EnsembleSpec")
        Traceback (most recent call last):
        ...
        nntheory.errors.SpecError: EnsembleSpec: depth must be an integer >= 1, got 0.
    """
    prefix = f"{where}: " if where else ""
    try:
        if isinstance(value, bool):
            raise TypeError
        v = operator.index(value)
    except TypeError:
        raise error(f"{prefix}{name} must be an integer {_range_text(lo, hi)}, got {value!r}.") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise error(f"{prefix}{name} must be an integer {_range_text(lo, hi)}, got {v}.")
    return v


def check_real(value, name: str, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
               hi_open: bool = False, where: str = "", error: type[Exception] = SpecError) -> float:
    """Return ``value`` as a finite ``float`` in the given range; raise ``error`` otherwise.

    Args:
        value: a real number (``int``, ``float``, or a real scalar type), never ``bool``, NaN or infinite.
        name, where, error: as in :func:`check_int`.
        lo, hi: bounds; ``lo_open``/``hi_open`` make them strict.
    Returns:
        ``float(value)``.

    Example:
        >>> check_real(0.5, "C_b", lo=0)
        0.5
        >>> check_real(-1, "C_W", lo=0, lo_open=True, where="MLPKernel")
        Traceback (most recent call last):
        ...
        nntheory.errors.SpecError: MLPKernel: C_W must be a real number > 0, got -1.0.
    """
    prefix = f"{where}: " if where else ""
    rng = _range_text(lo, hi, lo_open=lo_open, hi_open=hi_open)
    text = "a finite real number" if rng == "finite" else f"a real number {rng}"
    if isinstance(value, bool) or not isinstance(value, Real) and not hasattr(value, "__float__"):
        raise error(f"{prefix}{name} must be {text}, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise error(f"{prefix}{name} must be {text}, got {value!r}.") from None
    bad = not math.isfinite(v)
    bad |= lo is not None and (v <= lo if lo_open else v < lo)
    bad |= hi is not None and (v >= hi if hi_open else v > hi)
    if bad:
        raise error(f"{prefix}{name} must be {text}, got {v!r}.")
    return v
