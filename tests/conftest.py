import os
import subprocess
import sys

# XLA's CPU compiles dominate the suite (hundreds of jitted Monte Carlo / recursion programs, most run once): LLVM at
# -O1 instead of -O3 compiles them ~25-30% faster, runs them as fast here and gave bit-identical results in every
# comparison made (no fast-math either way). Set before jax starts its backend; inherited by the CLI subprocesses;
# an explicit choice in XLA_FLAGS wins.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=1").strip()

# One BLAS/LAPACK thread per process: pytest-xdist runs a worker per core, and the LAPACK calls of jitted code (QR of
# Haar-orthogonal weights, Cholesky, eigh: small matrices) ran up to 12x slower with OpenBLAS threads competing
# across workers (64 QRs of 128x128 in two processes at once: 0.65 s each, 0.05 s with one thread). Read when
# numpy/scipy load, so it must come before the first import of jax; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if "numpy" in sys.modules:  # a plugin loaded numpy first: the setting came too late
    print("conftest: numpy was imported before OPENBLAS_NUM_THREADS was set", file=sys.stderr)

import jax  # noqa: E402
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


# --------------------------------------------------------------------------- no NaN/Infinity in any JSON output
# Acceptance: every *.json file the tests leave under pytest's temporary folders (tmp_path, tmp_path_factory;
# the CLI in a subprocess included) must parse with strict JSON: no NaN, Infinity or -Infinity tokens. Inputs
# that are deliberately bad are exempt when their name starts with "bad" or they lie in a folder "bad-inputs".


def _refuse_constant(token):
    raise ValueError(f"non-finite token {token}")


def scan_json_outputs(root) -> list[str]:
    """Problems (``"path: why"``) of every ``*.json`` file under ``root``: not strict JSON, or NaN/Infinity in it."""
    import json
    import pathlib

    problems = []
    for path in sorted(pathlib.Path(root).rglob("*.json")):
        if path.name.startswith("bad") or "bad-inputs" in path.parts or not path.is_file() or path.is_symlink():
            continue
        try:
            json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: {exc}")
    return problems


@pytest.fixture
def json_scan():
    """The session-end scanner of JSON outputs (:func:`scan_json_outputs`), for testing it."""
    return scan_json_outputs


def pytest_sessionfinish(session, exitstatus):
    # Under pytest-xdist the workers' temporary folders sit inside the controller's basetemp: the controller
    # scans them all once, after every worker has finished; workers do not scan.
    if hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None)
    if base is None or not os.path.isdir(base):
        return
    problems = scan_json_outputs(base)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "JSON outputs with NaN/Infinity or invalid JSON:\n  " + "\n  ".join(problems)
        if reporter is not None:
            reporter.write_line(text, red=True)
        else:  # pragma: no cover
            print(text, file=sys.stderr)
        session.exitstatus = 1
