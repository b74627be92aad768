"""The one safe parser of user text: numbers and expressions, in the CLI and the Python API alike.

Text is parsed with :func:`ast.parse` (which never runs it) and rebuilt from a whitelist of operators,
functions and constants (:func:`parse_expression`); decimal literals become exact rationals and
exponents are limited in magnitude, so ``10**10**10`` is refused instead of evaluated. Limits, all checked
before anything large is built: 2000 characters of text (500 for activations), nesting depth 100,
exponents up to 1000 in magnitude, and exact powers of at most 10,000 digits. Values that
are not text are converted with ``sympify(strict=True)``, which never parses strings
(:func:`as_expr`). Nothing here calls ``eval`` or hands a string to ``sympify``.
"""

from __future__ import annotations

import ast
from typing import Callable

import sympy

from nntheory.errors import ActivationError, SpecError

__all__ = ["as_expr", "as_matrix", "parse_expression", "parse_number"]

_FUNCS: dict[str, Callable[..., sympy.Expr]] = {
    "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh, "exp": sympy.exp, "log": sympy.log,
    "sqrt": sympy.sqrt, "erf": sympy.erf, "erfc": sympy.erfc, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "cot": sympy.cot, "sec": sympy.sec, "csc": sympy.csc,
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
_MAX_DIGITS = 10_000  # the largest exact number a power of two numbers may produce (decimal digits)
_MAX_DEPTH = 100  # the deepest nesting of operators and calls


def _digits(x: sympy.Rational) -> float:
    """Decimal digits of the larger of numerator and denominator of a rational."""
    p, q = abs(int(x.p)), int(x.q)
    return max(p.bit_length(), q.bit_length()) * 0.30103


def _depth(tree: ast.AST) -> int:
    """The nesting depth of a syntax tree, computed without recursion."""
    best, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return best


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
            raise error(f"{label}: exponent {right} in {_show(text)} is larger than {_MAX_EXPONENT} in magnitude.")
        if (isinstance(node.op, ast.Pow) and left.is_Rational and right.is_Rational
                and _digits(left) * abs(float(right)) > _MAX_DIGITS):
            # (10**1000)**1000 is a million digits; one more power would never finish
            raise error(f"{label}: a power in {_show(text)} is a number with more than {_MAX_DIGITS} digits.")
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
    tree = _parse_tree(text, label, error)
    return sympy.sympify(_node_to_sympy(tree, text.strip(), names, label, error))


def _parse_tree(text: str, label: str, error: type[ValueError]) -> ast.AST:
    """``ast.parse`` of the text (which never runs it), refusing syntax errors and deep nesting."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        why = getattr(exc, "msg", None) or "nested too deeply"
        raise error(f"{label}: {text[:80]!r} is not a valid expression ({why}).") from None
    if _depth(tree) > _MAX_DEPTH:
        raise error(f"{label}: expression nested deeper than {_MAX_DEPTH} levels.")
    return tree


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
        if len(detail) > 240:
            detail = detail[:237] + "..."
        raise error(f"{label}: expected a number, got {_show(text)} ({detail})") from None
    if val.free_symbols or val.is_real is not True:
        raise error(f"{label}: expected a real number, got {_show(text)}.")
    return val


def _show(text: object, limit: int = 80) -> str:
    """``repr`` of user text, shortened for messages."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 3] + "..."
