r"""Bit-exact emulation of Xilinx/hls4ml ``ap_fixed<W,I,Q,O>`` and ``ap_ufixed<W,I,Q,O>`` in JAX.

A value of a fixed-point type is an integer *code* ``c`` with value :math:`c\,2^{-F}`, :math:`F = W - I`
fractional bits (``I`` may be negative or larger than ``W``). Signed codes lie in
:math:`[-2^{W-1}, 2^{W-1}-1]`, unsigned codes in :math:`[0, 2^W-1]`. Converting an exact real number
(a float64, or the value of another fixed-point type) to a type is quantisation followed by overflow
handling, as in ``ap_fixed_base::operator=`` of the ``ap_types`` headers that hls4ml ships:

=================  ========================================================
quantisation ``Q``  result, for :math:`y = x\,2^F` with :math:`\lfloor y\rfloor` and remainder :math:`r = y - \lfloor y\rfloor`
=================  ========================================================
``AP_TRN``          :math:`\lfloor y\rfloor` (towards :math:`-\infty`; the default)
``AP_TRN_ZERO``     towards zero
``AP_RND``          nearest, ties towards :math:`+\infty`
``AP_RND_ZERO``     nearest, ties towards zero
``AP_RND_MIN_INF``  nearest, ties towards :math:`-\infty`
``AP_RND_INF``      nearest, ties away from zero
``AP_RND_CONV``     nearest, ties to even
=================  ========================================================

Overflow ``O`` of the rounded code: ``AP_WRAP`` (the default; modulo :math:`2^W`), ``AP_SAT`` (clip to the
range), ``AP_SAT_ZERO`` (0 on overflow), ``AP_SAT_SYM`` (clip to :math:`\pm(2^{W-1}-1)`; a signed code
:math:`-2^{W-1}` also becomes :math:`-(2^{W-1}-1)`, as the headers do). ``AP_WRAP_SM`` and saturation bits
``N > 0`` are not emulated (refused with a message).

Exactness: every step runs on float64 numbers that are integers or exact binary fractions (scaling by
:math:`2^F`, ``floor``, the remainder, ``fmod``), so the result is exact for any finite
float64 input as long as :math:`W \le 53` (codes are exact integers in float64 and int64). Inputs must be
finite: NaN and infinities are rejected by the checked entry point :meth:`FixedType.quantize` (concrete
arrays), which also lifts subnormal inputs to the smallest normal number (XLA on CPU flushes subnormals to
zero; no type can tell the two apart). The jit-able core :func:`quantize_codes` maps NaN and infinities
to code 0 without a check and sees subnormal inputs as zero.

Precision: the methods of :class:`FixedType` on concrete inputs (numbers, lists, NumPy or JAX arrays) compute
in NumPy float64 and return NumPy arrays (int64 codes, float64 values), so they are exact whether or not JAX
runs in float64 (``jax_enable_x64``). The jit-able cores :func:`quantize_codes` and :func:`code_values` (and a
traced input to any method) compute in JAX and need float64: without ``jax_enable_x64`` they raise
:class:`~nntheory.errors.SpecError` instead of silently rounding in float32.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from nntheory.errors import SpecError

__all__ = ["FixedType", "ROUNDING_MODES", "OVERFLOW_MODES", "fixed_type", "quantize_codes", "code_values"]

ROUNDING_MODES = ("TRN", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TRN_ZERO")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")
MAX_WIDTH = 53

_TYPE_RE = re.compile(r"^\s*(ap_fixed|ap_ufixed|fixed|ufixed)\s*<\s*([^>]*)>\s*$")


@dataclass(frozen=True)
class FixedType:
    """``ap_fixed<width, integer, AP_<rounding>, AP_<overflow>>`` (``signed=False``: ``ap_ufixed``)."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"

    def __post_init__(self) -> None:
        for name in ("width", "integer"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise SpecError(f"FixedType: {name} must be an integer, got {v!r}.")
        if not 1 <= self.width <= MAX_WIDTH:
            raise SpecError(f"FixedType: width must be between 1 and {MAX_WIDTH} (codes exact in float64), got {self.width}.")
        if self.signed and self.width < 2 and self.overflow == "SAT_SYM":
            raise SpecError("FixedType: AP_SAT_SYM needs a signed width >= 2.")
        if abs(self.integer) > 512:
            raise SpecError(f"FixedType: integer bits must be within [-512, 512], got {self.integer}.")
        r = str(self.rounding).upper().removeprefix("AP_")
        o = str(self.overflow).upper().removeprefix("AP_")
        if r not in ROUNDING_MODES:
            raise SpecError(f"FixedType: rounding must be one of {', '.join('AP_' + m for m in ROUNDING_MODES)}, got {self.rounding!r}.")
        if o not in OVERFLOW_MODES:
            raise SpecError(f"FixedType: overflow must be one of {', '.join('AP_' + m for m in OVERFLOW_MODES)}, got {self.overflow!r}"
                            + (" (AP_WRAP_SM is not emulated)." if o == "WRAP_SM" else "."))
        object.__setattr__(self, "rounding", r)
        object.__setattr__(self, "overflow", o)
        object.__setattr__(self, "signed", bool(self.signed))
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "integer", int(self.integer))

    # -- description -------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse ``'ap_fixed<16,6>'``, ``'ap_ufixed<8,0,AP_RND,AP_SAT>'`` (also hls4ml's ``fixed<16,6,RND,SAT>``)."""
        m = _TYPE_RE.match(str(text))
        if not m:
            raise SpecError(f"fixed-point type: expected 'ap_fixed<W,I[,Q[,O]]>' or 'ap_ufixed<...>', got {text!r}.")
        parts = [p.strip() for p in m.group(2).split(",")]
        if not 2 <= len(parts) <= 4 or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts[:2]):
            raise SpecError(f"fixed-point type: expected integer W and I and optional rounding and overflow modes, got {text!r}.")
        if len(parts) == 4 and parts[3].upper().removeprefix("AP_") not in OVERFLOW_MODES:
            pass  # the constructor names the allowed modes
        return cls(int(parts[0]), int(parts[1]), not m.group(1).endswith("ufixed"),
                   parts[2] if len(parts) > 2 else "TRN", parts[3] if len(parts) > 3 else "WRAP")

    def __str__(self) -> str:
        base = f"{'ap_fixed' if self.signed else 'ap_ufixed'}<{self.width},{self.integer}"
        if self.overflow != "WRAP":
            return f"{base},AP_{self.rounding},AP_{self.overflow}>"
        if self.rounding != "TRN":
            return f"{base},AP_{self.rounding}>"
        return base + ">"

    @property
    def frac(self) -> int:
        """Fractional bits ``F = W - I``."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        return float(np.ldexp(1.0, -self.frac))

    @property
    def min_code(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_value(self) -> float:
        return float(np.ldexp(float(self.min_code), -self.frac))

    @property
    def max_value(self) -> float:
        return float(np.ldexp(float(self.max_code), -self.frac))

    def all_codes(self) -> np.ndarray:
        """Every code of the type, ascending (int64)."""
        if self.width > 24:
            raise SpecError(f"all_codes: {self} has 2^{self.width} codes; only widths <= 24 are enumerated.")
        return np.arange(self.min_code, self.max_code + 1, dtype=np.int64)

    def with_modes(self, rounding: str | None = None, overflow: str | None = None) -> FixedType:
        return FixedType(self.width, self.integer, self.signed, rounding or self.rounding, overflow or self.overflow)

    # -- conversions -------------------------------------------------------------------------------------
    def quantize(self, x):
        """Codes of the float64 values ``x`` converted to this type; finite inputs only.

        Args:
            x: numbers (concrete: computed in NumPy float64, exact with or without ``jax_enable_x64``) or a
                traced JAX array (computed by :func:`quantize_codes`, which needs float64).

        Returns:
            The int64 codes: a NumPy array for concrete ``x``, a JAX array for traced ``x``.

        Raises:
            SpecError: NaN or infinite inputs; a traced input without ``jax_enable_x64``.
        """
        a = _concrete(x)
        if a is None:
            return quantize_codes(x, self)
        if not np.all(np.isfinite(a)):
            raise SpecError(f"quantize: inputs to {self} must be finite (found NaN or infinity).")
        # XLA on CPU treats subnormal inputs as zero; every type rounds them like the smallest normal number
        tiny = (a != 0) & (np.abs(a) < np.finfo(np.float64).tiny)
        if np.any(tiny):
            a = np.where(tiny, np.copysign(np.finfo(np.float64).tiny, a), a)
        return np.asarray(_quantize(np, a, self))

    def values(self, codes):
        """The float64 values of ``codes`` (exact; NumPy for concrete codes, JAX float64 for traced ones)."""
        c = _concrete(codes)
        return code_values(codes, self) if c is None else np.asarray(np.ldexp(c, -self.frac))

    def represent(self, x):
        """The float64 value that ``x`` becomes in this type (quantise, then read back; exact, see :meth:`quantize`)."""
        return self.values(self.quantize(x))

    def convert(self, codes, source: FixedType):
        """Codes of ``source`` converted to this type (``ap_fixed<...> t = s;``); NumPy for concrete codes."""
        c = _concrete(codes)
        if c is None:
            return quantize_codes(code_values(codes, source), self)
        return np.asarray(_quantize(np, np.ldexp(c, -source.frac), self))


def _concrete(x) -> np.ndarray | None:
    """``x`` as a float64 NumPy array, or None for a traced JAX value (which cannot leave the trace)."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):  # jax's TracerArrayConversionError is a TypeError
        return None


def _require_float64(where: str) -> None:
    from nntheory.numerics._compile import require_float64

    require_float64(where)


def fixed_type(spec) -> FixedType:
    """A :class:`FixedType` from a type or its C++ spelling."""
    if isinstance(spec, FixedType):
        return spec
    if isinstance(spec, str):
        return FixedType.parse(spec)
    raise SpecError(f"fixed-point type: expected a FixedType or a string like 'ap_fixed<16,6>', got {spec!r}.")


def code_values(codes, t: FixedType):
    """``codes * 2^-F`` as JAX float64 (exact for W <= 53; jit-able).

    Raises:
        SpecError: without ``jax_enable_x64`` (float32 would round; :meth:`FixedType.values` is exact anyway).
    """
    import jax.numpy as jnp

    _require_float64("code_values")
    return jnp.asarray(codes).astype(jnp.float64) * 2.0 ** (-t.frac)


def quantize_codes(x, t: FixedType):
    """The jit-able core: float64 ``x`` -> int64 codes of ``t`` (quantisation, then overflow; see the module).

    Raises:
        SpecError: without ``jax_enable_x64`` (int64 codes and float64 steps need it; :meth:`FixedType.quantize`
            is exact on concrete inputs anyway).
    """
    import jax.numpy as jnp

    _require_float64("quantize_codes")
    return _quantize(jnp, jnp.asarray(x, dtype=jnp.float64), t)


def _quantize(xp, x, t: FixedType):
    """The steps of :func:`quantize_codes` in the array namespace ``xp`` (``numpy`` or ``jax.numpy``), float64 ``x``."""
    x = xp.where(xp.isfinite(x), x, 0.0)
    if t.overflow == "WRAP":
        # x mod 2^I (fmod is exact and keeps the sign): the code mod 2^W, the remainder and the sign are unchanged
        x = xp.fmod(x, 2.0**t.integer)
    else:  # beyond twice the range the result only depends on the sign
        x = xp.clip(x, -(2.0 ** (t.integer + 1)), 2.0 ** (t.integer + 1))
    y = x * 2.0**t.frac  # exact (a power of two; |y| < 2^(W+1)) unless it underflows:
    # |y| below the smallest normal number (XLA flushes those to zero): any value in (0, 1/2) rounds alike
    y = xp.where((y == 0) & (x != 0), xp.copysign(0.25, x), y)
    fl = xp.floor(y)
    r = y - fl  # exact, in [0, 1)
    q = fl + _increment(xp, t.rounding, y, fl, r).astype(xp.float64)  # an exact integer-valued float64
    lo, hi = float(t.min_code), float(t.max_code)
    if t.overflow == "WRAP":
        m = float(2.0**t.width)
        w = xp.fmod(q, m)  # exact
        w = xp.where(w < 0, w + m, w)
        if t.signed:
            w = xp.where(w > hi, w - m, w)
        code = w
    elif t.overflow == "SAT":
        code = xp.clip(q, lo, hi)
    elif t.overflow == "SAT_ZERO":
        code = xp.where((q < lo) | (q > hi), 0.0, q)
    else:  # SAT_SYM
        code = xp.clip(q, -hi if t.signed else lo, hi)
    return code.astype(xp.int64)


def _increment(xp, rounding: str, y, fl, r):
    """Whether the rounding mode moves ``floor(y)`` up by one (only the asked mode is computed)."""
    if rounding == "TRN":
        return xp.zeros(xp.shape(y), dtype=bool)
    if rounding == "TRN_ZERO":
        return (y < 0) & (r > 0)
    if rounding == "RND":
        return r >= 0.5
    if rounding == "RND_MIN_INF":
        return r > 0.5
    half = r == 0.5
    if rounding == "RND_ZERO":
        return (r > 0.5) | (half & (y < 0))
    if rounding == "RND_INF":
        return (r > 0.5) | (half & (y > 0))
    return (r > 0.5) | (half & (xp.fmod(fl, 2.0) != 0))  # RND_CONV: ties to even
