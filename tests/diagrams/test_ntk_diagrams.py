"""NTK-sector diagrams: the generated recursions against the hand-derived ones, the tensor decompositions at coinciding
neurons, the diagram listing, drawing, the CLI and bad input."""

import json
from itertools import product

import networkx as nx
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from nntheory.diagrams import NTK_DIAGRAM_STATISTICS, diagrams, draw_diagrams, field_cumulant, ntk_diagram_recursion, ntk_diagrams, tikz
from nntheory.diagrams._ntk import _graph, _match
from nntheory.errors import SpecError
from nntheory.theory import activation, ntk_recursion
from nntheory.theory.finite_width._recursions import r


def _differences(gen, hand):
    """Every component where the generated and hand-derived updates differ (after expand, then simplify)."""
    bad = []
    assert [s.name for s in gen.statistics] == [s.name for s in hand.statistics]
    for sg, sh in zip(gen.statistics, hand.statistics):
        assert sg.symbols == sh.symbols and sg.initial == sh.initial
        for idx in product(*(range(n) for n in sg.symbols.shape)):
            d = sympy.expand(sg.update[idx] - sh.update[idx])
            if d != 0 and sympy.simplify(d) != 0:
                bad.append((sg.name, idx))
    return bad


# ---------------------------------------------------------------- acceptance 1: diagrams = hand-derived recursions


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
@pytest.mark.parametrize("name,n_inputs", [("relu", 1), ("relu", 2), ("linear", 2), ("tanh", 1), ("tanh", 2),
                                           ("erf", 1), ("gelu", 2)])
def test_generated_ntk_sector_equals_hand_derived(name, n_inputs, init):
    """K, V, K1, Theta, Theta1, D, F, A, B: the symbolic difference of every component is 0 (width ratio r kept for
    Gaussian weights; the Weingarten diagrams reproduce the orthogonal terms of V, F, B)."""
    act = activation(name)
    gen = ntk_diagram_recursion(act, n_inputs, init=init)
    assert gen.init == init
    assert _differences(gen, ntk_recursion(act, n_inputs, init=init)) == []


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
@pytest.mark.parametrize("name,n_inputs", [("tanh", 1), ("tanh", 2), ("gelu", 1), ("erf", 1)])
def test_generated_dntk_and_ddntk_equal_hand_derived(name, n_inputs, init):
    """P, Q (dNTK) and R, S, T, U (ddNTK) from the derivative-tensor diagrams equal the hand-derived recursions."""
    act = activation(name)
    gen = ntk_diagram_recursion(act, n_inputs, ddntk=True, init=init)
    assert [s.name for s in gen.statistics][-6:] == ["P", "Q", "R", "S", "T", "U"]
    assert _differences(gen, ntk_recursion(act, n_inputs, ddntk=True, init=init)) == []


@pytest.mark.slow
def test_generated_ddntk_equals_hand_derived_erf_two_inputs():
    act = activation("erf")
    assert _differences(ntk_diagram_recursion(act, 2, ddntk=True), ntk_recursion(act, 2, ddntk=True)) == []


def test_a_dropped_rule_is_caught(monkeypatch):
    """The comparison can fail: an engine without the B insertion (E[H_jm H_jm] = B/n) gives a B' and a Q' that differ
    from the hand-derived ones (cached results bypassed)."""
    from nntheory.diagrams import _ntk

    act = activation("tanh")
    hand = ntk_recursion(act, 1, dntk=True)
    original = _ntk._insertions

    def without_b(ctx, cfg):
        return (t for t in original(ctx, cfg) if t[0] != "B")

    monkeypatch.setattr(_ntk, "_insertions", without_b)
    for name, fields in (("B", (("H", 0, 1, 0, 0), ("H", 0, 1, 0, 0))), ("Q", (("S", 0, 1, 1, 0, 0, 0), ("z", 0, 0)))):
        broken = _ntk._cumulant.__wrapped__(act, 1, fields, "gaussian")[1]
        assert sympy.expand(broken - hand[name].update[0, 0, 0, 0]) != 0, name


# ---------------------------------------------------------------- decompositions at coinciding neurons


T = {n: sympy.Symbol(n, real=True) for n in ("A", "B", "D", "F", "P", "Q", "R", "S", "T", "U")}


@pytest.mark.parametrize("name", ["tanh", "erf"])
def test_same_neuron_cumulants_follow_the_tensor_decompositions(name):
    """The engine evaluates the all-same-neuron patterns on its own; one input: E[dH_ii z_i z_i] = (D + 2F)/n,
    Var(H_ii) = (A + 2B)/n, E[S_iii z_i] = (2P + Q)/n, E[ddIH_iiii] = 3R/n, E[ddIIH_iiii] = (S + T + U)/n; and the
    one-neuron-apart patterns E[dH_ii z_k z_k] = D/n, Cov(H_ii, H_kk) = A/n, E[S_iik z_k] = P/n."""
    act = activation(name)
    rec = ntk_diagram_recursion(act, 1, ddntk=True)

    def u(n):
        return rec[n].update[(0,) * rec[n].update.rank()]

    def c1(*fields):
        return field_cumulant(act, fields)[1]

    def same(a, b):
        return sympy.expand(a - b) == 0 or sympy.simplify(a - b) == 0

    assert same(c1(("H", 0, 0, 0, 0), ("z", 0, 0), ("z", 0, 0)), u("D") + 2 * u("F"))
    assert same(c1(("H", 0, 0, 0, 0), ("H", 0, 0, 0, 0)), u("A") + 2 * u("B"))
    assert same(c1(("S", 0, 0, 0, 0, 0, 0), ("z", 0, 0)), 2 * u("P") + u("Q"))
    assert same(c1(("ddI", 0, 0, 0, 0, 0, 0, 0, 0)), 3 * u("R"))
    assert same(c1(("ddII", 0, 0, 0, 0, 0, 0, 0, 0)), u("S") + u("T") + u("U"))
    assert same(c1(("H", 0, 0, 0, 0), ("z", 1, 0), ("z", 1, 0)), u("D"))
    assert same(c1(("H", 0, 0, 0, 0), ("H", 1, 1, 0, 0)), u("A"))
    assert same(c1(("S", 0, 0, 1, 0, 0, 0), ("z", 1, 0)), u("P"))
    # three distinct neurons: no 1/n term
    assert c1(("H", 0, 1, 0, 0), ("z", 0, 0), ("z", 2, 0)) == 0


@settings(max_examples=25, deadline=None)
@given(st.tuples(*[st.integers(0, 1)] * 4))
def test_generated_tensor_symmetries(idx):
    """Symmetries of the definitions, seen by the engine at permuted fields (ReLU, two inputs): F and B under the pair
    swap (relabelling the neurons), B under reversing both pairs, A under the pair swap, D within each pair."""
    act = activation("relu")
    a1, a3, a2, a4 = idx

    def c1(*f):
        return sympy.expand(field_cumulant(act, f, 2)[1])

    F = c1(("H", 0, 1, a1, a2), ("z", 0, a3), ("z", 1, a4))
    assert sympy.simplify(F - c1(("H", 0, 1, a2, a1), ("z", 0, a4), ("z", 1, a3))) == 0
    B = c1(("H", 0, 1, a1, a2), ("H", 0, 1, a3, a4))
    assert sympy.simplify(B - c1(("H", 0, 1, a2, a1), ("H", 0, 1, a4, a3))) == 0
    assert sympy.simplify(B - c1(("H", 0, 1, a3, a4), ("H", 0, 1, a1, a2))) == 0
    A = c1(("H", 0, 0, a1, a3), ("H", 1, 1, a2, a4))
    assert sympy.simplify(A - c1(("H", 0, 0, a2, a4), ("H", 1, 1, a1, a3))) == 0
    D = c1(("H", 0, 0, a1, a3), ("z", 1, a2), ("z", 1, a4))
    assert sympy.simplify(D - c1(("H", 0, 0, a3, a1), ("z", 1, a4), ("z", 1, a2))) == 0


# ---------------------------------------------------------------- the diagrams


#: diagrams per statistic at one input (Gaussian; orthogonal adds the Weingarten diagrams of V, F, B and none elsewhere)
COUNTS = {"Theta": 3, "Theta1": 6, "D": 5, "F": 2, "A": 12, "B": 2, "P": 5, "Q": 3, "R": 7, "S": 5, "T": 13, "U": 2,
          "K": 2, "K1": 2, "V": 2}


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
def test_diagram_counts_non_isomorphic_and_values_sum_to_the_update(init):
    act = activation("tanh")
    rec = ntk_diagram_recursion(act, 1, ddntk=True, init=init)
    for name in NTK_DIAGRAM_STATISTICS:
        ds = ntk_diagrams(name, init)
        wg = [d for d in ds if d.term.correction and d.term.correction[0] == "weingarten"]
        assert len(ds) == COUNTS[name] + len(wg)
        # V: the two crossed pairings G_ac G_bd and G_ad G_bc; F, B: one (the other leaves a cross-neuron H)
        assert len(wg) == ({"V": 2, "F": 1, "B": 1}.get(name, 0) if init == "orthogonal" else 0), name
        for x in range(len(ds)):
            for y in range(x + 1, len(ds)):
                assert not nx.is_isomorphic(ds[x].graph, ds[y].graph, node_match=_match)
        total = sympy.Add(*[d.value for d in ds])
        upd = rec[name].update[(0,) * rec[name].update.rank()]
        if init == "orthogonal":
            total = total.xreplace({r: 1})
        assert sympy.expand(total - upd) == 0, name
        assert all(d.describe() and json.dumps(d.to_dict()) for d in ds)


def test_diagrams_dispatches_ntk_names_and_graphs_are_labeled():
    assert diagrams("A") == ntk_diagrams("A")
    d = ntk_diagrams("B", "orthogonal")[-1]
    assert "weingarten" in d.describe() or any("weingarten" in x.describe() for x in ntk_diagrams("B", "orthogonal"))
    g = _graph(d.fields, d.term)
    assert {k for k, _ in g.nodes} <= {"field", "neuron", "bias", "obj", "corr"}


def test_draw_and_tikz_of_ntk_diagrams(tmp_path):
    ds = ntk_diagrams("T")
    fig = draw_diagrams(ds, str(tmp_path / "t.png"), title="T")
    assert len(fig.axes) >= len(ds) and (tmp_path / "t.png").stat().st_size > 1000
    tex = tikz(ntk_diagrams("B", "orthogonal"))
    assert tex.count(r"\begin{tikzpicture}") == 3 and "crossed dot" in tex and "(neuron(" not in tex


# ---------------------------------------------------------------- CLI and bad input


def test_cli_lists_counts_and_draws_ntk_diagrams(cli, tmp_path):
    out = cli("diagrams", "list", "--statistic", "A")
    assert out.returncode == 0 and out.stdout.count("\n") == COUNTS["A"] + 1
    js = json.loads(cli("diagrams", "list", "--statistic", "F", "--init", "orthogonal", "--format", "json").stdout)
    assert js["count"] == 3 and js["sector"] == "ntk" and js["diagrams"][0]["statistic"] == "F"
    assert cli("diagrams", "count", "--statistic", "T").stdout.strip() == str(COUNTS["T"])
    pic = tmp_path / "r.svg"
    res = cli("diagrams", "draw", "--statistic", "R", "-o", str(pic))
    assert res.returncode == 0 and pic.exists() and (tmp_path / "r.svg.provenance.json").exists()


def test_cli_recursions_from_the_diagrams_match_the_hand_derived(cli):
    args = ["recursions", "--activation", "tanh", "--depth", "4", "--statistics", "Theta1,D,F,A,B,P,Q,R,S,T,U",
            "--gram", "[[1,0.3],[0.3,0.8]]"]
    hand = json.loads(cli(*args).stdout)
    diag = json.loads(cli(*args, "--derivation", "diagrams").stdout)
    assert diag["settings"]["derivation"] == "diagrams"
    for lh, ld in zip(hand["layers"], diag["layers"]):
        for k in ("Theta1", "D", "F", "A", "B", "P", "Q", "R", "S", "T", "U"):
            np.testing.assert_allclose(np.asarray(ld[k], float), np.asarray(lh[k], float), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args,needle", [
    (("diagrams", "list", "--statistic", "A", "--order", "2"), "--order"),
    (("diagrams", "list", "--statistic", "Theta", "--order", "1"), "--order"),
    (("diagrams", "count", "--statistic", "B", "--init", "orthogonl"), "--init"),
    (("diagrams", "list", "--statistic", "Theta2"), "statistic"),
    (("recursions", "--activation", "relu", "--depth", "3", "--statistics", "P", "--derivation", "diagrams"), "smooth"),
])
def test_cli_bad_input(cli, args, needle):
    out = cli(*args)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr


def test_python_bad_input():
    act = activation("tanh")
    with pytest.raises(SpecError, match="fields"):
        field_cumulant(act, [("G", 0, 0)])
    with pytest.raises(SpecError, match="fields"):
        field_cumulant(act, [("z", 0, 1)], 1)  # input 1 with one input
    with pytest.raises(SpecError, match="fields"):
        field_cumulant(act, [])
    with pytest.raises(SpecError, match="statistic"):
        ntk_diagrams("Theta2")
    with pytest.raises(SpecError, match="init"):
        ntk_diagram_recursion(act, 1, init="haar")
    with pytest.raises(SpecError, match="n_inputs"):
        ntk_diagram_recursion(act, 0)
    with pytest.raises(SpecError, match="smooth|kinks"):
        ntk_diagram_recursion(activation("relu"), 1, dntk=True)
    with pytest.raises(SpecError, match="kinks"):
        ntk_diagrams("P", act=activation("relu"))
    with pytest.raises(SpecError, match="kinks"):
        field_cumulant(activation("relu"), [("S", 0, 0, 1, 0, 0, 0), ("z", 1, 0)])
    with pytest.raises(SpecError, match="statistic"):
        ntk_diagrams(["A"])
    with pytest.raises(SpecError, match="fields"):
        field_cumulant(act, None)
    with pytest.raises(SpecError, match="at most 12"):
        field_cumulant(act, [("ddII", 0, 0, 1, 1, 0, 0, 0, 0)] * 4)  # refused at once, not left to run
    with pytest.raises(SpecError, match="Diagram"):
        draw_diagrams(["not a diagram"])
