"""The ``nntheory`` command line: one entry point, one module per subcommand.

Each subcommand module declares ``HELP`` (one line), ``add_arguments(parser)`` (its flags) and
``run(args) -> int`` (a thin handler over the library), plus ``USES_JAX``. This module builds the
parser, switches JAX to float64 in this one place, and turns every error of the library
(:class:`nntheory.errors.NNTheoryError`), unreadable or unwritable files and argument errors into a one-line
message and exit code 2; Ctrl-C exits 130 without a traceback (files are written atomically, so none is
left half-written); anything unexpected prints one line with a pointer to ``--debug`` and exits 1.

Data go to stdout (JSON with sorted keys) or to files; progress and logs go to stderr. ``--help`` and
``--version`` import neither JAX nor sympy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from nntheory._version import __version__

#: the subcommands, in the order ``nntheory --help`` lists them
COMMANDS = ("recursions", "validate", "kernels", "diagrams", "invariants", "tables", "fixed", "env")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``nntheory recursions: error: argument --depth: ... (see --help)``."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help').\n")


class _Formatter(argparse.HelpFormatter):
    """One line per subcommand in ``nntheory --help`` (names padded to the longest one)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=120)
        self._action_max_length = 16


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser: one sub-parser per module in :data:`COMMANDS` (imports no JAX or sympy)."""
    p = _Parser(
        prog="nntheory", description="Derive, compile and validate finite-width statistics of neural networks.",
        formatter_class=_Formatter)
    p.add_argument("--version", action="version", version=f"nntheory {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback of unexpected errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        mod = importlib.import_module(f"nntheory.cli.{name}")
        sp = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(sp)
    return p


def enable_float64() -> None:
    """Switch JAX to float64: every command computes in double precision (the one place this happens)."""
    import jax

    jax.config.update("jax_enable_x64", True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 a validation failed, 2 bad input, 130 interrupted).

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
    Returns:
        The exit code.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while parsing and importing, before a subcommand runs
        print("nntheory: interrupted.", file=sys.stderr)
        return 130


def _in_swallowing_frame(frame) -> bool:
    """Whether ``frame`` runs inside a gc callback or a ``__del__`` method (an exception raised there is dropped)."""
    import gc

    callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def console_main() -> None:
    """The ``nntheory`` command (and ``python -m nntheory``): :func:`main`, then exit with its code.

    After an interrupt (exit code 130) the process ends at once, once its output is flushed: the interpreter's
    shutdown would otherwise tear down JAX while computations dispatched ahead are still running, which could
    crash the process (a segfault instead of exit code 130). Files are already complete or removed by then
    (:func:`nntheory._io.atomic_write` cleans up before the interrupt reaches :func:`main`).

    Ctrl-C is also recorded (:func:`nntheory._io.note_interrupt`), not only raised. A signal handled while the main
    thread runs a garbage-collector callback (JAX registers one) or a ``__del__`` method would raise KeyboardInterrupt
    where Python prints "Exception ignored" and drops it: the job then ran on and exited 0 (seen in CI). There the
    handler raises nothing and re-delivers the interrupt to the main thread a moment later; and any write after a
    recorded interrupt raises it again (:func:`nntheory._io.atomic_write`), so the exit code is 130 either way.
    """
    import signal

    from nntheory import _io

    def on_sigint(signum, frame):
        _io.note_interrupt()
        if _in_swallowing_frame(frame):
            import _thread
            import threading

            threading.Timer(0.02, _thread.interrupt_main).start()
            return
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # an ignored SIGINT stays ignored
        signal.signal(signal.SIGINT, on_sigint)
    code = main()
    if code != 130 and _io.was_interrupted():
        print("nntheory: interrupted.", file=sys.stderr)
        code = 130
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    sys.exit(code)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and argument errors (2, one line on stderr)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    from nntheory.errors import NNTheoryError

    mod = importlib.import_module(f"nntheory.cli.{args.command}")
    try:
        if mod.USES_JAX:
            enable_float64()
        return mod.run(args)
    except NNTheoryError as exc:
        print(f"nntheory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nntheory {args.command}: interrupted.", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f": {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"nntheory {args.command}: error: {exc.strerror or exc}{where}.", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"nntheory {args.command}: error: out of memory; the request is too large for this machine (use "
              "smaller sizes, fewer inputs or layers, or split the work).", file=sys.stderr)
        return 2
    except RecursionError:
        if args.debug:
            raise
        print(f"nntheory {args.command}: error: an input is nested too deeply (expression or JSON); simplify it.",
              file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are reported
        if args.debug:
            raise
        print(f"nntheory {args.command}: internal error: {type(exc).__name__}: {exc} (run with --debug for the "
              "traceback, and please report it).", file=sys.stderr)
        return 1
