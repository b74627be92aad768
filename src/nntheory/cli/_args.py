"""Parsing of command-line text shared by the subcommands: every number goes through the one safe
parser of the library (:func:`nntheory.theory.parse_number`), never ``eval`` or ``sympify``."""

from __future__ import annotations

import json
import math
import sys

from nntheory.errors import KernelError, NNTheoryError, SpecError

ACTIVATION_HELP = ("built-in name (linear, relu, leaky_relu, tanh, erf, gelu, gelu_tanh, silu, softplus, sigmoid) "
                   "or an expression in one variable, e.g. 'x*erf(x)'")


def number(text, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """The float value of the option ``--name`` (``'0.5'``, ``'pi/4'``, ``'2**-1'``), checked for range."""
    import sympy

    from nntheory.theory import parse_number

    val = parse_number(str(text).strip(), label=f"--{name}")
    x = float(sympy.N(val, 17))
    if not math.isfinite(x):
        raise SpecError(f"--{name}: expected a finite number, got {text!r}.")
    if positive and x <= 0:
        raise SpecError(f"--{name}: must be > 0, got {text!r}.")
    if nonnegative and x < 0:
        raise SpecError(f"--{name}: must be >= 0, got {text!r}.")
    return x


def int_list(text: str, name: str) -> list[int]:
    """A comma-separated list of positive integers (``--widths 32,64,128``)."""
    vals = [number(w, name, positive=True) for w in str(text).split(",")]
    if any(v != int(v) for v in vals):
        raise SpecError(f"--{name}: expected integers, got {text!r}.")
    return [int(v) for v in vals]


def read_text(path: str, name: str, *, limit: int = 50_000_000, error=SpecError) -> str:
    """The text of a file (``-``: standard input), at most ``limit`` characters."""
    try:
        if path == "-":
            text = sys.stdin.read(limit + 1)
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{name}: cannot read {path!r} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise error(f"{name}: {path!r} is not a UTF-8 text file.") from None
    if len(text) > limit:
        raise error(f"{name}: {path!r} is larger than {limit} characters.")
    return text


def json_value(text: str, name: str, example: str, *, error=KernelError):
    """Parse JSON text (never evaluated or unpickled); the message names the option and shows an example."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{name}: not valid JSON ({exc.msg}); expected e.g. {example}.") from None


def _first_non_finite(obj, path: str = ""):
    """The path (``layers[3].K1``) of the first NaN or infinite float in ``obj``, or ``None``."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (path or "the value")
    if isinstance(obj, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(obj))
    else:
        return None
    for p, v in items:
        bad = _first_non_finite(v, p)
        if bad is not None:
            return bad
    return None


def json_text(obj, **kw) -> str:
    """``obj`` as JSON with sorted keys; refuses NaN and infinities (they are not JSON, and not results).

    Raises:
        NNTheoryError: naming the first non-finite entry (e.g. ``layers[19].K1``).
    """
    bad = _first_non_finite(obj)
    if bad is not None:
        raise NNTheoryError(f"{bad} is not finite (overflow or an undefined expectation at these settings); "
                            "nothing was written. Use fewer layers or other hyperparameters.")
    return json.dumps(obj, sort_keys=True, allow_nan=False, **kw)


def write_json(obj) -> None:
    """Print ``obj`` as JSON with sorted keys (the data channel, stdout); refuses NaN and infinities."""
    print(json_text(obj))
