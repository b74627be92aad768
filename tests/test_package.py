"""Packaging and boundaries: the symbolic core never imports JAX or numpy; the CLI is light."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["nntheory.theory", "nntheory.diagrams"])
def test_symbolic_core_is_pure(module):
    code = f"import sys, {module}; bad = {{'jax', 'numpy'}} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_imports_nothing_heavy():
    code = "import sys; from nntheory._cli import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\nassert 'jax' not in sys.modules and 'sympy' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("nntheory ")


def test_public_api_snapshot():
    import nntheory.numerics as N
    import nntheory.theory as T

    assert T.__all__ == [
        "Activation", "BUILTIN_ACTIVATIONS", "Criticality", "GaussianExpectation", "NetworkSpec", "Recursion",
        "Statistic", "activation", "activation_function", "criticality", "finite_width_recursion",
        "gaussian_expectation", "kernel_symbols", "leaky_relu", "orthant_moment", "parse_activation",
        "scale_invariant", "wick_moment", "z",
    ]
    assert "compile_expr" in N.__all__ and "compile_recursion" in N.__all__


def test_doctests_of_installed_modules():
    import doctest
    import importlib

    for name in ["nntheory.theory._activations", "nntheory.theory._gaussian", "nntheory.theory._recursions",
                 "nntheory.theory._criticality", "nntheory.numerics._compile"]:
        res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert res.failed == 0, name
        assert res.attempted > 0, name
