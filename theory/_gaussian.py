r"""Gaussian expectations :math:`\langle F(z_1, \dots, z_d) \rangle_K` as inert sympy objects.

Conventions: :math:`z \sim \mathcal N(0, K)` with :math:`K` a symmetric positive-definite
:math:`d \times d` matrix whose entries may be symbols. The activation enters the integrand as an
applied :class:`ActivationFunction` (printed ``sigma``), so derivatives of it stay symbolic
(``Derivative(sigma(z1), z1)``) until the activation is substituted when compiling.

Differentiation with respect to anything in :math:`K` follows Price's theorem for a symmetric
perturbation :math:`dK`:

.. math:: d\langle F\rangle = \tfrac12 \sum_{a,b} dK_{ab} \langle \partial_a \partial_b F\rangle
          = \tfrac12 \sum_{a,b} dK_{ab} \langle F\,(w_a w_b - K^{-1}_{ab})\rangle,\quad w = K^{-1} z,

the first form for smooth integrands, the second (Hermite / Stein form, no derivative of the
activation) for activations with kinks, where derivatives would be distributions.

:meth:`GaussianExpectation.doit` returns closed forms where one is known (see
:mod:`nntheory.theory._closed_forms`) and leaves the rest inert, for numerical quadrature after
compiling.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

import sympy

from nntheory.errors import KernelError, SpecError
from nntheory.theory._activations import Activation, as_expr, as_matrix

__all__ = [
    "GaussianExpectation", "ActivationFunction", "activation_function", "check_gaussian_integrable", "gaussian_expectation",
]


class ActivationFunction(sympy.Function):
    """Base of the applied-activation symbols; each :class:`Activation` gets one subclass."""

    nargs = 1
    activation: Activation

    def _latex(self, printer: object, exp: object = None) -> str:
        base = r"\sigma\left(%s\right)" % printer._print(self.args[0])  # type: ignore[attr-defined]
        return base if exp is None else r"%s^{%s}" % (base, exp)


@lru_cache(maxsize=None)
def activation_function(act: Activation) -> type[ActivationFunction]:
    """The sympy function class standing for ``act`` inside integrands (printed ``sigma``)."""
    return type("sigma", (ActivationFunction,), {"activation": act, "__module__": __name__})


#: probe points for :func:`check_gaussian_integrable` (0 and both signs over many scales)
_PROBES = tuple(sgn * 10.0**e for e in range(-8, 5) for sgn in (1, -1)) + (0.0,)
#: growth at |z| = 1e4 beyond exp(_GROWTH * z^2) is refused (its expectation diverges once K >= 1/(2 * _GROWTH))
_GROWTH = 1e-4


@lru_cache(maxsize=None)
def check_gaussian_integrable(act: Activation) -> None:
    r"""Refuse an activation whose Gaussian expectations diverge or are not real.

    First sympy's ``continuous_domain`` on the reals (``tan(z)``, ``1/z``, ``sqrt(z)`` fail there); then
    the activation is evaluated (mpmath, 30 digits) at 0 and at :math:`\pm 10^{k}`, :math:`k = -8..4`: every
    value must be real and finite (``1/z``, ``log(z)``, ``sqrt(z)`` fail), and :math:`\log|\sigma(z)|` at
    :math:`|z| = 10^4` must stay below :math:`10^{-4} z^2` (``exp(z**2)``, whose expectation diverges for
    :math:`K \ge 1/2`, fails). Growth in between (e.g. ``exp(z**2/1e5)``) is caught where it overflows: the
    numerical routes refuse non-finite results.

    Args:
        act: the activation.

    Returns:
        None.

    Raises:
        ActivationError: naming the activation and the probe point that failed.
    """
    import mpmath
    from sympy.calculus.util import continuous_domain

    from nntheory.errors import ActivationError
    from nntheory.theory._activations import z as zsym

    try:
        domain = continuous_domain(act.expr, zsym, sympy.S.Reals)
    except (NotImplementedError, ValueError, TypeError):
        domain = sympy.S.Reals  # piecewise or special functions: the probes below decide
    if domain != sympy.S.Reals:
        gap = sympy.S.Reals - domain
        raise ActivationError(
            f"activation {act.name!r}: is not real, finite and continuous on the whole real line (it fails on "
            f"{gap}); its Gaussian expectations diverge or are not real. Use an activation defined on all reals."
        )
    f = sympy.lambdify(zsym, act.expr, modules="mpmath")
    with mpmath.workdps(30):
        for x in _PROBES:
            try:
                v = mpmath.mpmathify(f(mpmath.mpf(x)))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError) as exc:
                raise ActivationError(
                    f"activation {act.name!r}: cannot be evaluated at z = {x:g} ({type(exc).__name__}); its Gaussian expectations "
                    "are not defined. Use an activation that is real and finite on the whole real line."
                ) from None
            if isinstance(v, mpmath.mpc) and v.imag != 0:
                raise ActivationError(
                    f"activation {act.name!r}: is not real at z = {x:g} (value {mpmath.nstr(v, 6)}); its Gaussian "
                    "expectations are not real. Use an activation that is real on the whole real line."
                )
            v = mpmath.re(v)
            if not mpmath.isfinite(v):
                raise ActivationError(
                    f"activation {act.name!r}: is not finite at z = {x:g}; its Gaussian expectations diverge. "
                    "Use an activation that is finite on the whole real line."
                )
            if abs(x) >= 1e4 and v != 0 and mpmath.log(abs(v)) > _GROWTH * x * x:
                raise ActivationError(
                    f"activation {act.name!r}: grows like exp(c z^2) (log|sigma| = {mpmath.nstr(mpmath.log(abs(v)), 4)} "
                    f"at z = {x:g}); its Gaussian expectations diverge for K >= 1/(2c). Use an activation that grows "
                    "more slowly."
                )


def _activations_in(expr: sympy.Expr) -> set[Activation]:
    return {f.func.activation for f in expr.atoms(ActivationFunction)}


_NONSMOOTH = (sympy.Piecewise, sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.sign, sympy.DiracDelta)


def integrand_is_smooth(expr: sympy.Expr) -> bool:
    """True when neither the integrand nor an activation in it has kinks."""
    if any(expr.atoms(t) for t in _NONSMOOTH):
        return False
    return all(act.is_smooth for act in _activations_in(expr))


class GaussianExpectation(sympy.Expr):
    r"""Inert :math:`\langle F(z)\rangle_K` for :math:`z \sim \mathcal N(0, K)`.

    Args:
        integrand: sympy expression in ``variables`` (may contain activation applications).
        variables: the Gaussian variables :math:`z_1, \dots, z_d` (distinct symbols).
        K: their covariance, a :math:`d\times d` symmetric matrix (symbols or numbers).
    """

    is_commutative = True

    def __new__(cls, integrand: object, variables: Sequence[sympy.Symbol], K: object) -> "GaussianExpectation":
        integrand = as_expr(integrand, label="GaussianExpectation: integrand")
        if isinstance(variables, str) or not all(isinstance(v, sympy.Symbol) for v in variables):
            raise SpecError(f"GaussianExpectation: variables must be distinct sympy symbols, got {variables!r}.")
        variables = sympy.Tuple(*variables)
        K = as_matrix(K, label="GaussianExpectation: K")
        d = len(variables)
        if len(set(variables)) != d or not all(isinstance(v, sympy.Symbol) for v in variables):
            raise SpecError(f"GaussianExpectation: variables must be distinct symbols, got {tuple(variables)}.")
        if K.shape != (d, d):
            raise KernelError(f"GaussianExpectation: K has shape {K.shape}; expected ({d}, {d}) for {d} variables.")
        if K != K.T:
            raise KernelError("GaussianExpectation: K must be symmetric.")
        if K.free_symbols & set(variables):
            raise KernelError("GaussianExpectation: K must not depend on the integration variables.")
        return super().__new__(cls, integrand, variables, K)

    @property
    def integrand(self) -> sympy.Expr:
        return self.args[0]

    @property
    def variables(self) -> tuple[sympy.Symbol, ...]:
        return tuple(self.args[1])

    @property
    def kernel(self) -> sympy.ImmutableMatrix:
        return self.args[2]

    @property
    def free_symbols(self) -> set[sympy.Basic]:  # type: ignore[override]
        return (self.integrand.free_symbols - set(self.variables)) | self.kernel.free_symbols

    @property
    def is_smooth(self) -> bool:
        return integrand_is_smooth(self.integrand)

    def _eval_is_real(self) -> bool | None:
        return self.integrand.is_real

    def _eval_derivative(self, s: sympy.Symbol) -> sympy.Expr:
        F, zs, K = self.integrand, self.variables, self.kernel
        out = sympy.Integer(0)
        if s in F.free_symbols:
            out += GaussianExpectation(sympy.diff(F, s), zs, K)
        dK = K.diff(s)
        if dK.is_zero_matrix:
            return out
        d = len(zs)
        if self.is_smooth:
            for a in range(d):
                for b in range(d):
                    if dK[a, b] != 0:
                        out += sympy.Rational(1, 2) * dK[a, b] * GaussianExpectation(sympy.diff(F, zs[a], zs[b]), zs, K)
            return out
        Kinv = K.inv()
        w = Kinv * sympy.Matrix(zs)
        hermite = sum(
            (sympy.Rational(1, 2) * dK[a, b] * (w[a] * w[b] - Kinv[a, b]) for a in range(d) for b in range(d)),
            sympy.Integer(0),
        )
        return out + GaussianExpectation(sympy.expand(F * hermite), zs, K)

    def doit(self, **hints: object) -> sympy.Expr:
        from nntheory.theory._closed_forms import closed_form

        F = self.integrand.doit(**hints) if hints.get("deep", True) else self.integrand
        K = self.kernel.doit(**hints) if hints.get("deep", True) else self.kernel
        return closed_form(F, self.variables, K)

    def _sympystr(self, printer: object) -> str:
        p = printer._print  # type: ignore[attr-defined]
        K = self.kernel
        Ks = p(K[0, 0]) if K.shape == (1, 1) else p(K.tolist())
        return f"E[{p(self.integrand)}; {', '.join(map(p, self.variables))} ~ N(0, {Ks})]"

    def _latex(self, printer: object) -> str:
        p = printer._print  # type: ignore[attr-defined]
        K = self.kernel
        Ks = p(K[0, 0]) if K.shape == (1, 1) else p(K)
        return r"\left\langle %s \right\rangle_{%s}" % (p(self.integrand), Ks)


def gaussian_expectation(
    integrand: object, variables: Sequence[sympy.Symbol], K: object, *, evaluate: bool = True
) -> sympy.Expr:
    r""":math:`\langle F\rangle_K`, in closed form where one is known (``evaluate=True``), else inert.

    Args:
        integrand: the function :math:`F` of the variables (a sympy expression, or a string parsed safely;
            may contain activation applications).
        variables: the distinct integration symbols :math:`z_1, \dots, z_d`.
        K: their :math:`d\times d` symmetric covariance (a matrix or nested lists; symbols or numbers).
        evaluate: compute closed forms (default) or return the inert expectation.

    Returns:
        A sympy expression: the closed forms of the terms of :math:`F` that have one, plus one inert
        :class:`GaussianExpectation` of the remaining terms (none when every term has a closed form);
        with ``evaluate=False``, the inert :class:`GaussianExpectation` itself.

    Raises:
        SpecError: variables that are not distinct symbols, or an unparsable integrand.
        KernelError: ``K`` not :math:`d\times d`, not symmetric, or depending on the variables.

    Example:
        >>> z1, z2 = sympy.symbols("z1 z2", real=True)
        >>> k11, k12, k22 = sympy.symbols("k11 k12 k22", positive=True)
        >>> gaussian_expectation(z1**2 * z2**2, [z1, z2], [[k11, k12], [k12, k22]])
        k11*k22 + 2*k12**2
    """
    E = GaussianExpectation(integrand, variables, K)
    return E.doit() if evaluate else E


def kernel_symbols(m: int, name: str = "K") -> sympy.ImmutableMatrix:
    """Symmetric ``m x m`` matrix of symbols ``K_ab`` (diagonal positive, off-diagonal real).

    Args:
        m: the number of inputs.
        name: the stem of the symbol names: ``{name}_{a}{b}`` with 1-based ``a <= b``, or just ``name``
            when ``m == 1``.

    Returns:
        A ``sympy.ImmutableMatrix`` of shape ``(m, m)`` whose ``(a, b)`` and ``(b, a)`` entries are the
        same symbol.
    """
    rows = [[None] * m for _ in range(m)]
    for a in range(m):
        for b in range(a, m):
            sym = sympy.Symbol(f"{name}_{a + 1}{b + 1}" if m > 1 else name, positive=(a == b), real=True)
            rows[a][b] = rows[b][a] = sym
    return sympy.ImmutableMatrix(rows)


def sub_kernel(K: sympy.Matrix, idx: Iterable[int]) -> sympy.ImmutableMatrix:
    idx = list(idx)
    return sympy.ImmutableMatrix([[K[i, j] for j in idx] for i in idx])


def product_mean(sig, K: sympy.Matrix, items) -> sympy.Expr:
    """``<prod_t sigma^(d_t)(z_{a_t})>`` under ``N(0, K)`` for ``items = ((a_t, d_t), ...)``: 1 for no items.

    The integrand is built on the distinct inputs in increasing order (``z1, z2, ...``), so equal products give
    structurally equal expressions wherever they are built (the NTK recursions and the NTK-sector diagrams rely on it).
    """
    if not items:
        return sympy.Integer(1)
    distinct = sorted({a for a, _ in items})
    zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
    f = sympy.Mul(*[sympy.diff(sig(zs[distinct.index(a)]), zs[distinct.index(a)], d) for a, d in items])
    return GaussianExpectation(f, zs, sub_kernel(K, distinct)).doit()


def stein_mean(sig, K: sympy.Matrix, e: int, items) -> sympy.Expr:
    """``<d/dz_e prod_t sigma^(d_t)(z_{a_t})>`` under ``N(0, K)`` by Stein's lemma, ``sum_c (K_S^-1)_{ec} <z_c f>`` over
    the inputs ``S`` of the product (no derivative of a kink is taken); 0 if the product does not depend on ``z_e``."""
    distinct = sorted({a for a, _ in items})
    if e not in distinct:
        return sympy.Integer(0)
    zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
    Ks = sub_kernel(K, distinct)
    inv = Ks.inv()
    f = sympy.Mul(*[sympy.diff(sig(zs[distinct.index(a)]), zs[distinct.index(a)], d) for a, d in items])
    ie = distinct.index(e)
    return sympy.Add(*[inv[ie, c] * GaussianExpectation(zs[c] * f, zs, Ks).doit() for c in range(len(distinct))])
