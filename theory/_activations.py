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

import ast
from dataclasses import dataclass, field
from typing import Callable

import sympy

from nntheory.errors import ActivationError, SpecError

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
    r""":math:`\sigma(z) = a_+ z` for :math:`z \ge 0`, :math:`a_- z` for :math:`z < 0` (ReLU: 1, 0)."""
    ap = sympy.nsimplify(as_expr(a_plus, label="a_plus", error=ActivationError))
    am = sympy.nsimplify(as_expr(a_minus, label="a_minus", error=ActivationError))
    expr = sympy.Piecewise((am * z, z < 0), (ap * z, True))
    return Activation(name or f"scale_invariant({ap},{am})", expr, (sympy.Integer(0),), "scale_invariant", (ap, am))


def leaky_relu(alpha: object = sympy.Rational(1, 100)) -> Activation:
    """Leaky ReLU with negative slope ``alpha`` (given exactly, e.g. ``Rational(1, 10)``)."""
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

# ---------------------------------------------------------------- safe parsing
_FUNCS: dict[str, Callable[..., sympy.Expr]] = {
    "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh, "exp": sympy.exp, "log": sympy.log,
    "sqrt": sympy.sqrt, "erf": sympy.erf, "erfc": sympy.erfc, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "acos": sympy.acos,
    "atan": sympy.atan, "arctan": sympy.atan, "Abs": sympy.Abs, "abs": sympy.Abs, "Max": sympy.Max,
    "max": sympy.Max, "Min": sympy.Min, "min": sympy.Min, "Heaviside": sympy.Heaviside,
    "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)), "relu": lambda a: sympy.Max(0, a),
    "softplus": lambda a: sympy.log(1 + sympy.exp(a)),
}
_CONSTS = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}
_BINOPS = {ast.Add: sympy.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sympy.Mul,
           ast.Div: lambda a, b: a / b, ast.Pow: sympy.Pow}
_MAX_TEXT = 500
_MAX_EXPONENT = 1000


def _node_to_sympy(node: ast.AST, text: str, names: dict[str, sympy.Symbol] | None = None,
                   label: str = "--activation", error: type[ValueError] = ActivationError) -> sympy.Expr:
    """Rebuild a parsed expression from the whitelist. ``names``: the allowed variables (None: any name)."""
    rec = lambda n: _node_to_sympy(n, text, names, label, error)  # noqa: E731
    if isinstance(node, ast.Expression):
        return rec(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        # Decimal literals become exact rationals: "0.1" means 1/10, not the nearest double.
        return sympy.Rational(ast.get_source_segment(text, node) or repr(node.value))
    if isinstance(node, ast.Name):
        if names is not None and node.id in names:
            return names[node.id]
        if node.id in _CONSTS:
            return _CONSTS[node.id]
        if node.id in _FUNCS:
            raise error(f"{label}: {node.id!r} is a function; call it, e.g. {node.id}(z).")
        if names is not None:
            raise error(f"{label}: unknown name {node.id!r} in {text!r}; allowed variables: {sorted(names)}.")
        return sympy.Symbol(node.id, real=True)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = rec(node.left), rec(node.right)
        if isinstance(node.op, ast.Pow) and right.is_Number and abs(right) > _MAX_EXPONENT:
            # sympy would evaluate 10**10**10 exactly and never return
            raise error(f"{label}: exponent {right} in {text!r} is larger than {_MAX_EXPONENT} in magnitude.")
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        val = rec(node.operand)
        return -val if isinstance(node.op, ast.USub) else val
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and not node.keywords:
        return _FUNCS[node.func.id](*(rec(a) for a in node.args))
    what = ast.get_source_segment(text, node) or type(node).__name__
    raise error(
        f"{label}: {what!r} is not allowed. Use numbers, variables, + - * / **, and the functions "
        f"{sorted(_FUNCS)}."
    )


def parse_expression(text: object, names: dict[str, sympy.Symbol] | None, *, label: str,
                     error: type[ValueError] = ActivationError) -> sympy.Expr:
    """Parse user text into a sympy expression in the given variables, safely (no ``eval``).

    Numbers, the variables in ``names`` (``None``: any name, as a real symbol), ``+ - * / **``,
    ``pi``, ``E`` and the whitelisted functions. Decimal literals become exact rationals; exponents are
    limited in magnitude. Errors name ``label`` (e.g. the JSON field).

    Returns:
        The sympy expression.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = repr(text)
    if not isinstance(text, str) or not text.strip():
        raise error(f"{label}: expected an expression (a non-empty string), got {text!r}.")
    if len(text) > 4 * _MAX_TEXT:
        raise error(f"{label}: expression longer than {4 * _MAX_TEXT} characters.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise error(f"{label}: {text!r} is not a valid expression ({exc.msg}).") from None
    return sympy.sympify(_node_to_sympy(tree, text.strip(), names, label, error))


def as_expr(value: object, *, label: str, names: dict[str, sympy.Symbol] | None = None,
            error: type[ValueError] = SpecError) -> sympy.Expr:
    """A sympy expression from a value a user passed: the one way user values enter the symbolic code.

    Text goes through the safe parser (:func:`parse_expression`; ``names`` restricts the variables,
    ``None`` allows any); numbers and sympy objects are converted with ``sympify(strict=True)``, which
    never parses strings. Nothing is ever evaluated as code.

    Args:
        value: text, a number, or a sympy object.
        label: the argument's name for messages.
        names: the allowed variables of text (``None``: any name becomes a real symbol).
        error: the exception class raised.
    Returns:
        The sympy expression.
    Raises:
        SpecError: for text the parser refuses, ``bool``, or an object that is not a number or expression.

    Example:
        >>> as_expr("pi/3", label="beta")
        pi/3
        >>> as_expr("__import__('os')", label="beta")
        Traceback (most recent call last):
        ...
        nntheory.errors.SpecError: beta: "__import__('os')" is not allowed. ...
    """
    if isinstance(value, str):
        return parse_expression(value, names, label=label, error=error)
    if isinstance(value, bool):
        raise error(f"{label}: expected a number or an expression, got {value!r}.")
    try:
        return sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError):
        raise error(f"{label}: expected a number or an expression, got {type(value).__name__} {value!r}.") from None


def as_matrix(value: object, *, label: str, error: type[ValueError] = SpecError) -> sympy.ImmutableMatrix:
    """A sympy matrix from a sympy matrix or nested rows of values, each entry through :func:`as_expr`.

    Returns:
        An ``ImmutableMatrix``.
    """
    if isinstance(value, sympy.MatrixBase):
        return sympy.ImmutableMatrix(value)
    try:
        rows = [[as_expr(v, label=f"{label}[{i}][{j}]", error=error) for j, v in enumerate(row)]
                for i, row in enumerate(value)]
    except TypeError:
        raise error(f"{label}: expected a matrix (rows of numbers or expressions), got {type(value).__name__}.") from None
    return sympy.ImmutableMatrix(rows)


def parse_number(text: object, *, label: str, error: type[ValueError] = SpecError) -> sympy.Expr:
    """Parse user text such as ``'0.5'``, ``'pi/4'`` or ``'2**-1'`` into an exact real constant, safely.

    The one safe parser (:func:`ast.parse` and a whitelist, never ``eval`` or ``sympify`` of a string);
    decimal literals become exact rationals. Python ``int``/``float`` values are accepted as they are.

    Args:
        text: the user's text (or a number).
        label: the argument's name, used in the error message (e.g. ``'--C_W'``).
        error: the exception class raised.
    Returns:
        An exact sympy number (``Integer``, ``Rational``, or an expression in ``pi``/``E``).
    Raises:
        SpecError: if the text is not a real constant.

    Example:
        >>> parse_number("pi/4", label="--C_W")
        pi/4
        >>> parse_number("0.1", label="--C_b")
        1/10
    """
    if isinstance(text, bool):
        raise error(f"{label}: expected a number, got {text!r}.")
    if isinstance(text, int):
        return sympy.Integer(text)
    try:
        val = parse_expression(text, {}, label=label, error=ActivationError)
    except ActivationError as exc:
        detail = str(exc).removeprefix(f"{label}: ")
        raise error(f"{label}: expected a number, got {text!r} ({detail})") from None
    if val.free_symbols or val.is_real is not True:
        raise error(f"{label}: expected a real number, got {text!r}.")
    return val


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
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ActivationError(f"--activation: {text!r} is not a valid expression ({exc.msg}).") from None
    expr = _node_to_sympy(tree, text.strip())
    free = sorted(expr.free_symbols, key=str)
    if len(free) != 1:
        raise ActivationError(
            f"--activation: {text!r} must be a function of exactly one variable; it has "
            f"{len(free)} ({', '.join(map(str, free)) or 'none'}). Built-in names: {sorted(BUILTIN_ACTIVATIONS)}."
        )
    return activation(expr.subs(free[0], z), name=name or text.strip())
