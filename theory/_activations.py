r"""Activation functions as exact sympy expressions in the variable ``z``.

An :class:`Activation` is a frozen descriptor: a name, a sympy expression in
:data:`z`, the points where it is not smooth (``kinks``) and the *family* that
decides which Gaussian expectations have closed forms:

========================  =============================================  ==========================
family                    activations                                    closed forms
========================  =============================================  ==========================
``"polynomial"``          ``linear`` and any polynomial                   Isserlis/Wick, any inputs
``"scale_invariant"``     ``relu``, leaky ReLU, ``a_+ z`` / ``a_- z``     arc-cosine, up to 2 inputs
``"erf"``                 ``erf(c z)``                                   arcsine, Gaussian integrals
``"generic"``             everything else                                numerical (after compiling)
========================  =============================================  ==========================

User text is parsed by :func:`parse_activation` with a whitelist walk over
Python's ``ast`` (nothing is passed to ``eval``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy

from nntheory.errors import ActivationError

# the one safe parser (theory/_parsing.py); the names below stay importable from here
from nntheory.theory._parsing import _FUNCS, _MAX_TEXT, _node_to_sympy, _parse_tree, as_expr, as_matrix  # noqa: F401
from nntheory.theory._parsing import parse_expression, parse_number  # noqa: F401  (re-exported names)

__all__ = ["Activation", "z", "activation", "parse_activation", "leaky_relu", "scale_invariant", "BUILTIN_ACTIVATIONS"]

z = sympy.Symbol("z", real=True)
_FAMILIES = ("polynomial", "scale_invariant", "erf", "generic")


@dataclass(frozen=True)
class Activation:
    r"""A scalar activation :math:`\sigma(z)`.

    Args:
        name: label used in output and plots.
        expr: sympy expression in :data:`z` (and no other free symbol).
        kinks: real points where ``expr`` or a derivative jumps; quadrature splits there.
        family: one of ``polynomial``, ``scale_invariant``, ``erf``, ``generic``.
        params: family parameters: ``(a_plus, a_minus)`` for ``scale_invariant``, ``(c,)`` for ``erf``.

    Use :func:`activation` to get one; it fills ``kinks`` and ``family`` in.
    """

    name: str
    expr: sympy.Expr
    kinks: tuple[sympy.Expr, ...] = ()
    family: str = "generic"
    params: tuple[sympy.Expr, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.expr, sympy.Expr):
            raise ActivationError(f"Activation: expr must be a sympy expression in z, got {type(self.expr).__name__}.")
        extra = self.expr.free_symbols - {z}
        if extra:
            raise ActivationError(
                f"Activation {self.name!r}: expr {self.expr} has free symbols {sorted(map(str, extra))}; "
                "it must be a function of the single variable z."
            )
        if self.family not in _FAMILIES:
            raise ActivationError(f"Activation {self.name!r}: family must be one of {_FAMILIES}, got {self.family!r}.")

    def __call__(self, arg: sympy.Expr) -> sympy.Expr:
        """The expression with ``z`` replaced by ``arg``."""
        return self.expr.subs(z, arg)

    @property
    def lamb(self) -> sympy.Lambda:
        """``Lambda(z, expr)``: what an applied activation symbol is replaced by before compiling."""
        return sympy.Lambda(z, self.expr)

    @property
    def is_smooth(self) -> bool:
        return not self.kinks

    def __str__(self) -> str:
        return self.name


def _const_ratio(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr | None:
    """``expr/var`` if that is a constant, else None."""
    ratio = sympy.simplify(expr / var)
    return ratio if not ratio.free_symbols else None


def _classify(expr: sympy.Expr) -> tuple[str, tuple[sympy.Expr, ...]]:
    if expr.is_polynomial(z):
        return "polynomial", ()
    pos, neg = sympy.Symbol("zp", positive=True), sympy.Symbol("zn", negative=True)
    a_plus = _const_ratio(expr.subs(z, pos), pos)
    a_minus = _const_ratio(expr.subs(z, neg), neg)
    if a_plus is not None and a_minus is not None:
        return "scale_invariant", (a_plus, a_minus)
    if isinstance(expr, sympy.erf):
        c = _const_ratio(expr.args[0], z)
        if c is not None and c.is_positive:
            return "erf", (c,)
    return "generic", ()


_KINKED = (sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.Piecewise, sympy.sign, sympy.floor, sympy.ceiling)


def _kinks(expr: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """Real points where a non-smooth sub-expression of ``expr`` switches branch."""
    switching: set[sympy.Expr] = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Max, sympy.Min)):
            a = node.args
            switching.update(a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a)))
        elif isinstance(node, (sympy.Abs, sympy.Heaviside, sympy.sign)):
            switching.add(node.args[0])
        elif isinstance(node, sympy.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sympy.core.relational.Relational):
                    switching.add(rel.lhs - rel.rhs)
        elif isinstance(node, (sympy.floor, sympy.ceiling)):
            raise ActivationError(f"activation {expr}: floor/ceiling have infinitely many jumps; not supported.")
    points: set[sympy.Expr] = set()
    for g in switching:
        if z not in g.free_symbols:
            continue
        sol = sympy.solveset(g, z, domain=sympy.S.Reals)
        if not isinstance(sol, sympy.FiniteSet):
            raise ActivationError(f"activation {expr}: cannot locate where {g} changes sign (got {sol}).")
        points.update(sol)
    return tuple(sorted(points, key=float))


def activation(expr: sympy.Expr | str, name: str | None = None) -> Activation:
    """Build an :class:`Activation` from a built-in name, text or a sympy expression in ``z``.

    Built-in names are matched case-insensitively (``"ReLU"`` is ``"relu"``); any other bare name is
    refused (never read as a variable, which would silently give a linear network). Text is parsed by
    the safe parser (:func:`parse_activation`).

    Args:
        expr: a built-in name, an expression text in one variable, or a sympy expression in ``z``.
        name: the display name (default: the built-in name or the text).
    Returns:
        The :class:`Activation`.
    Raises:
        ActivationError: for an unknown name or an expression the safe parser refuses.

    Example:
        >>> activation("relu").family, activation("relu").params
        ('scale_invariant', (1, 0))
        >>> activation("tanh").expr
        tanh(z)
    """
    if isinstance(expr, Activation):
        return expr
    if isinstance(expr, str):
        key = expr.strip()
        if key.lower() in BUILTIN_ACTIVATIONS:
            return BUILTIN_ACTIVATIONS[key.lower()]()
        return parse_activation(key, name=name)
    expr = as_expr(expr, label="activation", error=ActivationError)
    family, params = _classify(expr)
    kinks = _kinks(expr) if family != "polynomial" else ()
    return Activation(name=name or str(expr), expr=expr, kinks=kinks, family=family, params=params)


def scale_invariant(a_plus: object = 1, a_minus: object = 0, name: str | None = None) -> Activation:
    r""":math:`\sigma(z) = a_+ z` for :math:`z \ge 0`, :math:`a_- z` for :math:`z < 0` (ReLU: 1, 0).

    Args:
        a_plus: the slope :math:`a_+` for :math:`z \ge 0` (a number, string or sympy expression; made
            exact with ``nsimplify``).
        a_minus: the slope :math:`a_-` for :math:`z < 0`, likewise.
        name: the activation's label (default ``scale_invariant(a_plus,a_minus)``).

    Returns:
        An :class:`Activation` of family ``"scale_invariant"`` with its kink at 0 and
        ``params = (a_plus, a_minus)``.

    Raises:
        ActivationError: if a slope is not a valid expression.
    """
    ap = sympy.nsimplify(as_expr(a_plus, label="a_plus", error=ActivationError))
    am = sympy.nsimplify(as_expr(a_minus, label="a_minus", error=ActivationError))
    expr = sympy.Piecewise((am * z, z < 0), (ap * z, True))
    return Activation(name or f"scale_invariant({ap},{am})", expr, (sympy.Integer(0),), "scale_invariant", (ap, am))


def leaky_relu(alpha: object = sympy.Rational(1, 100)) -> Activation:
    """Leaky ReLU with negative slope ``alpha`` (given exactly, e.g. ``Rational(1, 10)``).

    Args:
        alpha: the slope for ``z < 0`` (made exact with ``nsimplify``); default 1/100.

    Returns:
        The scale-invariant :class:`Activation` with slopes ``1`` and ``alpha``, named ``leaky_relu(alpha)``.

    Raises:
        ActivationError: if ``alpha`` is not a valid expression.
    """
    a = sympy.nsimplify(as_expr(alpha, label="alpha", error=ActivationError))
    return scale_invariant(1, a, name=f"leaky_relu({a})")


def _builtin(name: str, expr: sympy.Expr) -> Callable[[], Activation]:
    return lambda: activation(expr, name=name)


_GELU_C = sympy.Rational(44715, 10**6)
BUILTIN_ACTIVATIONS: dict[str, Callable[[], Activation]] = {
    "linear": _builtin("linear", z),
    "relu": lambda: scale_invariant(1, 0, name="relu"),
    "leaky_relu": leaky_relu,
    "tanh": _builtin("tanh", sympy.tanh(z)),
    "erf": _builtin("erf", sympy.erf(z)),
    "gelu": _builtin("gelu", z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2),
    "gelu_tanh": _builtin(
        "gelu_tanh", z / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (z + _GELU_C * z**3)))
    ),
    "silu": _builtin("silu", z / (1 + sympy.exp(-z))),
    "softplus": _builtin("softplus", sympy.log(1 + sympy.exp(z))),
    "sigmoid": _builtin("sigmoid", 1 / (1 + sympy.exp(-z))),
}

def parse_activation(text: str, name: str | None = None) -> Activation:
    """Parse user text such as ``'tanh(z)'`` or ``'x*erf(x)'`` into an :class:`Activation`, safely.

    A bare name is refused (use :func:`activation` for built-in names): it would otherwise be read
    as a variable, i.e. the identity. Other text is parsed with :func:`ast.parse` (which never runs it) and rebuilt from a whitelist of operators
    and functions. The expression must depend on exactly one variable.

    Returns:
        The :class:`Activation`.

    Raises:
        ActivationError: for anything outside the whitelist, a syntax error, or not exactly one variable.

    Example:
        >>> parse_activation("x*erf(x)").expr
        z*erf(z)
        >>> parse_activation("__import__('os')")
        Traceback (most recent call last):
        ...
        nntheory.errors.ActivationError: --activation: "__import__('os')" is not allowed. ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ActivationError("--activation: expected a built-in name or an expression in one variable, got nothing.")
    key = text.strip()
    if key.isidentifier() and len(key) > 1 and key not in _FUNCS:
        # a bare name is a built-in or a mistake: never read it as a free variable (the identity)
        raise ActivationError(
            f"--activation: unknown activation {key!r}; built-in names (case-insensitive): "
            f"{sorted(BUILTIN_ACTIVATIONS)}, or an expression in one variable such as 'z/(1 + exp(-z))'."
        )
    if len(text) > _MAX_TEXT:
        raise ActivationError(f"--activation: expression longer than {_MAX_TEXT} characters.")
    tree = _parse_tree(text, "--activation", ActivationError)
    expr = _node_to_sympy(tree, text.strip())
    free = sorted(expr.free_symbols, key=str)
    if len(free) != 1:
        raise ActivationError(
            f"--activation: {text!r} must be a function of exactly one variable; it has "
            f"{len(free)} ({', '.join(map(str, free)) or 'none'}). Built-in names: {sorted(BUILTIN_ACTIVATIONS)}."
        )
    return activation(expr.subs(free[0], z), name=name or text.strip())
