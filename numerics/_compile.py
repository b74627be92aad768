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
from nntheory.numerics._quadrature import K_MAX_FIXED_WINDOW, QuadratureConfig, expectation_nodes
from nntheory.theory._gaussian import ActivationFunction, GaussianExpectation, check_gaussian_integrable

__all__ = ["activation_callables", "compile_expr", "explicit_integrand", "require_float64"]


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


class stable_sigmoid(sympy.Function):  # noqa: N801 (printed name, looked up in the namespace)
    r""":math:`1/(1+e^{-x})`, evaluated without overflow (``jax.nn.sigmoid``); derivatives stay in it."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = stable_sigmoid(self.args[0])
        return s * (1 - s)


class stable_softplus(sympy.Function):  # noqa: N801
    r""":math:`\log(1+e^{x})`, evaluated without overflow (``jax.nn.softplus``)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return stable_sigmoid(self.args[0])


def _stable(expr: sympy.Expr) -> sympy.Expr:
    """Rewrite ``1/(1 + exp(y))**k`` and ``log(1 + exp(y))`` into overflow-free functions.

    At large kernels the arguments reach |z| > 710 where ``exp`` overflows and ``inf/inf`` gives NaN.
    """

    def one_plus_exp(b: sympy.Expr):
        if isinstance(b, sympy.Add) and len(b.args) == 2 and sympy.Integer(1) in b.args:
            other = b.args[0] if b.args[1] == 1 else b.args[1]
            if isinstance(other, sympy.exp):
                return other.args[0]
        return None

    def sig(e):
        if isinstance(e, sympy.Pow) and e.exp.is_Integer and e.exp < 0 and one_plus_exp(e.base) is not None:
            return stable_sigmoid(-one_plus_exp(e.base)) ** (-e.exp)
        if isinstance(e, sympy.log) and one_plus_exp(e.args[0]) is not None:
            return stable_softplus(one_plus_exp(e.args[0]))
        return None

    return expr.replace(lambda e: sig(e) is not None, sig)


_NAMESPACE = [{"erf": jsp.erf, "erfc": jsp.erfc, "select": _select, "stable_sigmoid": jax.nn.sigmoid,
               "stable_softplus": jax.nn.softplus}, "jax"]


_ZA = sympy.Symbol("z", real=True)  # the activations' variable (nntheory.theory._activations.z)
_Z = sympy.Dummy("x", real=True)


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
        ActivationError: an activation whose Gaussian expectations diverge or are not real
            (:func:`~nntheory.theory._gaussian.check_gaussian_integrable`).
    """
    kinks: set[float] = set()
    for app in F.atoms(ActivationFunction):
        check_gaussian_integrable(app.func.activation)
        kinks.update(float(k) for k in app.func.activation.kinks)
    out = F
    for cls in {app.func for app in F.atoms(ActivationFunction)}:
        stable = sympy.Lambda(_Z, _stable(cls.activation.expr.subs(_ZA, _Z)))
        out = out.replace(cls, lambda arg, stable=stable: stable(arg))
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


_SWITCHES = (sympy.Piecewise, sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.sign)


def _piecewise_polynomial(F: sympy.Expr, zs: Sequence[sympy.Symbol]) -> bool:
    """True when ``F`` is a polynomial in ``zs`` on every piece (the kinked rule is then exact at any K)."""
    pieces = []
    for node in F.atoms(*_SWITCHES):
        if isinstance(node, sympy.Piecewise):
            pieces += [e for e, _ in node.args]
        elif not isinstance(node, (sympy.Heaviside, sympy.sign)):
            pieces += list(node.args)
    bare = F.replace(lambda e: isinstance(e, _SWITCHES), lambda e: sympy.Integer(1))
    return all(p.is_polynomial(*zs) for p in [bare, *pieces])


def activation_callables(act, orders: Sequence[int] = (0, 1)) -> list[Callable[[jax.Array], jax.Array]]:
    """Elementwise JAX functions of the activation's derivatives of the given orders (overflow-free forms).

    Args:
        act: an :class:`~nntheory.theory.Activation` whose Gaussian expectations exist
            (:func:`~nntheory.theory._gaussian.check_gaussian_integrable`).
        orders: derivative orders.

    Returns:
        One function per order, elementwise on arrays.

    Raises:
        ActivationError: an activation whose Gaussian expectations diverge or are not real.
    """
    check_gaussian_integrable(act)
    expr = _stable(act.expr.subs(_ZA, _Z))
    fns = []
    for k in orders:
        f = _lambdify([_Z], sympy.diff(expr, _Z, k))
        fns.append(lambda x, f=f: jnp.asarray(f(x), dtype=jnp.result_type(x)) * jnp.ones_like(x))
    return fns


def _compile_expectations(atoms: Sequence[GaussianExpectation], args: Sequence[sympy.Symbol], config: QuadratureConfig):
    """One function computing every expectation in ``atoms``, sharing quadrature nodes between them.

    Expectations over the same covariance (the same kernel entries), with the same kinks and range, are
    integrated on one set of nodes: the nodes are computed once per group and all integrands of the group
    are evaluated on them in one pass. The rule and its accuracy are those of :func:`expectation_nodes`,
    unchanged (each expectation gets exactly the nodes it would get alone).
    """
    groups: dict = {}
    for i, E in enumerate(atoms):
        zs = list(E.variables)
        F, kinks = explicit_integrand(E.integrand)
        # a kinked integrand with non-polynomial pieces has the fixed-window rule's range
        k_max = K_MAX_FIXED_WINDOW if kinks and not _piecewise_polynomial(F, zs) else None
        d = len(zs)
        common = [sympy.Dummy(f"q{k}") for k in range(d)]
        kernel = tuple(sympy.Matrix(E.kernel).reshape(d * d, 1).T.tolist()[0])
        key = (d, kernel, kinks, k_max)
        if key not in groups:
            groups[key] = (common, [], [])
        common = groups[key][0]
        groups[key][1].append(i)
        groups[key][2].append(F.xreplace(dict(zip(zs, common))))
    compiled = []
    for (d, kernel, kinks, k_max), (common, idx, Fs) in groups.items():
        f = _lambdify([*common, *args], Fs)
        Kentries = _lambdify(list(args), list(kernel))
        compiled.append((d, kinks, k_max, idx, f, Kentries))
    n = len(atoms)

    def expect(*vals):
        dt = _dtype(vals)
        out = [None] * n
        for d, kinks, k_max, idx, f, Kentries in compiled:
            K = jnp.stack([jnp.asarray(v, dtype=dt) * jnp.ones((), dt) for v in Kentries(*vals)]).reshape(d, d)
            pts, w = expectation_nodes(K, kinks, config, k_max=k_max)
            values = f(*(pts[:, i] for i in range(d)), *vals)
            for i, v in zip(idx, values):
                out[i] = jnp.sum(w * v)  # a constant integrand broadcasts against the weights
        return out

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
    inner = _compile_expectations(atoms, args, quadrature)
    single = not isinstance(expr, (list, tuple))

    def fn(*vals):
        dt = _dtype(vals)
        vals = tuple(jnp.asarray(v, dtype=dt) for v in vals)
        ev = inner(*vals)
        out = outer(*vals, *ev)
        out = [jnp.asarray(o, dtype=dt) * jnp.ones((), dt) for o in out]
        return out[0] if single else jnp.stack(out)

    return fn
