"""Acceptance 3 of the diagrams issue: K2 and the six-point vertex U (order 1/n^2, from the diagram
recursion) vs Monte Carlo ensembles of real networks over a width sweep, for tanh and exact GELU.

The fit intercepts must agree with the theory within 4 standard errors, and the signal must be
resolved (|theory| > 3 standard errors), so that the agreement means something. Fixed seeds;
measured z-scores when written: tanh K2 -0.07, U 2.6; GELU K2 0.92, U -0.53 (n_nets = 1e5).
"""

import pytest

from nntheory.theory import activation
from nntheory.validation import validate_nnlo


@pytest.mark.parametrize("name,C_W,C_b,widths,n_nets", [
    ("tanh", 1.5, 0.1, (6, 8, 12, 16), 100_000),
    ("gelu", 2.0, 0.0, (16, 24, 32, 48), 60_000),
])
def test_nnlo_kernel_and_six_point_vertex_match_width_sweep(name, C_W, C_b, widths, n_nets):
    checks = validate_nnlo(activation(name), C_W=C_W, C_b=C_b, depth=3, widths=widths, n_nets=n_nets, seed=1, chunk=16384)
    assert {c.statistic for c in checks} == {"K2", "U"}
    for c in checks:
        assert abs(c.theory) > 3 * c.stderr, (c.statistic, c.theory, c.stderr)
        assert abs(c.z) < 4, (c.statistic, c.theory, c.fit, c.stderr)
