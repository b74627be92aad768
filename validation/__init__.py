"""Monte Carlo ensembles of real networks compared with the compiled theory, with error bars."""

from nntheory.validation._compare import Comparison as Comparison
from nntheory.validation._compare import compare_width_sweep as compare_width_sweep
from nntheory.validation._compare import theory_statistics as theory_statistics
from nntheory.validation._ensembles import EnsembleSpec as EnsembleSpec
from nntheory.validation._ensembles import EnsembleSummaries as EnsembleSummaries
from nntheory.validation._ensembles import sample_ensemble as sample_ensemble
from nntheory.validation._estimators import Estimate as Estimate
from nntheory.validation._estimators import estimate_statistics as estimate_statistics
from nntheory.validation._estimators import fit_intercept as fit_intercept
from nntheory.validation._nnlo import NNLOCheck as NNLOCheck
from nntheory.validation._nnlo import validate_nnlo as validate_nnlo

__all__ = [
    "Comparison",
    "EnsembleSpec",
    "EnsembleSummaries",
    "Estimate",
    "NNLOCheck",
    "compare_width_sweep",
    "estimate_statistics",
    "fit_intercept",
    "sample_ensemble",
    "theory_statistics",
    "validate_nnlo",
]
