r"""Lookup tables for activations on fixed-point hardware, with proven error bounds.

A table of ``N`` entries covers the input range :math:`[-R, R)` with bins of width :math:`w = 2R/N`; entry
``i`` holds :math:`f(x_i)`, :math:`x_i = -R + i\,w`, in the table type. The index of an input is hls4ml's
rule (``nnet_activation.h``): :math:`i = \operatorname{trunc}(x N / 2R) + N/2` (truncation towards zero,
so the bin at 0 is twice as wide), clipped to ``[0, N-1]``. hls4ml fixes :math:`R = 4` for tanh and
:math:`R = 8` for the sigmoid.

Two modes fill the entries:

* ``"exact"``: :math:`f(x_i)` correctly rounded (to nearest, ties to even) in the table type, from the
  sympy activation evaluated with mpmath at 60 digits;
* ``"hls4ml"`` (tanh and sigmoid only): the numbers hls4ml computes at run time, bit for bit:
  :math:`x_i` in single precision, glibc's ``tanhf`` / ``expf`` (called through ``ctypes``, not numpy's
  float32 functions, which differ by an ulp now and then), the sigmoid as ``1.0 / (1 + expf(-x))`` with the
  division in double and the result rounded to float, then converted to the table type with its own
  rounding and overflow modes (default ``AP_TRN``, ``AP_WRAP``).

Error of the lookup against :math:`f` for every representable input (:meth:`ActivationTable.max_error`,
exhaustive over all input codes, in float64), and a bound from derivatives
(:meth:`ActivationTable.error_bound`): inside the range an input lies less than :math:`w` from the point
of its entry, so :math:`|T_i - f(x)| \le |T_i - f(x_i)| + w \max|f'|`; beyond it, the clipped end entry
is off by at most :math:`\sup_{x \ge x_{N-1}} |f(x) - f(x_{N-1})|` (and likewise below), taken over the
input type's range. :math:`\max|f'|` comes from sympy (``sympy.calculus.util.maximum``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass, field
from typing import ClassVar

import mpmath
import numpy as np
import sympy as sp

from nntheory._checks import check_int
from nntheory.errors import FixedPointError, SpecError
from nntheory.numerics._export import FORMAT_VERSION as FORMAT_VERSION  # the one table format version
from nntheory.numerics._export import provenance
from nntheory.numerics._export import table_bytes as _table_bytes
from nntheory.numerics.fixed_point._fixed import FixedType, fixed_type
from nntheory.theory import Activation, activation as _activation
from nntheory.theory._activations import z as _z

__all__ = ["HLS4ML_RANGES", "ActivationTable", "activation_table", "table_bytes"]

HLS4ML_RANGES = {"tanh": 4.0, "sigmoid": 8.0}
INDEX_RULE = "clip(trunc(x * table_size / (2 R)) + table_size / 2, 0, table_size - 1)"


def _libm():
    """glibc's libm through ``ctypes``, with ``tanhf`` and ``expf`` typed as single precision."""
    name = ctypes.util.find_library("m") or "libm.so.6"
    lib = ctypes.CDLL(name)
    for fn in ("tanhf", "expf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


@dataclass(frozen=True)
class ActivationTable:
    """An activation lookup table: ``codes`` of ``table_type``; see the module docstring.

    Written by the one table writer (:func:`nntheory.numerics.write_table`, layout ``"codes"``).
    """

    export_layout: ClassVar[str] = "codes"

    activation: Activation
    input_type: FixedType
    table_type: FixedType
    size: int
    half_range: float
    mode: str
    codes: np.ndarray = field(repr=False)

    @property
    def values(self) -> np.ndarray:
        """The float64 values of the entries (exact: ``code * 2^-F``)."""
        return np.asarray(self.table_type.values(self.codes))

    @property
    def points(self) -> np.ndarray:
        """The inputs ``x_i`` of the entries."""
        return -self.half_range + np.arange(self.size) * (2 * self.half_range / self.size)

    def index(self, x_codes) -> np.ndarray:
        """hls4ml's index of inputs given as codes of ``input_type`` (exact integer arithmetic)."""
        c = np.asarray(x_codes, dtype=np.int64)
        # x N / 2R = c * N / (2R 2^F): truncate towards zero, exactly, with integers
        num = c * self.size
        den = 2 * self.half_range * 2.0**self.input_type.frac
        if den >= 1:
            q = np.trunc(num / den)  # exact: den is a power of two and |num| < 2^53
        else:
            q = num * (1 / den)
        return np.clip(q.astype(np.int64) + self.size // 2, 0, self.size - 1)

    def lookup(self, x_codes) -> np.ndarray:
        """Table codes for input codes."""
        return self.codes[self.index(x_codes)]

    def exact_function(self):
        """Float64 f (numpy) for the error analysis."""
        z = _z
        return sp.lambdify(z, self.activation.expr, ["scipy", "numpy"])

    def max_error(self) -> tuple[float, float]:
        """The largest ``|T(x) - f(x)|`` over every code of the input type, and the input where it occurs."""
        x_codes = self.input_type.all_codes()
        x = np.asarray(self.input_type.values(x_codes))
        err = np.abs(self.table_type.values(self.lookup(x_codes)) - self.exact_function()(x))
        i = int(np.argmax(err))
        return float(err[i]), float(x[i])

    def error_bound(self) -> float:
        """The bound from derivatives (module docstring); rigorous up to float64 rounding of its terms (~1e-15)."""
        z = _z
        f = self.activation.expr
        lo, hi = self.input_type.min_value, self.input_type.max_value
        R = self.half_range
        w = 2 * R / self.size
        try:
            from sympy.calculus.util import maximum

            d1 = maximum(sp.Abs(sp.diff(f, z)), z, sp.Interval(-R, R))
            m1 = float(d1)
        except Exception as exc:  # noqa: BLE001 - report what failed, in our words
            raise SpecError(f"error_bound: sympy could not bound |f'| of {self.activation.name} on [-{R}, {R}] ({exc}).") from exc
        fx = self.exact_function()
        entry_err = float(np.max(np.abs(self.values - fx(self.points))))
        bound = entry_err + w * m1
        for end, (a, b) in ((self.size - 1, (self.points[-1], hi)), (0, (lo, self.points[0]))):
            if b <= a:
                continue
            try:
                from sympy.calculus.util import maximum, minimum

                fmax = float(maximum(f, z, sp.Interval(a, b)))
                fmin = float(minimum(f, z, sp.Interval(a, b)))
            except Exception as exc:  # noqa: BLE001
                raise SpecError(f"error_bound: sympy could not bound {self.activation.name} on [{a}, {b}] ({exc}).") from exc
            tv = self.values[end]
            bound = max(bound, abs(tv - fmax), abs(tv - fmin))
        return bound * (1 + 1e-12) + 1e-15

    @property
    def default_name(self) -> str:
        """The C identifier prefix of the table's header, ``nntheory_<activation>_table``."""
        return f"nntheory_{self.activation.name}_table"

    def description(self) -> dict:
        """Returns: the table's kind, parameters, conventions and dtype (JSON-ready), the body of :meth:`meta`."""
        params = {"act": self.activation.name, "input_precision": str(self.input_type), "table_size": self.size,
                  "table_precision": str(self.table_type), "mode": self.mode, "half_range": self.half_range}
        return {"kind": "activation", "activation": self.activation.name, "expression": str(self.activation.expr),
                "input_precision": str(self.input_type), "table_precision": str(self.table_type), "table_size": self.size,
                "input_range": [-self.half_range, self.half_range], "mode": self.mode, "index": INDEX_RULE,
                "dtype": "float64", "parameters": params,
                "conventions": {"codes": "int64 codes of table_precision; value = code * 2^-(W-I)",
                                "fixed_point": "ap_fixed<W,I,Q,O> as in the Xilinx ap_types headers (hls4ml 1.3.0)",
                                "index": INDEX_RULE, "points": "x_i = -R + i * 2R / table_size"}}

    def meta(self) -> dict:
        """Returns: the provenance block the table files carry (:func:`nntheory.numerics._export.provenance`)."""
        return provenance(self)


def _check_table_args(a: Activation, table_size, mode: str, half_range) -> tuple[int, float]:
    """Validates :func:`activation_table`'s arguments; returns ``(N, R)``."""
    n = check_int(table_size, "table_size", lo=2, where="activation_table", error=FixedPointError)
    if n & (n - 1):
        raise FixedPointError(f"table_size must be a power of two >= 2 (hls4ml indexes with shifts), got {table_size!r}.")
    if mode not in ("exact", "hls4ml"):
        raise FixedPointError(f"mode must be 'exact' or 'hls4ml', got {mode!r}.")
    if mode == "hls4ml":
        if a.name not in HLS4ML_RANGES:
            raise FixedPointError(f"mode 'hls4ml': hls4ml's own table code exists for {sorted(HLS4ML_RANGES)}, not {a.name!r}; "
                                  f"use mode 'exact'.")
        if half_range not in (None, HLS4ML_RANGES[a.name]):
            raise FixedPointError(f"mode 'hls4ml': the {a.name} range is fixed at +-{HLS4ML_RANGES[a.name]}, got {half_range}.")
    R = float(half_range if half_range is not None else HLS4ML_RANGES.get(a.name, 8.0))
    if not (np.isfinite(R) and R > 0 and float(np.log2(R)).is_integer()):
        raise FixedPointError(f"input range: the half range R must be a power of two (got {half_range!r}).")
    return n, R


def _hls4ml_codes(a: Activation, tt: FixedType, N: int, R: float) -> np.ndarray:
    """The entries hls4ml computes at run time (single precision, glibc), converted to ``tt``."""
    lib = _libm()
    pts = np.float32([np.float32(2 * R * (i - N / 2.0) / N) for i in range(N)])
    if a.name == "tanh":
        vals = np.array([lib.tanhf(float(p)) for p in pts], dtype=np.float64)
    else:
        vals = np.array([float(np.float32(1.0 / float(np.float32(1 + np.float32(lib.expf(float(-p))))))) for p in pts])
    return np.asarray(tt.quantize(vals))


def _exact_codes(a: Activation, tt: FixedType, N: int, R: float) -> np.ndarray:
    """The entries correctly rounded (nearest, ties to even) in ``tt``, from mpmath at 60 digits."""
    f = sp.lambdify(_z, a.expr, "mpmath")
    rn = tt.with_modes(rounding="RND_CONV")
    codes = np.empty(N, dtype=np.int64)
    with mpmath.workdps(60):
        for i in range(N):
            v = f(mpmath.mpf(-R) + mpmath.mpf(2 * R) * i / N)
            codes[i] = _round_mp(v, rn)
    return codes


def activation_table(act, *, input_precision="ap_fixed<16,6>", table_size: int = 1024, table_precision="ap_fixed<18,8>",
                     mode: str = "exact", half_range: float | None = None) -> ActivationTable:
    """Build the lookup table of an activation; see the module docstring.

    Args:
        act: an activation name or an :class:`~nntheory.theory.Activation`.
        input_precision: the type of the inputs (``ap_fixed<W,I,Q,O>`` spelling or a ``FixedType``).
        table_size: the number of entries, a power of two >= 2.
        table_precision: the type of the entries.
        mode: ``"exact"`` (correctly rounded) or ``"hls4ml"`` (hls4ml's own numbers, tanh and sigmoid only).
        half_range: ``R``, a power of two (default: hls4ml's 4 for tanh, 8 otherwise; fixed in mode ``"hls4ml"``).
    Returns:
        The :class:`ActivationTable`.
    Raises:
        FixedPointError: for a bad size, mode, range or type.
    """
    a = _activation(act)
    tin, tt = fixed_type(input_precision), fixed_type(table_precision)
    N, R = _check_table_args(a, table_size, mode, half_range)
    codes = _hls4ml_codes(a, tt, N, R) if mode == "hls4ml" else _exact_codes(a, tt, N, R)
    return ActivationTable(a, tin, tt, N, R, mode, codes)


def _round_mp(v, t: FixedType) -> int:
    """Correct rounding (nearest, ties to even) of the mpmath number ``v`` into ``t``, saturating."""
    from nntheory.numerics._rounding import round_mpf_to_grid

    q = round_mpf_to_grid(v, t.frac)  # nearest code, ties to even (exact on the mpf's dyadic value)
    return max(t.min_code, min(t.max_code, q))


def table_bytes(table: ActivationTable, fmt: str, *, name: str | None = None) -> bytes:
    """The table's file in format ``fmt`` through the one table writer (:func:`nntheory.numerics.table_bytes`).

    Args:
        table: the activation table.
        fmt: ``json`` (``{"meta": {...}, "table": [...], "codes": [...]}``), ``npz`` (no pickles: ``codes``,
            ``values`` and the metadata as JSON text) or ``c-header`` (codes and exact hexadecimal float values).
        name: the C identifier prefix (default ``nntheory_<activation>_table``).
    Returns:
        The bytes (deterministic).
    Raises:
        SpecError: for an unknown format or a name that is not a C identifier.
    """
    return _table_bytes(table, fmt, name=name)
