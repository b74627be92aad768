"""TODO: conventions of validation.finite_width."""

from nntheory.validation.finite_width._compare import Comparison as Comparison
from nntheory.validation.finite_width._compare import compare_width_sweep as compare_width_sweep
from nntheory.validation.finite_width._compare import theory_statistics as theory_statistics
from nntheory.validation.finite_width._ensembles import EnsembleSpec as EnsembleSpec
from nntheory.validation.finite_width._ensembles import EnsembleSummaries as EnsembleSummaries
from nntheory.validation.finite_width._ensembles import sample_ensemble as sample_ensemble
from nntheory.validation.finite_width._nnlo import NNLOCheck as NNLOCheck
from nntheory.validation.finite_width._nnlo import validate_nnlo as validate_nnlo

__all__ = [
    "Comparison",
    "EnsembleSpec",
    "EnsembleSummaries",
    "NNLOCheck",
    "compare_width_sweep",
    "sample_ensemble",
    "theory_statistics",
    "validate_nnlo",
]
