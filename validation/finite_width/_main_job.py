"""The configurations of the main finite-width validation job (``nntheory validate``), without I/O.

For each activation the job runs the width sweep of :func:`compare_width_sweep` at criticality and off it
(``C_W`` scaled by a factor, ``C_b`` set), on two correlated random inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.theory import Activation, activation, criticality

__all__ = ["MAIN_JOB_ACTIVATIONS", "MAIN_JOB_DEFAULTS", "MAIN_JOB_FULL", "MainJobConfig", "check_main_job", "main_job_configurations", "main_job_inputs"]

MAIN_JOB_ACTIVATIONS = ("relu", "tanh", "gelu")
"""The activations of the main job when none are given."""

MAIN_JOB_DEFAULTS = {"depth": 4, "widths": (16, 32, 64), "n_nets": 4000, "off_critical": (1.5, 0.2), "n0": 16}
"""The main job's defaults: a first result in a few minutes (``depth`` in PDLT layers, as :class:`EnsembleSpec`).

Small widths make the :math:`1/n` effects large and cheap to resolve: the run is dominated by compiling one
sampler per width and configuration, so three widths with many networks each give more power per second than
wide networks (the fits include the next order in :math:`1/n`). :data:`MAIN_JOB_FULL` is the thorough run.
"""

MAIN_JOB_FULL = {"depth": 6, "widths": (32, 64, 128, 256), "n_nets": 1000, "off_critical": (1.5, 0.2), "n0": 16}
"""The thorough main job (``nntheory validate --full``): deeper and wider networks, four widths."""


@dataclass(frozen=True)
class MainJobConfig:
    """One width sweep of the main job: ``label`` is ``"critical"`` or ``"off-critical"``."""

    label: str
    activation: Activation
    C_W: float
    C_b: float


def main_job_configurations(activations=MAIN_JOB_ACTIVATIONS, off_critical: tuple[float, float] = (1.5, 0.2)) -> list[MainJobConfig]:
    """The (label, activation, C_W, C_b) configurations of the main job, in the order it runs them.

    Args:
        activations: activation names or :class:`Activation` objects (default :data:`MAIN_JOB_ACTIVATIONS`).
        off_critical: ``(factor, C_b)``: the off-critical point is ``C_W = factor * C_W_critical`` with that ``C_b``.

    Returns:
        For each activation, its critical point then its off-critical point.

    Raises:
        ActivationError: an unknown activation, or one without a critical point.
    """
    fac, cb_off = (float(v) for v in off_critical)
    configs = []
    for name in activations or MAIN_JOB_ACTIVATIONS:
        act = activation(name)
        crit = criticality(act)
        configs.append(MainJobConfig("critical", act, float(crit.C_W), float(crit.C_b)))
        configs.append(MainJobConfig("off-critical", act, fac * float(crit.C_W), cb_off))
    return configs


def main_job_inputs(seed: int, n0: int = 16) -> np.ndarray:
    """The two correlated inputs ``(2, n0)`` of the main job: ``x_1 = 0.6 x_0 + 0.8 g`` for Gaussian ``x_0, g``.

    Args:
        seed: seed of ``numpy.random.default_rng`` (the CLI's ``--seed``).
        n0: input dimension.

    Returns:
        The inputs, as the CLI draws them today.
    """
    X = np.random.default_rng(seed).normal(size=(2, check_int(n0, "n0", lo=1, where="main_job_inputs")))
    X[1] = 0.6 * X[0] + 0.8 * X[1]  # two correlated inputs
    return X


def check_main_job(widths, depth: int, n_nets: int) -> tuple[tuple[int, ...], int, int]:
    """The checks the CLI applies to the main job's settings; returns them as ints.

    Args:
        widths: the widths of the sweep (at least 3, each ``>= 4``).
        depth: the number of layers, in ``[2, 50]``.
        n_nets: the number of networks per width (``>= 16``).

    Returns:
        ``(widths, depth, n_nets)``, ``widths`` a tuple of ints.

    Raises:
        SpecError: fewer than 3 widths or a width < 4, depth outside [2, 50], ``n_nets < 16``.
    """
    widths = tuple(check_int(w, "widths", lo=1) for w in widths)
    if len(widths) < 3 or min(widths) < 4:
        raise SpecError(f"--widths: need at least 3 widths >= 4, got {widths!r}.")
    depth = check_int(depth, "depth", lo=2, hi=50, where="--depth")
    n_nets = check_int(n_nets, "n_nets", lo=16, where="--n-nets (standard errors)")
    return widths, depth, n_nets
