"""The one seam where sympy becomes JAX.

:func:`compile_expr` lambdifies a sympy expression with a fixed JAX namespace. Inert
:class:`~nntheory.theory.GaussianExpectation` atoms are replaced by quadrature (see
:mod:`nntheory.numerics._quadrature`): the activation is substituted into the integrand, derivatives
are carried out, and the integrand and the kernel entries are compiled through the same seam.
Exact numbers are cast once, to the dtype of the arguments.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import sympy

from nntheory.errors import SpecError
from nntheory.numerics._quadrature import QuadratureConfig, expectation_nodes
from nntheory.theory._gaussian import ActivationFunction, GaussianExpectation

__all__ = ["compile_expr", "explicit_integrand", "require_float64"]


def require_float64(where: str) -> None:
    """Raise unless JAX computes in float64 (``jax.config.update("jax_enable_x64", True)``).

    Functions whose stated accuracy needs double precision call this instead of switching the global
    JAX configuration behind the user's back (the command line switches it on in one place).

    Args:
        where: the caller's name, for the error message.

    Returns:
        None.

    Raises:
        SpecError: if ``jax_enable_x64`` is off.
    """
    if not jax.config.jax_enable_x64:
        raise SpecError(f"{where}: needs float64; call jax.config.update('jax_enable_x64', True) first.")


def _select(conds, choices, default=jnp.nan):
    out = default
    for c, v in reversed(list(zip(conds, choices))):
        out = jnp.where(c, v, out)
    return out


_NAMESPACE = [{"erf": jsp.erf, "erfc": jsp.erfc, "select": _select}, "jax"]


def explicit_integrand(F: sympy.Expr) -> tuple[sympy.Expr, tuple[float, ...]]:
    """The integrand with every activation substituted and derivatives carried out, and its kinks.

    Args:
        F: a sympy expression that may contain activation applications.

    Returns:
        ``(expr, kinks)``: the explicit sympy integrand, and a sorted tuple of floats: the kinks of the
        activations, plus 0 when the integrand has a piecewise, max/min, abs or Heaviside part in a
        ``z`` variable.

    Raises:
        SpecError: if the integrand contains a Dirac delta (a second derivative of a kinked activation).
    """
    kinks: set[float] = set()
    for app in F.atoms(ActivationFunction):
        kinks.update(float(k) for k in app.func.activation.kinks)
    out = F
    for cls in {app.func for app in F.atoms(ActivationFunction)}:
        out = out.replace(cls, lambda arg, cls=cls: cls.activation(arg))
    out = out.doit()
    if out.has(sympy.DiracDelta):
        raise SpecError(
            "compile_expr: the integrand contains a Dirac delta (a second derivative of a kinked activation): "
            f"{F}. Differentiate the closed form of the expectation instead (Price's theorem)."
        )
    for node in out.atoms(sympy.Piecewise, sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside):
        for sym in node.free_symbols:
            if sym.is_Symbol and sym.name.startswith("z"):
                kinks.add(0.0)  # conservative: a kink of an explicit piecewise integrand at 0
    return out, tuple(sorted(kinks))


def _compile_expectation(E: GaussianExpectation, args: Sequence[sympy.Symbol], config: QuadratureConfig):
    zs = list(E.variables)
    F, kinks = explicit_integrand(E.integrand)
    f = _lambdify([*zs, *args], F)
    d = len(zs)
    Kentries = _lambdify(list(args), sympy.Matrix(E.kernel).reshape(d * d, 1).T.tolist()[0])

    def expect(*vals):
        K = jnp.stack([jnp.asarray(v, dtype=_dtype(vals)) * jnp.ones((), _dtype(vals)) for v in Kentries(*vals)]).reshape(d, d)
        pts, w = expectation_nodes(K, kinks, config)
        values = f(*(pts[:, i] for i in range(d)), *vals)
        return jnp.sum(w * values)

    return expect


def _dtype(vals) -> jnp.dtype:
    for v in vals:
        dt = getattr(v, "dtype", None)
        if dt is not None and jnp.issubdtype(dt, jnp.floating):
            return dt
    return jnp.result_type(float)


def _lambdify(args, expr):
    return sympy.lambdify(list(args), expr, modules=_NAMESPACE, cse=True)


def compile_expr(
    expr: sympy.Expr | Sequence[sympy.Expr],
    args: Sequence[sympy.Symbol],
    *,
    quadrature: QuadratureConfig = QuadratureConfig(),
) -> Callable[..., jax.Array]:
    """Compile ``expr`` (or a list of expressions) into a JAX function of scalar ``args``.

    The result is jit-able, differentiable and vmappable; vmap it for batches. A list gives a 1-d
    array. Inert Gaussian expectations are integrated by quadrature of the given orders.

    Args:
        expr: a sympy expression, or a list or tuple of them.
        args: the scalar symbols, in the order the compiled function takes them.
        quadrature: the quadrature rule and orders for inert Gaussian expectations.

    Returns:
        ``fn(*vals)``, a function of ``len(args)`` scalars returning a JAX array in the dtype of the first
        floating argument (default: JAX's float): 0-d for a single expression, shape ``(len(expr),)``
        for a list or tuple.

    Raises:
        ValueError: if ``expr`` has free symbols that are not in ``args`` (a :class:`SpecError`).

    Example:
        >>> import sympy, jax.numpy as jnp
        >>> x = sympy.Symbol("x")
        >>> float(compile_expr(sympy.sqrt(2) * x**2, [x])(jnp.float64(3.0)))  # doctest: +ELLIPSIS
        12.727922061357...
    """
    args = list(args)
    exprs = list(expr) if isinstance(expr, (list, tuple)) else [expr]
    exprs = [sympy.sympify(e) for e in exprs]
    missing = set().union(*(e.free_symbols for e in exprs)) - set(args)
    if missing:
        raise SpecError(
            f"compile_expr: free symbols {sorted(map(str, missing))} are not in args={[str(a) for a in args]}; "
            "add them to args or substitute values first."
        )
    atoms = sorted(set().union(*(e.atoms(GaussianExpectation) for e in exprs)), key=sympy.default_sort_key)
    dummies = [sympy.Dummy(f"E{i}") for i in range(len(atoms))]
    replaced = [e.xreplace(dict(zip(atoms, dummies))) for e in exprs]
    outer = _lambdify([*args, *dummies], replaced)
    inner = [_compile_expectation(E, args, quadrature) for E in atoms]
    single = not isinstance(expr, (list, tuple))

    def fn(*vals):
        dt = _dtype(vals)
        vals = tuple(jnp.asarray(v, dtype=dt) for v in vals)
        ev = [g(*vals) for g in inner]
        out = outer(*vals, *ev)
        out = [jnp.asarray(o, dtype=dt) * jnp.ones((), dt) for o in out]
        return out[0] if single else jnp.stack(out)

    return fn
