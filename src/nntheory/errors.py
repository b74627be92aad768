"""Exception types of nntheory. All derive from ``ValueError`` so callers can catch broadly."""

__all__ = ["NNTheoryError", "ActivationError", "SpecError", "KernelError", "SpinError"]


class NNTheoryError(ValueError):
    """Base class of the errors nntheory raises on bad input."""


class ActivationError(NNTheoryError):
    """An activation that cannot be parsed or used."""


class SpecError(NNTheoryError):
    """A network specification or hyperparameter outside its allowed range."""


class KernelError(NNTheoryError):
    """A kernel / Gram matrix that is not symmetric positive definite."""


class SpinError(NNTheoryError):
    """An angular momentum, projection or coupling that is not valid (|m| > j, j + m not integer, ...)."""
