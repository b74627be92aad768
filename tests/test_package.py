"""Packaging and boundaries: the symbolic core never imports JAX or numpy; the CLI is light; the public
API of every stage and topic package is pinned."""

import doctest
import importlib
import subprocess
import sys

import pytest

TOPICS = {
    "nntheory.theory": ("finite_width", "so3", "lie", "fixed_point"),
    "nntheory.numerics": ("finite_width", "kernels", "so3", "lie", "fixed_point"),
    "nntheory.validation": ("finite_width", "kernels", "lie", "fixed_point"),
}
PACKAGES = ["nntheory.diagrams", *TOPICS, *(f"{stage}.{t}" for stage, ts in TOPICS.items() for t in ts)]


@pytest.mark.parametrize("module", ["nntheory.theory", "nntheory.diagrams", *(f"nntheory.theory.{t}" for t in TOPICS["nntheory.theory"])])
def test_symbolic_core_is_pure(module):
    code = f"import sys, {module}; bad = {{'jax', 'numpy'}} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_imports_nothing_heavy():
    code = "import sys; from nntheory.cli import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\nassert 'jax' not in sys.modules and 'sympy' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("nntheory ")


def test_help_is_one_line_per_subcommand():
    from nntheory.cli import COMMANDS

    out = subprocess.run([sys.executable, "-m", "nntheory", "--help"], check=True, capture_output=True, text=True).stdout
    for name in COMMANDS:
        lines = [line for line in out.splitlines() if line.split()[:1] == [name]]
        assert len(lines) == 1 and len(lines[0].split()) > 2, name  # the name and its help on one line


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_document_and_sort_their_api(package):
    mod = importlib.import_module(package)
    assert mod.__doc__ and "TODO" not in mod.__doc__, package
    names = list(mod.__all__)
    assert names == sorted(names) and len(names) == len(set(names)), package
    for name in names:
        obj = getattr(mod, name)
        if callable(obj) and not isinstance(obj, type(sys)):
            assert getattr(obj, "__doc__", None), f"{package}.{name} has no docstring"


@pytest.mark.parametrize("stage", ["nntheory.diagrams", *TOPICS])
def test_public_functions_say_what_they_return(stage):
    import inspect

    mod = importlib.import_module(stage)
    missing = [n for n in mod.__all__ if inspect.isfunction(getattr(mod, n)) and "Returns" not in (getattr(mod, n).__doc__ or "")]
    assert not missing, f"{stage}: no 'Returns:' section in {missing}"


@pytest.mark.parametrize("stage", list(TOPICS))
def test_stages_reexport_their_topics(stage):
    mod = importlib.import_module(stage)
    for topic in TOPICS[stage]:
        sub = importlib.import_module(f"{stage}.{topic}")
        for name in sub.__all__:
            assert getattr(mod, name, None) is getattr(sub, name), f"{stage}.{name} is not {stage}.{topic}.{name}"


def test_public_api_snapshot():
    """The names each stage exports (a change here is an API change: update the README and this list)."""
    got = {p: sorted(importlib.import_module(p).__all__) for p in ["nntheory.theory", "nntheory.diagrams", "nntheory.numerics", "nntheory.validation"]}
    assert got == API, {p: sorted(set(got[p]) ^ set(API[p])) for p in got if got[p] != API[p]}


API = {
    "nntheory.theory": [
        "Activation",
        "BUILTIN_ACTIVATIONS",
        "Criticality",
        "DDNTK_STATISTICS",
        "EquivariantFields",
        "ExactValue",
        "GaussianExpectation",
        "InvariantError",
        "InvariantSet",
        "JetSpace",
        "LieAlgebraAction",
        "NTK_STATISTICS",
        "NetworkSpec",
        "RealBasisTerm",
        "Recursion",
        "Statistic",
        "action_from_spec",
        "activation",
        "activation_function",
        "clebsch_gordan",
        "clebsch_gordan_tensor",
        "criticality",
        "ddntk_moments",
        "differential_invariants",
        "e3nn_basis_change",
        "e3nn_clebsch_gordan",
        "equivariant_fields",
        "exact_3j",
        "exact_6j",
        "exact_9j",
        "exact_clebsch_gordan",
        "finite_width_recursion",
        "gaussian_expectation",
        "invariant_count",
        "kernel_symbols",
        "leaky_relu",
        "lie_action",
        "ntk_recursion",
        "orthant_moment",
        "overflow_probability",
        "overflow_rate",
        "parse_activation",
        "parse_expression",
        "parse_number",
        "projections",
        "real_basis_change",
        "real_basis_terms",
        "rotation_matrix",
        "rounding_noise",
        "scale_invariant",
        "smallest_safe_integer_bits",
        "spherical_harmonics",
        "tangent_lift",
        "wick_moment",
        "wigner_3j",
        "wigner_6j",
        "wigner_9j",
        "wigner_D",
        "wigner_D_real",
        "wigner_small_d",
        "z",
    ],
    "nntheory.numerics": [
        "ActivationTable", "CompiledRecursion", "ConvKernel", "EquivariantNODE", "FiniteGroup",
        "FiniteWidthPredictions", "FixedType", "GroupError", "Kernels", "LookupTable", "MLPKernel", "NTKPrediction",
        "PlainNODE", "QActivation", "QDense", "QuadratureConfig", "QuantizedMLP", "QuantizedTheory",
        "SecondOrderNODE", "TrainedMeanPrediction", "activation_table", "cg_blocks", "cg_table", "compile_expr", "compile_fields",
        "compile_group_action", "compile_invariants", "compile_recursion", "dual_functions", "expectation_nodes",
        "explicit_integrand", "finite_width_predictions", "float_activation", "gauss_hermite_rule", "gram_matrix",
        "group_from_matrices", "half_range_rule", "image_dihedral", "image_reflections", "image_rotations",
        "input_vectors", "invariants_along", "item_permutations", "jet_of", "kernel_regression", "load_table_npz",
        "ntk_predict", "pairwise_statistics", "point_rotations", "quantized_mlp", "quantized_theory",
        "real_basis_change_matrix", "real_spherical_harmonics", "require_float64", "rk4_solve", "round_exact",
        "sh_table", "table_bytes", "tensor_product", "trained_mean_prediction", "weight_error_moments", "wigner_D_matrix",
        "wigner_D_real_matrix", "wigner_d_half_pi", "wigner_d_matrix", "wigner_d_table", "write_table",
    ],
    "nntheory.validation": [
        "Comparison",
        "DDNTKEnsemble",
        "DDNTKSweep",
        "DDNTK_MOMENTS",
        "EnsembleSpec",
        "EnsembleSummaries",
        "EquivarianceResult",
        "Estimate",
        "MAIN_JOB_ACTIVATIONS",
        "MAIN_JOB_DEFAULTS",
        "MAIN_JOB_FULL",
        "MainJobConfig",
        "MonteCarloKernels",
        "NNLOCheck",
        "NTKComparison",
        "NTKEnsemble",
        "NTKEnsembleSpec",
        "NTKSaturation",
        "NTKStepChange",
        "NTKSweep",
        "NTK_VALIDATE_STATISTICS",
        "NodeComparison",
        "QATResult",
        "QuantizedEnsemble",
        "TRAINED_PARTS",
        "TrainedConvSpec",
        "TrainedEnsemble",
        "TrainedEnsembleMean",
        "TrainedMLPSpec",
        "TrainingResult",
        "check_main_job",
        "compare_nodes",
        "compare_quantized",
        "compare_width_sweep",
        "ddntk_blocks",
        "ddntk_statistics",
        "ddntk_width_sweep",
        "digits_data",
        "digits_net",
        "digits_pixels",
        "dntk_moments_from_pq",
        "estimate_statistics",
        "fake_quant",
        "fit_intercept",
        "haar_orthogonal",
        "invariance_errors",
        "invariance_residuals",
        "main_job_configurations",
        "main_job_inputs",
        "monte_carlo_kernels",
        "node_equivariance",
        "ntk_distance",
        "ntk_saturation",
        "ntk_statistics",
        "ntk_step_change",
        "ntk_step_prediction",
        "ntk_width_sweep",
        "orthogonal_mlp_params",
        "qat_forward",
        "quantized_ensemble",
        "sample_ddntk_ensemble",
        "sample_ensemble",
        "sample_ntk_ensemble",
        "theory_statistics",
        "train_ensemble",
        "train_qat",
        "trained_ensemble_mean",
        "trained_spec",
        "validate_equivariance",
        "validate_nnlo",
        "validate_ntk",
        "validate_training",
        "write_ntk_saturation",
    ],
    "nntheory.diagrams": [
        "Diagram", "DiagramStatistic", "NTKDiagram", "NTK_DIAGRAM_STATISTICS", "NTK_MEAN_STATISTICS", "diagram_recursion", "diagram_sum", "diagrams",
        "draw_diagrams", "drawing_provenance", "field_cumulant", "ntk_diagram_recursion", "ntk_diagrams", "ntk_mean_recursion",
        "parse_statistic", "resolve_statistic", "statistic_name", "tikz",
    ],
}


DOCTEST_MODULES = [
    "nntheory._checks", "nntheory.theory._activations", "nntheory.theory._parsing", "nntheory.theory._gaussian", "nntheory.theory.finite_width._recursions",
    "nntheory.theory.finite_width._criticality", "nntheory.numerics._compile", "nntheory.numerics._inputs",
    "nntheory.diagrams._statistics", "nntheory.diagrams._ntk", "nntheory.theory.so3._su2", "nntheory.theory.so3._so3",
    "nntheory.theory.so3._recoupling", "nntheory.theory.lie._actions", "nntheory.theory.lie._invariants",
    "nntheory.theory.lie._fields",
]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_doctests_of_installed_modules(name):
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0, name
    assert res.attempted > 0, name
