import os
import subprocess
import sys

import jax
import pytest
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: compiled vs exact, by dtype (STYLE.md tolerance policy)
RTOL = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture
def rtol():
    return RTOL


def _run_cli(*args, stdin: str | None = None, cwd=None, timeout: float = 900) -> subprocess.CompletedProcess:
    """The real ``nntheory`` command in a subprocess (text mode): ``.returncode``, ``.stdout``, ``.stderr``."""
    return subprocess.run([sys.executable, "-m", "nntheory", *map(str, args)], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


@pytest.fixture
def cli():
    """The one CLI runner of the test suite: ``cli("recursions", "--depth", 3, ..., stdin=None)``."""
    return _run_cli
