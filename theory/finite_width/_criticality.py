r"""Criticality: hyperparameters with :math:`\chi_\parallel = \chi_\perp = 1` at a fixed point :math:`K^*`.

Single input: :math:`K^* = C_b + C_W\langle\sigma^2\rangle_{K^*}`,
:math:`\chi_\parallel = C_W\,\partial_K\langle\sigma^2\rangle_K`, :math:`\chi_\perp = C_W\langle\sigma'^2\rangle_K`
(PDLT §5). Exact for scale-invariant activations (a line of fixed points) and for the
:math:`K^*=0` class (:math:`\sigma(0)=0`, :math:`\sigma'(0)\ne0`: :math:`C_b=0`,
:math:`C_W = 1/\sigma'(0)^2`); otherwise solved numerically with mpmath (e.g. exact GELU), where the
Gaussian expectations are one-dimensional integrals done to 20 digits (the result is good to ~15).
"""

from __future__ import annotations

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
    f = sympy.lambdify(z, act.expr, "mpmath")
    df = sympy.lambdify(z, sympy.diff(act.expr, z), "mpmath")
    d2 = sympy.lambdify(z, sympy.diff(act.expr**2, z, 2), "mpmath")

    def eqs(K, Cb, CW):
        K = abs(K)
        return (
            Cb + CW * _gauss(lambda x: f(x) ** 2, K) - K,
            CW * _gauss(lambda x: d2(x), K) / 2 - 1,  # chi_par = C_W d<s^2>/dK = C_W <(s^2)''>/2
            CW * _gauss(lambda x: df(x) ** 2, K) - 1,
        )

    starts = [guess] if guess else [(4.0, 0.2, 2.0), (1.0, 0.1, 1.5), (10.0, 0.5, 2.0), (0.5, 0.05, 1.2)]
    for start in starts:
        try:
            with mpmath.workdps(20):
                K, Cb, CW = mpmath.findroot(eqs, start, tol=1e-28)
        except (ValueError, ZeroDivisionError):
            continue
        if K > 0 and Cb >= 0 and CW > 0:
            return Criticality(
                act.name, sympy.Float(CW, 20), sympy.Float(Cb, 20), sympy.Float(abs(K), 20), "nonzero K* (half-stable)", False
            )
    raise SpecError(f"criticality: no critical point found for {act.name}; pass guess=(K*, C_b, C_W).")
