"""Packaging and boundaries: the symbolic core never imports JAX or numpy; the CLI is light."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["nntheory.theory", "nntheory.diagrams"])
def test_symbolic_core_is_pure(module):
    code = f"import sys, {module}; bad = {{'jax', 'numpy'}} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_imports_nothing_heavy():
    code = "import sys; from nntheory.cli import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\nassert 'jax' not in sys.modules and 'sympy' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("nntheory ")


def test_public_api_snapshot():
    import nntheory.numerics as N
    import nntheory.theory as T

    assert set(T.__all__) == {
        "Activation", "BUILTIN_ACTIVATIONS", "Criticality", "GaussianExpectation", "NetworkSpec", "Recursion",
        "Statistic", "activation", "activation_function", "criticality", "finite_width_recursion",
        "gaussian_expectation", "kernel_symbols", "leaky_relu", "orthant_moment", "parse_activation",
        "scale_invariant", "wick_moment", "z",
        # SO(3) / SU(2)
        "ExactValue", "clebsch_gordan", "clebsch_gordan_tensor", "e3nn_basis_change", "e3nn_clebsch_gordan",
        "exact_3j", "exact_6j", "exact_9j", "exact_clebsch_gordan", "projections", "real_basis_change",
        "rotation_matrix", "spherical_harmonics", "wigner_3j", "wigner_6j", "wigner_9j", "wigner_D",
        "wigner_D_real", "wigner_small_d",
        # Lie group actions and differential invariants
        "EquivariantFields", "InvariantError", "InvariantSet", "JetSpace", "LieAlgebraAction", "action_from_spec",
        "differential_invariants", "equivariant_fields", "invariant_count", "lie_action", "tangent_lift",
        # quantized networks
        "overflow_probability", "overflow_rate", "rounding_noise", "smallest_safe_integer_bits",
    }
    assert len(T.__all__) == len(set(T.__all__))
    assert all(hasattr(T, name) for name in T.__all__) and all(hasattr(N, name) for name in N.__all__)
    assert "compile_expr" in N.__all__ and "compile_recursion" in N.__all__ and "cg_table" in N.__all__


def test_doctests_of_installed_modules():
    import doctest
    import importlib

    for name in ["nntheory.theory._activations", "nntheory.theory._gaussian", "nntheory.theory.finite_width._recursions",
                 "nntheory.theory.finite_width._criticality", "nntheory.numerics._compile", "nntheory.theory.so3._su2",
                 "nntheory.theory.so3._so3", "nntheory.theory.lie._lie"]:
        res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert res.failed == 0, name
        assert res.attempted > 0, name
