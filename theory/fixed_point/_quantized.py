r"""Theory for quantized networks, symbolic part: rounding noise per mode, and overflow probabilities of a
preactivation whose variance fluctuates at finite width.

**Rounding as additive noise.** Rounding a value that is spread smoothly over many steps :math:`\Delta = 2^{-F}`
adds an error :math:`e` uniform on one step, independent of the value: ``AP_TRN`` (floor) on
:math:`(-\Delta, 0]`, mean :math:`-\Delta/2`; every round-to-nearest mode on :math:`[-\Delta/2, \Delta/2]`,
mean 0 (the tie rules act on a set of measure zero); variance :math:`\Delta^2/12` in both cases.
``AP_TRN_ZERO`` has mean :math:`-\operatorname{sign}(x)\Delta/2`: its error is correlated with the value
(a shrink towards zero), not additive; it is refused here (the numerical theory in
:mod:`nntheory.numerics` treats every mode exactly on a grid).

**Overflow.** At finite width a preactivation is Gaussian given the previous layer, with a random variance
:math:`G`, :math:`\mathbb E G = K`, :math:`\operatorname{Var} G = V/n` (the four-point vertex; PDLT
conventions, :func:`~nntheory.theory.finite_width_recursion`). A value of an ``ap_fixed<W,I>``
accumulator overflows when it leaves :math:`[-2^{I-1}, 2^{I-1})`. With a mean :math:`m` (a rounding bias),

.. math::
    P_\text{ovf} = \mathbb E_G\, f(G), \quad f(G) = \tfrac12\operatorname{erfc}\frac{a - m}{\sqrt{2G}}
        + \tfrac12\operatorname{erfc}\frac{a + m}{\sqrt{2G}},\quad a = 2^{I-1},
    \qquad \mathbb E_G f(G) = f(K) + \frac{V}{2n} f''(K) + O(n^{-2}).

The expansion is poor far in the tails (:math:`f''/f` grows like :math:`a^4/K^4`), so :func:`overflow_rate`
by default averages :math:`f` over a Gamma law of :math:`G` with the same mean :math:`K` and variance
:math:`V/n` (``method="gamma"``): the two agree to first order in 1/n (the third cumulant of :math:`G` is
:math:`O(n^{-2})`), and the Gamma average stays a probability in the tails. ``method="expansion"`` gives the
truncated series.
"""

from __future__ import annotations

import sympy

from nntheory._checks import check_int
from nntheory.errors import FixedPointError

__all__ = ["ROUNDING_NOISE_MODES", "overflow_probability", "overflow_rate", "rounding_noise", "smallest_safe_integer_bits"]

ROUNDING_NOISE_MODES = ("TRN", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV")

K, V, n, a, m = sympy.symbols("K V n a m", real=True)


def rounding_noise(frac_bits: int, rounding: str = "TRN") -> tuple[sympy.Expr, sympy.Expr]:
    """Exact ``(mean, variance)`` of the rounding error of a type with ``frac_bits`` fractional bits.

    Args:
        frac_bits: the number ``F`` of fractional bits (step ``2^-F``; may be negative).
        rounding: ``TRN`` or a round-to-nearest mode (``RND``, ``RND_ZERO``, ``RND_MIN_INF``, ``RND_INF``,
            ``RND_CONV``), with or without the ``AP_`` prefix, in any case.

    Returns:
        ``(mean, variance)``, exact sympy numbers: ``(-2^-F / 2, 2^-2F / 12)`` for ``TRN``,
        ``(0, 2^-2F / 12)`` for the round-to-nearest modes.

    Raises:
        FixedPointError: a non-integer ``frac_bits``, or an unsupported mode (``AP_TRN_ZERO`` included).
    """
    frac_bits = check_int(frac_bits, "frac_bits", where="rounding_noise", error=FixedPointError)
    r = str(rounding).upper().removeprefix("AP_")
    if r not in ROUNDING_NOISE_MODES:
        raise FixedPointError(f"rounding_noise: rounding must be one of {', '.join('AP_' + x for x in ROUNDING_NOISE_MODES)} "
                         f"(AP_TRN_ZERO's error depends on the sign of the value), got {rounding!r}.")
    d = sympy.Integer(2) ** (-frac_bits)
    return (-d / 2 if r == "TRN" else sympy.Integer(0)), d**2 / 12


def overflow_probability(order: int = 1) -> sympy.Expr:
    """:math:`P_\\text{ovf}` in the symbols ``K, V, n, a, m`` to ``order`` in 1/n (0 or 1); see the module.

    Args:
        order: 0 (the infinite-width term ``f(K)``) or 1 (plus ``V / (2n) f''(K)``).

    Returns:
        A sympy expression in the real symbols ``K, V, n, a, m`` (``a = 2^(I-1)`` the range bound, ``m`` the
        mean of the value).

    Raises:
        FixedPointError: if ``order`` is not 0 or 1.
    """
    if order not in (0, 1):
        raise FixedPointError(f"overflow_probability: order must be 0 or 1, got {order!r}.")
    G = sympy.Symbol("G", positive=True)
    f = (sympy.erfc((a - m) / sympy.sqrt(2 * G)) + sympy.erfc((a + m) / sympy.sqrt(2 * G))) / 2
    out = f.subs(G, K)
    if order == 1:
        out += V / (2 * n) * sympy.diff(f, G, 2).subs(G, K)
    return out


_COMPILED: dict = {}


def overflow_rate(integer_bits: int, K_value: float, V_value: float = 0.0, width: float | None = None, mean: float = 0.0,
                  method: str = "gamma") -> float:
    """The number :math:`P_\\text{ovf}` for ``ap_fixed<W, integer_bits>`` (``width`` = :math:`n_{l-1}`; None: infinite).

    Args:
        integer_bits: the integer width ``I`` of the type (sign bit included).
        K_value: the mean variance ``K`` of the value (positive).
        V_value: the four-point vertex ``V`` (0: no finite-width fluctuation of the variance).
        width: the previous layer's width :math:`n_{l-1}`; None for infinite width.
        mean: the mean ``m`` of the value (e.g. a rounding bias).
        method: ``"gamma"`` (average over a Gamma law of the variance) or ``"expansion"`` (the series to
            first order in 1/n); see the module.

    Returns:
        The overflow probability, a float clipped to ``[0, 1]`` (computed with 30 digits in mpmath).

    Raises:
        FixedPointError: ``K_value <= 0`` or an unknown ``method``.
    """
    import mpmath

    if not K_value > 0:
        raise FixedPointError(f"overflow_rate: K must be positive, got {K_value!r}.")
    if method not in ("gamma", "expansion"):
        raise FixedPointError(f"overflow_rate: method must be 'gamma' or 'expansion', got {method!r}.")
    finite = width is not None and V_value > 0
    with mpmath.workdps(30):
        A, M, Kv = mpmath.mpf(2) ** (integer_bits - 1), mpmath.mpf(mean), mpmath.mpf(K_value)

        def f(G):
            return (mpmath.erfc((A - M) / mpmath.sqrt(2 * G)) + mpmath.erfc((A + M) / mpmath.sqrt(2 * G))) / 2

        if not finite:
            val = f(Kv)
        elif method == "expansion":
            if 1 not in _COMPILED:
                _COMPILED[1] = sympy.lambdify((K, V, n, a, m), overflow_probability(1), "mpmath")
            val = _COMPILED[1](Kv, mpmath.mpf(V_value), mpmath.mpf(width), A, M)
        else:
            var = mpmath.mpf(V_value) / width
            shape, scale = Kv**2 / var, var / Kv
            dens = lambda G: G ** (shape - 1) * mpmath.exp(-G / scale - mpmath.loggamma(shape)) / scale**shape  # noqa: E731
            sd = mpmath.sqrt(var)
            pts = [mpmath.mpf(0)] + [max(mpmath.mpf(0), Kv + k * sd) for k in (-6, -2, 0, 2, 6, 20)] + [mpmath.inf]
            pts = sorted(set(pts))
            val = mpmath.quad(lambda G: f(G) * dens(G), pts)
    return float(min(max(val, 0.0), 1.0))


def smallest_safe_integer_bits(K_value: float, V_value: float = 0.0, width: float | None = None, mean: float = 0.0,
                               rate: float = 1e-6, method: str = "gamma") -> int:
    """The smallest integer width :math:`I` (sign bit included) whose predicted overflow rate is at most ``rate``.

    Args:
        K_value, V_value, width, mean, method: as for :func:`overflow_rate`.
        rate: the largest acceptable overflow probability, in ``(0, 1)``.

    Returns:
        ``I``, an int (searched from -16 up to 63).

    Raises:
        FixedPointError: ``rate`` outside ``(0, 1)``, or no width up to 63 integer bits is safe.
    """
    if not 0 < rate < 1:
        raise FixedPointError(f"smallest_safe_integer_bits: rate must be in (0, 1), got {rate!r}.")
    for bits in range(-16, 64):
        if overflow_rate(bits, K_value, V_value, width, mean, method) <= rate:
            return bits
    raise FixedPointError("smallest_safe_integer_bits: no width up to 63 integer bits is safe; is K finite?")
