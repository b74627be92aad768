"""Exception types of nntheory: every error the library raises on bad input is one of these.

All derive from :class:`NNTheoryError`, itself a ``ValueError``, so callers can catch broadly; the
command line turns each into a one-line message and exit code 2.
"""

__all__ = [
    "ActivationError",
    "FixedPointError",
    "GroupError",
    "HarnessError",
    "InvariantError",
    "KernelError",
    "NNTheoryError",
    "SpecError",
    "SpinError",
    "StatisticError",
]


class NNTheoryError(ValueError):
    """Base class of the errors nntheory raises on bad input."""


class ActivationError(NNTheoryError):
    """An activation that cannot be parsed or used."""


class SpecError(NNTheoryError):
    """A network specification, option or hyperparameter outside its allowed range."""


class KernelError(NNTheoryError):
    """A kernel / Gram matrix that is not symmetric positive definite."""


class SpinError(NNTheoryError):
    """An angular momentum, projection or coupling that is not valid (|m| > j, j + m not integer, ...)."""


class InvariantError(NNTheoryError):
    """A Lie algebra action, jet space or invariant request that is not valid."""


class GroupError(SpecError):
    """A set of transformations that is not a group, or a transformation that is not a symmetry of the data's grid."""


class FixedPointError(SpecError):
    """A fixed-point type, quantized layer or table specification that is not valid."""


class HarnessError(NNTheoryError):
    """An external reference (a C++ compiler, hls4ml) that failed or is not available."""


class StatisticError(SpecError, KeyError):
    """A statistic name a recursion does not have (also a ``KeyError``, as a mapping lookup)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0]) if self.args else ""
