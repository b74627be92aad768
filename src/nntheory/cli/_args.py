"""Parsing of command-line text shared by the subcommands: every number goes through the one safe
parser of the library (:func:`nntheory.theory.parse_number`), never ``eval`` or ``sympify``."""

from __future__ import annotations

import json
import math
import sys

from nntheory.errors import KernelError, SpecError

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


def write_json(obj) -> None:
    """Print ``obj`` as JSON with sorted keys (the data channel, stdout)."""
    print(json.dumps(obj, sort_keys=True))
