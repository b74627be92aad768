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

import mpmath
import numpy as np
import sympy as sp

from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import FixedType, fixed_type
from nntheory.theory import Activation, activation as _activation
from nntheory.theory._activations import z as _z

__all__ = ["ActivationTable", "activation_table", "HLS4ML_RANGES"]

HLS4ML_RANGES = {"tanh": 4.0, "sigmoid": 8.0}
FORMAT_VERSION = 1


def _libm():
    name = ctypes.util.find_library("m") or "libm.so.6"
    lib = ctypes.CDLL(name)
    for fn in ("tanhf", "expf"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    return lib


@dataclass(frozen=True)
class ActivationTable:
    """An activation lookup table: ``codes`` of ``table_type``; see the module docstring."""

    activation: Activation
    input_type: FixedType
    table_type: FixedType
    size: int
    half_range: float
    mode: str
    codes: np.ndarray = field(repr=False)

    @property
    def values(self) -> np.ndarray:
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

    def meta(self) -> dict:
        return {"format_version": FORMAT_VERSION, "kind": "activation", "activation": self.activation.name,
                "expression": str(self.activation.expr), "input_precision": str(self.input_type),
                "table_precision": str(self.table_type), "table_size": self.size, "input_range": [-self.half_range, self.half_range],
                "mode": self.mode, "index": "clip(trunc(x * table_size / (2 R)) + table_size / 2, 0, table_size - 1)"}


def activation_table(act, *, input_precision="ap_fixed<16,6>", table_size: int = 1024, table_precision="ap_fixed<18,8>",
                     mode: str = "exact", half_range: float | None = None) -> ActivationTable:
    """Build the table of ``act`` (a name or an :class:`~nntheory.theory.Activation`); see the module docstring."""
    a = _activation(act)
    tin, tt = fixed_type(input_precision), fixed_type(table_precision)
    if isinstance(table_size, bool) or not isinstance(table_size, (int, np.integer)) or table_size < 2 or table_size & (table_size - 1):
        raise SpecError(f"table_size must be a power of two >= 2 (hls4ml indexes with shifts), got {table_size!r}.")
    if mode not in ("exact", "hls4ml"):
        raise SpecError(f"mode must be 'exact' or 'hls4ml', got {mode!r}.")
    if mode == "hls4ml":
        if a.name not in HLS4ML_RANGES:
            raise SpecError(f"mode 'hls4ml': hls4ml's own table code exists for {sorted(HLS4ML_RANGES)}, not {a.name!r}; use mode 'exact'.")
        if half_range not in (None, HLS4ML_RANGES[a.name]):
            raise SpecError(f"mode 'hls4ml': the {a.name} range is fixed at +-{HLS4ML_RANGES[a.name]}, got {half_range}.")
    R = float(half_range if half_range is not None else HLS4ML_RANGES.get(a.name, 8.0))
    if not (np.isfinite(R) and R > 0 and float(np.log2(R)).is_integer()):
        raise SpecError(f"input range: the half range R must be a power of two (got {half_range!r}).")
    N = int(table_size)
    if mode == "hls4ml":
        lib = _libm()
        pts = np.float32([np.float32(2 * R * (i - N / 2.0) / N) for i in range(N)])
        if a.name == "tanh":
            vals = np.array([lib.tanhf(float(p)) for p in pts], dtype=np.float64)
        else:
            vals = np.array([float(np.float32(1.0 / float(np.float32(1 + np.float32(lib.expf(float(-p))))))) for p in pts])
        codes = np.asarray(tt.quantize(vals))
    else:
        z = _z
        f = sp.lambdify(z, a.expr, "mpmath")
        rn = tt.with_modes(rounding="RND_CONV")
        codes = np.empty(N, dtype=np.int64)
        with mpmath.workdps(60):
            for i in range(N):
                v = f(mpmath.mpf(-R) + mpmath.mpf(2 * R) * i / N)
                codes[i] = _round_mp(v, rn)
    return ActivationTable(a, tin, tt, N, R, mode, codes)


def _round_mp(v, t: FixedType) -> int:
    """Correct rounding (nearest, ties to even) of the mpmath number ``v`` into ``t``, saturating."""
    y = v * mpmath.mpf(2) ** t.frac
    q = int(mpmath.nint(y))  # nearest, ties to even
    return max(t.min_code, min(t.max_code, q))


def table_bytes(table: ActivationTable, fmt: str, *, name: str | None = None) -> bytes:
    """The table as ``json`` (``{"meta": {...}, "table": [...], "codes": [...]}``), ``npz`` (no pickles: codes,
    values and the metadata as JSON text) or ``c-header`` (codes and exact hexadecimal float values)."""
    import io
    import json
    import re as _re

    meta = table.meta()
    vals = table.values
    if fmt == "json":
        return (json.dumps({"meta": meta, "table": [float(v) for v in vals], "codes": [int(c) for c in table.codes]},
                           indent=1) + "\n").encode()
    if fmt == "npz":
        buf = io.BytesIO()
        np.savez(buf, codes=table.codes.astype(np.int64), values=vals.astype(np.float64), meta=np.array(json.dumps(meta, sort_keys=True)))
        return buf.getvalue()
    if fmt == "c-header":
        ident = name or f"nntheory_{table.activation.name}_table"
        if not _re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
            raise SpecError(f"--name: not a C identifier: {ident!r}.")
        guard = ident.upper() + "_H"
        ctype = "int64_t" if table.table_type.width > 32 else "int32_t"
        lines = ["/* Generated by nntheory: activation lookup table. Do not edit.", *[f" * {k}: {v}" for k, v in sorted(meta.items())],
                 f" * value = code * 2^-{table.table_type.frac}; the C type of an entry is {table.table_type}.", " */",
                 f"#ifndef {guard}", f"#define {guard}", "#include <stdint.h>", "",
                 f"#define {ident.upper()}_SIZE {table.size}", f"#define {ident.upper()}_FRAC_BITS {table.table_type.frac}",
                 f"#define {ident.upper()}_HALF_RANGE {float(table.half_range).hex()}", "",
                 f"static const {ctype} {ident}_codes[{table.size}] = {{"]
        lines += ["    " + ", ".join(str(int(c)) for c in table.codes[i : i + 12]) + "," for i in range(0, table.size, 12)]
        lines += ["};", "", f"static const double {ident}_values[{table.size}] = {{"]
        lines += ["    " + ", ".join(float(v).hex() for v in vals[i : i + 6]) + "," for i in range(0, table.size, 6)]
        lines += ["};", "", f"#endif /* {guard} */", ""]
        return "\n".join(lines).encode()
    raise SpecError(f"--format: must be json, npz or c-header, got {fmt!r}.")
