r"""Criticality: hyperparameters with :math:`\chi_\parallel = \chi_\perp = 1` at a fixed point :math:`K^*`.

Single input: :math:`K^* = C_b + C_W\langle\sigma^2\rangle_{K^*}`,
:math:`\chi_\parallel = C_W\,\partial_K\langle\sigma^2\rangle_K`, :math:`\chi_\perp = C_W\langle\sigma'^2\rangle_K`
(PDLT §5). Exact for scale-invariant activations (a line of fixed points) and for the
:math:`K^*=0` class (:math:`\sigma(0)=0`, :math:`\sigma'(0)\ne0`: :math:`C_b=0`,
:math:`C_W = 1/\sigma'(0)^2`); otherwise solved numerically (e.g. exact GELU): with
:math:`C_W = 1/\langle\sigma'^2\rangle` the two conditions reduce to one equation in one variable,
:math:`\langle\sigma\sigma''\rangle_{K^*} = 0`. A float scan over :math:`K\in[10^{-6},10^8]` decides
existence in well under a second (sigmoid, softplus, cos have no root and are refused at once); each
sign change is refined with mpmath, where the Gaussian expectations are one-dimensional integrals done
to 20 digits (the result is good to ~15). The search has a time limit and always ends.
Activations that are not smooth (besides the scale-invariant ones) or not real on the line are refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy

from nntheory.errors import SpecError
from nntheory.theory._activations import Activation, z

__all__ = ["Criticality", "criticality"]


@dataclass(frozen=True)
class Criticality:
    """Critical hyperparameters; ``K_star`` is ``None`` for a line of fixed points (any K)."""

    activation: str
    C_W: sympy.Expr
    C_b: sympy.Expr
    K_star: sympy.Expr | None
    universality_class: str
    exact: bool


def _gauss(f, K, dps=20):
    with mpmath.workdps(dps):
        s = mpmath.sqrt(K)
        return mpmath.quad(lambda u: f(s * u) * mpmath.npdf(u), [-mpmath.inf, -5, 0, 5, mpmath.inf])


@lru_cache(maxsize=64)
def criticality(act: Activation, *, guess: tuple[float, float, float] | None = None) -> Criticality:
    """Critical ``(C_W, C_b)`` and ``K*`` of ``act``, with its universality class.

    Args:
        act: the activation.
        guess: ``(K*, C_b, C_W)`` to start the numerical search from (only ``K*`` is used), or None to scan.
    Returns:
        The :class:`Criticality` (exact for scale-invariant and ``K*=0`` activations, else 20-digit floats).
    Raises:
        SpecError: if ``act`` has no critical point (e.g. sigmoid, softplus), is not smooth and not
            scale-invariant, is not real on the whole line, or the search exceeds its time limit (60 s).

    Example:
        >>> from nntheory.theory import activation
        >>> c = criticality(activation("erf")); (c.C_W, c.C_b, c.K_star, c.universality_class)
        (pi/4, 0, 0, 'K*=0')
        >>> criticality(activation("relu")).C_W
        2
    """
    if act.family == "scale_invariant":
        ap, am = act.params
        return Criticality(act.name, sympy.nsimplify(2 / (ap**2 + am**2)), sympy.Integer(0), None, "scale-invariant", True)
    if act.family == "polynomial" and sympy.degree(act.expr, z) == 1:
        a = sympy.Poly(act.expr, z).coeff_monomial(z)
        return Criticality(act.name, 1 / a**2, sympy.Integer(0), None, "scale-invariant", True)
    if act.is_smooth:
        ser = sympy.series(act.expr, z, 0, 4).removeO()
        s0, s1, s2, s3 = (sympy.simplify(ser.coeff(z, k)) for k in range(4))
        # <sigma^2>_K = s1^2 K (1 + a1 K + ...), a1 = 3 (s2^2 + 2 s1 s3) / s1^2 (Wick); K*=0 is an
        # attracting critical point only for a1 < 0 (PDLT §5.3.3); GELU/SWISH have a1 > 0
        a1 = 3 * (s2**2 + 2 * s1 * s3) / s1**2 if s1 != 0 else None
    else:
        s0 = s1 = a1 = None
    if s0 == 0 and s1 != 0 and a1 is not None and a1.is_negative:
        return Criticality(act.name, sympy.simplify(1 / s1**2), sympy.Integer(0), sympy.Integer(0), "K*=0", True)
    return _numeric(act, guess)


def _numeric(act: Activation, guess) -> Criticality:
    """Nonzero ``K*``: the one-variable condition ``<sigma sigma''>_K = 0`` (chi_par = chi_perp), then ``C_W, C_b``.

    With ``C_W = 1/<sigma'^2>_K`` (chi_perp = 1), chi_par = 1 is ``<(sigma^2)''>/2 = <sigma'^2>``, i.e.
    ``h(K) = <sigma sigma''>_K = 0``. A cheap float scan of ``h`` over ``K`` in [1e-6, 1e8] (composite
    Gauss-Legendre in ``x``, no mpmath) decides existence and brackets the roots; each bracket is refined with
    mpmath (20 digits, a bracketing solver), so a search takes seconds and always ends.
    """
    deadline = time.monotonic() + _TIME_LIMIT
    if not act.is_smooth:
        raise SpecError(
            f"criticality: {act.name} is not smooth (kinks at {list(act.kinks)}) and not scale-invariant; the "
            "criticality conditions need its second derivative. Choose C_W and C_b explicitly.")
    d1, d2 = sympy.diff(act.expr, z), sympy.diff(act.expr, z, 2)
    h_expr = act.expr * d2
    try:
        h_float = sympy.lambdify(z, h_expr, "math")
        f_mp, d1_mp, h_mp = (sympy.lambdify(z, e, "mpmath") for e in (act.expr, d1, h_expr))
    except Exception as exc:  # noqa: BLE001 - sympy's printers raise many types for unsupported functions
        raise SpecError(f"criticality: cannot evaluate {act.name} and its derivatives numerically ({exc}).") from None
    _check_real_line(sympy.lambdify(z, act.expr, "math"), act.name)
    _check_integrable(act)  # poles between the probe points (sec, csc, tan): refused before the search, not after it
    if guess is not None:
        brackets = [(mpmath.mpf(guess[0]), None)]
    else:
        brackets = _brackets(h_float, deadline, act.name)
    for lo, hi in brackets:
        if time.monotonic() > deadline:
            break
        try:
            with mpmath.workdps(20):
                h = lambda K: _gauss(h_mp, K)  # noqa: E731
                K = mpmath.findroot(h, lo if hi is None else (lo, hi), solver="secant" if hi is None else "anderson",
                                    tol=1e-26, maxsteps=60)
                if not isinstance(K, mpmath.mpf) or K <= 0 or not mpmath.isfinite(K):
                    continue
                CW = 1 / _gauss(lambda x: d1_mp(x) ** 2, K)
                Cb = K - CW * _gauss(lambda x: f_mp(x) ** 2, K)
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            continue
        if not all(isinstance(v, mpmath.mpf) for v in (K, CW, Cb)):  # complex: sigma is not real on the line
            continue
        if not (mpmath.isfinite(CW) and mpmath.isfinite(Cb)) or CW <= 0 or Cb < -1e-15 * K:
            continue
        return Criticality(act.name, sympy.Float(CW, 20), sympy.Float(max(Cb, 0), 20), sympy.Float(K, 20),
                           "nonzero K* (half-stable)", False)
    if time.monotonic() > deadline:
        raise SpecError(f"criticality: no critical point of {act.name} found within {_TIME_LIMIT:.0f} s; choose C_W "
                        "and C_b explicitly.")
    raise SpecError(
        f"criticality: {act.name} has no critical point: chi_par = chi_perp = 1 needs <sigma sigma''>_K = 0 at some K* > 0 "
        f"with C_b >= 0, and none exists for K in [{_K_MIN:g}, {_K_MAX:g}] (like sigmoid and softplus, whose "
        "<sigma sigma''> keeps one sign). Choose C_W and C_b explicitly.")


_K_MIN, _K_MAX, _PER_DECADE = 1e-6, 1e8, 4
_TIME_LIMIT = 60.0


def _gl_rule(n: int = 20) -> list[tuple[float, float]]:
    """Gauss-Legendre nodes and weights on [-1, 1] (Newton on the Legendre recurrence, floats)."""
    out = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-16:
                break
        out.append((x, 2 / ((1 - x * x) * dp * dp)))
    return out


_GL = _gl_rule()


def _gauss_float(f, K: float) -> float:
    """``<f>_K`` in floats: composite Gauss-Legendre in ``x`` on ``|x| <= 12 sqrt(K)``, panels at powers of 2."""
    a = 12 * math.sqrt(K)
    cuts = [0.0] + [2.0**j for j in range(-30, 40) if 2.0**j < a] + [a]
    edges = sorted({-c for c in cuts} | set(cuts))
    c = 1 / math.sqrt(2 * math.pi * K)
    total = 0.0
    for lo, hi in zip(edges, edges[1:]):
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        total += half * sum(w * f(mid + half * t) * math.exp(-((mid + half * t) ** 2) / (2 * K)) for t, w in _GL)
    return c * total


def _check_integrable(act: Activation) -> None:
    """The integrability check of the Gaussian expectations, with criticality's message prefix."""
    from nntheory.errors import ActivationError
    from nntheory.theory._gaussian import check_gaussian_integrable

    try:
        check_gaussian_integrable(act)
    except ActivationError as exc:
        raise SpecError(f"criticality: {exc}") from None


def _check_real_line(f, name: str) -> None:
    """Refuse an activation that is undefined or not real somewhere on the real line (``1/z``, ``sqrt(z)``)."""
    for x in (0.0, *(s * t for t in (1e-3, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0) for s in (1.0, -1.0))):
        try:
            v = f(x)
        except OverflowError:
            continue
        except (ValueError, ZeroDivisionError, TypeError):
            v = None
        if not isinstance(v, (int, float)) or math.isnan(v):
            raise SpecError(f"criticality: {name} is not a finite real number at z = {x:g}, so its Gaussian "
                            "expectations are undefined; choose another activation.")


def _brackets(h, deadline: float, name: str) -> list[tuple]:
    """``K`` intervals where the float ``<sigma sigma''>_K`` changes sign (undefined points skipped)."""
    n = int(round(math.log10(_K_MAX / _K_MIN) * _PER_DECADE))
    Ks = [_K_MIN * 10 ** (i / _PER_DECADE) for i in range(n + 1)]
    vals = []
    for K in Ks:
        if time.monotonic() > deadline:
            raise SpecError(f"criticality: scanning {name} took longer than {_TIME_LIMIT:.0f} s; choose C_W and C_b "
                            "explicitly.")
        try:
            v = _gauss_float(h, K)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            v = math.nan
        vals.append(v if isinstance(v, float) and math.isfinite(v) else math.nan)
    if all(math.isnan(v) for v in vals):
        raise SpecError(f"criticality: the Gaussian expectations of {name} and its derivatives are not finite for any "
                        f"K in [{_K_MIN:g}, {_K_MAX:g}]; choose C_W and C_b explicitly.")
    out = []
    for K0, K1, v0, v1 in zip(Ks, Ks[1:], vals, vals[1:]):
        if math.isfinite(v0) and math.isfinite(v1) and (v0 == 0 or v0 * v1 < 0):
            out.append((mpmath.mpf(K0), mpmath.mpf(K1)))
    return out
