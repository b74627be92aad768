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
    try:
        x = float(sympy.N(val, 17))
    except (OverflowError, ValueError, TypeError):  # exp(exp(exp(exp(10)))): beyond any float
        x = math.inf
    if not math.isfinite(x):
        raise SpecError(f"--{name}: expected a finite number, got {text!r}.")
    if positive and x <= 0:
        raise SpecError(f"--{name}: must be > 0, got {text!r}.")
    if nonnegative and x < 0:
        raise SpecError(f"--{name}: must be >= 0, got {text!r}.")
    return x


def integer(value, name: str, *, lo: int | None = None, hi: int | None = None, why: str = "") -> int:
    """An integer option ``--name`` checked against ``[lo, hi]`` (the message names the option and the range)."""
    from nntheory._checks import check_int

    try:
        return check_int(value, f"--{name}", lo=lo, hi=hi)
    except SpecError as exc:
        raise SpecError(f"{str(exc).rstrip('.')}{'; ' + why if why else ''}.") from None


def output_file(path, name: str) -> None:
    """Check ``path`` (and nothing else) before any work: a regular file whose folder exists or can be made.

    Raises:
        SpecError: naming the option, if the path is a folder, a device, a symlink, or its folder is unwritable.
    """
    from nntheory._io import OutputPathError, check_output_path

    try:
        check_output_path(path, label=name)
    except OutputPathError as exc:
        raise SpecError(str(exc)) from None


def output_folder(path, name: str) -> None:
    """Check the output folder ``path`` before any work (exists and is a writable folder, or can be made).

    Raises:
        SpecError: naming the option.
    """
    from nntheory._io import OutputPathError, check_output_folder

    try:
        check_output_folder(path, label=name)
    except OutputPathError as exc:
        raise SpecError(str(exc)) from None


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


#: the longest integer literal accepted in JSON input (a float has at most 309 digits before the point)
MAX_JSON_DIGITS = 400
#: the deepest nesting accepted in JSON input (matrices and specs need a handful of levels)
MAX_JSON_DEPTH = 64


def _json_int(text: str) -> int | float:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise ValueError(f"an integer with {len(text.lstrip('-'))} digits (at most {MAX_JSON_DIGITS})")
    return int(text)


def _json_depth(text: str) -> int:
    """The deepest bracket nesting of JSON text (outside strings), without parsing it recursively."""
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


def json_value(text: str, name: str, example: str, *, error=KernelError):
    """Parse JSON text (never evaluated or unpickled); the message names the option and shows an example.

    Refuses nesting deeper than :data:`MAX_JSON_DEPTH` and integers longer than :data:`MAX_JSON_DIGITS` digits
    before parsing them (both would otherwise end in a traceback or a long conversion).
    """
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise error(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; expected e.g. {example}.")
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise error(f"{name}: not valid JSON ({exc.msg}); expected e.g. {example}.") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{name}: unusable JSON ({exc}); expected e.g. {example}.") from None


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


def write_manifest(folder: str, names: list[str], *, job: str, settings: dict) -> str:
    """Write ``folder/provenance.json``: nntheory version, generator, job, settings and the sha256 of each file.

    Args:
        folder: the output folder.
        names: the files (in ``folder``) this run wrote.
        job: the command and job, e.g. ``'validate finite-width'``.
        settings: the run's settings (JSON-ready).
    Returns:
        The manifest's path.
    """
    import hashlib
    import os

    from nntheory._io import atomic_write
    from nntheory._version import __version__

    files = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as fh:
            files[name] = hashlib.sha256(fh.read()).hexdigest()
    doc = {"format_version": 1, "generator": f"nntheory {__version__}", "nntheory_version": __version__,
           "generator_function": "nntheory.cli.main", "job": job, "settings": settings,
           "files_sha256": files}
    path = os.path.join(folder, "provenance.json")
    atomic_write(path, json_text(doc, indent=1) + "\n")
    return path
