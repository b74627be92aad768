"""Closure of generators written in different but equal forms, and the time budget.

References: the so(3) structure constants of the rotation fields on the sphere (angular momentum
operators, [L_x, L_y] = L_z up to the sign convention of the basis), recomputed here as the
structure constants of the linear fields on R^3 pushed to spherical coordinates by an independent
route (the bracket of the 3x3 matrices); the refused cases are genuine non-closures (a bracket with
a component no combination matches, checked at a point by hand).
"""

from __future__ import annotations

import time

import hypothesis.strategies as st
import pytest
import sympy
from hypothesis import given, settings

from nntheory.theory import InvariantError, differential_invariants, lie_action
from nntheory.theory.lie._zero import _is_zero

# L_x, L_y, L_z on the sphere in spherical coordinates, in three spellings of cot(theta)
SPELLINGS = {
    "cos/sin": "cos(theta)/sin(theta)",
    "1/tan": "1/tan(theta)",
    "mixed": None,
}


def _sphere_generators(spelling):
    cot1 = SPELLINGS[spelling] or "cos(theta)/sin(theta)"
    cot2 = SPELLINGS[spelling] or "1/tan(theta)"
    return [
        {"theta": "-sin(phi)", "phi": f"-cos(phi)*{cot1}"},
        {"theta": "cos(phi)", "phi": f"-sin(phi)*{cot2}"},
        {"phi": "1"},
    ]


def _so3_matrix_constants():
    """Structure constants of L_a = (e_a x r) . grad on R^3 from the bracket of the matrices
    (the linear field x -> A x has bracket [A, B]_fields = -(AB - BA) applied to x)."""
    E = [sympy.Matrix([[0, 0, 0], [0, 0, -1], [0, 1, 0]]), sympy.Matrix([[0, 0, 1], [0, 0, 0], [-1, 0, 0]]),
         sympy.Matrix([[0, -1, 0], [1, 0, 0], [0, 0, 0]])]
    out = {}
    for a in range(3):
        for b in range(a + 1, 3):
            C = -(E[a] * E[b] - E[b] * E[a])
            out[(a, b)] = [next(sympy.Rational(C[i, j], E[c][i, j]) for i in range(3) for j in range(3) if E[c][i, j] != 0)
                           if any(C[i, j] != 0 and E[c][i, j] != 0 for i in range(3) for j in range(3)) else 0
                           for c in range(3)]
    return out


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("jet", [(["theta", "phi"], []), (["theta"], ["phi"])])
def test_so3_on_the_sphere_closes_whatever_the_spelling_of_cot(spelling, jet):
    act = lie_action(jet[0], jet[1], _sphere_generators(spelling))
    # the spherical fields are the pushforward of the linear fields L_x, L_y, L_z restricted to the sphere:
    # same structure constants as the matrices, up to the overall orientation sign of the basis
    ref = _so3_matrix_constants()
    got = {(a, b): [act.structure_constants[a][b][c] for c in range(3)] for (a, b) in ref}
    sign = 1 if got[(0, 1)][2] == ref[(0, 1)][2] else -1
    for key in ref:
        assert got[key] == [sign * c for c in ref[key]], key


@pytest.mark.parametrize("gens, bad", [
    ([{"x": "1"}, {"x": "x**2"}], "[v1, v2]"),
    ([{"phi": "1"}, {"theta": "sin(phi)", "phi": "cos(phi)/tan(theta) + 1/1000000000000"}], "[v1, v2]"),
    ([{"x": "1"}, {"u": "exp(x)"}, {"u": "sqrt(1 + x**2)"}], "[v1, v3]"),
])
def test_genuine_non_closure_still_refused(gens, bad):
    names = sorted({k for g in gens for k in g})
    ind, dep = names[:1], names[1:]
    if "phi" in names:
        ind, dep = ["theta"], ["phi"]
    with pytest.raises(InvariantError, match=r"do not close"):
        lie_action(ind, dep, gens)


def test_radical_and_rational_rewritings_close():
    # SO(2) on (x, u) written with a radical that equals u on u > 0, and a rational rewriting
    gens = [{"x": "-sqrt(u**2)", "u": "x"}, {"x": "x*(u**2 + 1)/(u**2 + 1)", "u": "u"}]
    act = lie_action(["x", "u"], [], gens)
    assert act.bracket_table() == {}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(-30, 30), st.integers(1, 9), st.sampled_from(["tan", "tanh"]))
def test_is_zero_of_trig_identities_and_refutation(n, d, f):
    t = sympy.Symbol("t", real=True)
    c = sympy.Rational(n, d)
    if f == "tan":
        ident = sympy.cos(t) / sympy.sin(t) - 1 / sympy.tan(t)
    else:
        ident = sympy.cosh(t) / sympy.sinh(t) - 1 / sympy.tanh(t)
    assert _is_zero(ident)
    assert _is_zero(ident * c)
    # adding a non-zero rational times a non-vanishing function is never zero
    if c != 0:
        assert not _is_zero(ident + c * sympy.exp(t))


def test_timeout_stops_with_the_step_named():
    se3 = lie_action(["x"], ["u", "v"], [{"x": "1"}, {"u": "1"}, {"v": "1"}, {"u": "-v", "v": "u"},
                                         {"x": "v", "v": "-x"}, {"x": "-u", "u": "x"}])
    steps = []
    t = time.monotonic()
    with pytest.raises(InvariantError, match=r"timeout: not finished within 1\.5 s \(stopped in step: .*order.*Try a lower order"):
        differential_invariants(se3, 4, method="moving frame", timeout=1.5, progress=steps.append)
    assert time.monotonic() - t < 1.5 + 5.0
    assert steps and all("s]" in m for m in steps)


def test_timeout_argument_checked_and_generous_budget_harmless():
    se2 = lie_action(["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}])
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvariantError, match="timeout"):
            differential_invariants(se2, 2, timeout=bad)
    inv = differential_invariants(se2, 2, timeout=600)
    assert inv.counts == (0, 0, 1)


def test_cli_timeout_exit_code_2_and_progress(cli, tmp_path):
    spec = tmp_path / "se3.json"
    spec.write_text('{"independent": ["x"], "dependent": ["u", "v"], "generators": [{"x": "1"}, {"u": "1"}, '
                    '{"v": "1"}, {"u": "-v", "v": "u"}, {"x": "v", "v": "-x"}, {"x": "-u", "u": "x"}]}')
    t = time.monotonic()
    r = cli("invariants", str(spec), "--order", "4", "--method", "moving-frame", "--timeout", "4")
    assert r.returncode == 2, r.stderr
    assert "timeout" in r.stderr and "stopped in step" in r.stderr and "orbit dimension" in r.stderr
    assert "Traceback" not in r.stderr and time.monotonic() - t < 60


def test_timeout_stops_a_runaway_step_outside_the_main_thread():
    # no SIGALRM outside the main thread (thread pools, pytest-xdist workers): the asynchronous stop must hold
    import threading

    se3 = lie_action(["x"], ["u", "v"], [{"x": "1"}, {"u": "1"}, {"v": "1"}, {"u": "-v", "v": "u"},
                                         {"x": "v", "v": "-x"}, {"x": "-u", "u": "x"}])
    result = {}

    def run():
        t = time.monotonic()
        try:
            differential_invariants(se3, 4, method="moving frame", timeout=1.5)
        except InvariantError as exc:
            result["error"] = str(exc)
        result["seconds"] = time.monotonic() - t

    th = threading.Thread(target=run)
    th.start()
    th.join(60)
    assert not th.is_alive(), "the budget did not stop the worker thread"
    assert "timeout: not finished within 1.5 s" in result["error"]
    assert result["seconds"] < 1.5 + 5.0
    # a budget that finishes in time leaves no exception behind in the thread
    se2 = lie_action(["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}])
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("inv", differential_invariants(se2, 2, timeout=600)))
    th.start()
    th.join(120)
    assert out["inv"].counts == (0, 0, 1)
