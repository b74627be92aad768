"""``nntheory env``: versions and devices, to paste into bug reports."""

from __future__ import annotations

import json

HELP = "versions of nntheory, sympy, jax and the devices: paste into bug reports"
USES_JAX = False


def add_arguments(p) -> None:
    """``nntheory env`` takes no flags."""


def run(args) -> int:
    """Print the versions of nntheory, Python, sympy, numpy, jax and the JAX devices as JSON."""
    import platform

    import jax
    import numpy
    import sympy

    from nntheory._version import __version__

    info = {"nntheory": __version__, "python": platform.python_version(), "sympy": sympy.__version__,
            "numpy": numpy.__version__, "jax": jax.__version__, "devices": [str(d) for d in jax.devices()]}
    print(json.dumps(info, indent=2, sort_keys=True))
    return 0
