"""Diagrams vs the hand-derived recursions, exact finite-width laws and brute-force Wick counting."""

import json
from functools import lru_cache
from itertools import product

import networkx as nx
import pytest
import sympy

from nntheory.diagrams import diagram_recursion, diagrams, parse_statistic, statistic_name
from nntheory.errors import SpecError
from nntheory.theory import activation, finite_width_recursion, parse_activation

eps = sympy.Symbol("eps")  # 1/n


def _entry(layer, name):
    a = layer[name]
    return a[(0,) * a.rank()]


# ---------------------------------------------------------------- acceptance 1: order 1/n = foundation


@pytest.mark.parametrize("name,n_inputs", [("relu", 1), ("relu", 2), ("tanh", 1), ("tanh", 2), ("tanh", 3), ("gelu", 2), ("erf", 2)])
def test_order_one_reproduces_hand_derived_V_and_K1(name, n_inputs):
    """Symbolic difference of every component, with the width ratio r kept, expands to 0."""
    act = activation(name)
    d, h = diagram_recursion(act, 1, n_inputs), finite_width_recursion(act, n_inputs)
    # the foundation declares K1 positive like a kernel; the diagrams keep corrections real only
    ren = {s: sympy.Symbol(s.name, real=True) for s in sympy.flatten(h["K1"].symbols.tolist())}
    for st in ("K", "V", "K1"):
        assert [s for s in sympy.flatten(d[st].symbols.tolist())] == [s.xreplace(ren) for s in sympy.flatten(h[st].symbols.tolist())]
        ours = sympy.flatten(d[st].update.tolist())
        theirs = [e.xreplace(ren) for e in sympy.flatten(h[st].update.tolist())]
        assert all(sympy.expand(a - b) == 0 for a, b in zip(ours, theirs)), st


@pytest.mark.parametrize("name,n_inputs", [("relu", 1), ("relu", 2), ("tanh", 2), ("erf", 2)])
def test_orthogonal_order_one_reproduces_hand_derived_weingarten_terms(name, n_inputs):
    """Orthogonal weights: the Weingarten diagram of V and the Gaussian ones of K, K1 equal the hand-derived orthogonal
    recursions (theory/finite_width/_recursions.py, checked against Haar Monte Carlo) term by term."""
    act = activation(name)
    d, h = diagram_recursion(act, 1, n_inputs, "orthogonal"), finite_width_recursion(act, n_inputs, init="orthogonal")
    assert d.init == "orthogonal"
    ren = {s: sympy.Symbol(s.name, real=True) for s in sympy.flatten(h["K1"].symbols.tolist())}
    for st in ("K", "V", "K1"):
        ours = sympy.flatten(d[st].update.tolist())
        theirs = [e.xreplace(ren) for e in sympy.flatten(h[st].update.tolist())]
        assert all(sympy.expand(a - b) == 0 for a, b in zip(ours, theirs)), st
    # and the Weingarten diagram is what separates them from the Gaussian recursion
    g = diagram_recursion(act, 1, n_inputs)
    assert any(sympy.expand(a - b.xreplace({g.ratio: 1})) != 0
               for a, b in zip(sympy.flatten(d["V"].update.tolist()), sympy.flatten(g["V"].update.tolist())))


def test_orthogonal_diagrams_and_refusals(cli, tmp_path):
    assert len(diagrams("V", "orthogonal")) == len(diagrams("V")) + 1
    assert [x.weingarten for x in diagrams("V", "orthogonal")] == [False] * len(diagrams("V")) + [True]
    assert len(diagrams("K1", "orthogonal")) == len(diagrams("K1"))
    with pytest.raises(SpecError, match="order 1/n\\^1 only"):
        diagrams("V2", "orthogonal")
    with pytest.raises(SpecError, match="init"):
        diagram_recursion(activation("relu"), 1, 1, "haar")
    out = cli("diagrams", "list", "--statistic", "V", "--order", "1", "--init", "orthogonal", "--format", "json")
    doc = json.loads(out.stdout)
    assert doc["init"] == "orthogonal" and doc["count"] == 3 and doc["diagrams"][-1]["weingarten"] is True
    out = cli("diagrams", "draw", "--statistic", "V", "--order", "1", "--init", "orthogonal", "-o", str(tmp_path / "v.tex"))
    assert out.returncode == 0 and "crossed dot" in (tmp_path / "v.tex").read_text()
    out = cli("diagrams", "list", "--statistic", "V", "--order", "2", "--init", "orthogonal")
    assert out.returncode == 2 and "--init orthogonal: diagrams to order 1 only" in out.stderr


# ---------------------------------------------------------------- acceptance 2: exact all-order laws


@pytest.mark.parametrize("name,C_W,growth", [("relu", 2, 5), ("linear", 1, 2)])
def test_kurtosis_series_matches_exact_laws_to_order_three(name, C_W, growth):
    """ReLU at criticality: 3[(1 + 5/n)^(l-1) - 1]; deep linear: 3[(1 + 2/n)^(l-1) - 1] (PDLT 3.3),
    equal widths. Orders 1, 2 and 3 of the diagram sums give every Taylor coefficient exactly."""
    rec = diagram_recursion(activation(name), 3)
    for l, layer in enumerate(rec.iterate(6, [[1]], C_W=C_W, C_b=0), start=1):
        mean = sum(_entry(layer, statistic_name(1, k)) * eps**k for k in range(4))
        var = sum(_entry(layer, statistic_name(2, k)) * eps**k for k in range(1, 4))
        kurt = sympy.series(3 * var / mean**2, eps, 0, 4).removeO()
        law = sympy.series(3 * ((1 + growth * eps) ** (l - 1) - 1), eps, 0, 4).removeO()
        assert sympy.expand(kurt - law) == 0, (l, kurt, law)


# ---------------------------------------------------------------- brute-force Wick contractions


def _wick(vars_, cov):
    """E[prod z_v] for zero-mean Gaussians, by summing over all pairings (Isserlis), memoised on
    the multiset of variables."""
    return _wick_sorted(tuple(sorted(vars_)), cov)


@lru_cache(maxsize=None)
def _wick_sorted(vars_, cov):
    if len(vars_) % 2:
        return sympy.Integer(0)
    if not vars_:
        return sympy.Integer(1)
    first, rest = vars_[0], vars_[1:]
    total = sympy.Integer(0)
    for i in range(len(rest)):
        total += cov(first, rest[i]) * _wick_sorted(rest[:i] + rest[i + 1 :], cov)
    return sympy.expand(total)


def _set_partitions(items):
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield ((first,),) + part
        for i in range(len(part)):
            yield part[:i] + ((first,) + part[i],) + part[i + 1 :]


def _exact_layer_moments(power, n_inputs, gram, C_W, depth, max_m):
    """Exact moments E[prod_t G_{p_t}] of the stochastic kernel of layer ``depth`` as functions of
    n, for sigma(z) = z**power, C_b = 0: each layer's moment is the sum over which factors share a
    neuron (falling factorial of n) of Wick contractions, then the previous layer's moments."""
    P = [(a, b) for a in range(n_inputs) for b in range(a, n_inputs)]
    g = {p: sympy.Symbol(f"g{p[0]}{p[1]}") for p in P}
    n = 1 / eps

    def gcov(u, v):
        return g[tuple(sorted((u, v)))]

    @lru_cache(maxsize=None)
    def conditional(labels):  # E[prod_t G'_{p_t} | G = g] as a polynomial in g and n
        m = len(labels)
        total = 0
        for part in _set_partitions(tuple(range(m))):
            falling = sympy.Mul(*[n - i for i in range(len(part))])
            term = falling
            for block in part:
                zs = tuple(i for t in block for i in labels[t] for _ in range(power))
                term *= _wick(zs, gcov)
            total += term
        return sympy.expand((C_W / n) ** m * total)

    def moments_next(prev):
        @lru_cache(maxsize=None)
        def M(labels):
            poly = sympy.Poly(conditional(labels), *[g[p] for p in P])
            out = 0
            for exps, coef in poly.terms():
                mono = tuple(sorted(p for p, e in zip(P, exps) for _ in range(e)))
                out += coef * prev(mono)
            return sympy.expand(out)

        return M

    K0 = {p: C_W * gram[p[0]][p[1]] for p in P}  # layer 1: deterministic

    def M1(labels):
        return sympy.Mul(*[K0[p] for p in labels])

    M = M1
    for _ in range(depth - 1):
        M = moments_next(M)
    return M, P


def _cumulant(M, labels):
    total = 0
    for part in _set_partitions(tuple(range(len(labels)))):
        q = len(part)
        total += (-1) ** (q - 1) * sympy.factorial(q - 1) * sympy.Mul(*[M(tuple(sorted(labels[i] for i in b))) for b in part])
    return total


@pytest.mark.parametrize("power,n_inputs,order,max_m", [(1, 2, 2, 3), (2, 1, 3, 4)])
def test_symmetry_factors_against_brute_force_wick_counting(power, n_inputs, order, max_m):
    """Cumulants of the kernel at layer 3 from explicit Wick contractions (exact in n) vs the
    diagram recursion, every coefficient of 1/n^k up to ``order``: deep linear with two inputs
    (multi-input labels) and sigma = z^2 (vertices with up to six derivative legs)."""
    gram = [[1, sympy.Rational(1, 2)], [sympy.Rational(1, 2), 2]] if n_inputs == 2 else [[sympy.Rational(3, 2)]]
    C_W = sympy.Rational(3, 2) if power == 1 else sympy.Rational(1, 3)
    depth = 3
    M, P = _exact_layer_moments(power, n_inputs, gram, C_W, depth, max_m)
    rec = diagram_recursion(parse_activation("z" if power == 1 else "z**2"), order, n_inputs)
    layer = rec.iterate(depth, gram, C_W=C_W, C_b=0)[-1]
    checked = 0
    for m in range(1, max_m + 1):
        for labels in {tuple(sorted(c)) for c in product(P, repeat=m)}:
            exact = sympy.series(sympy.together(_cumulant(M, labels)), eps, 0, order + 1).removeO()
            for k in range(0 if m == 1 else m - 1, order + 1):
                idx = tuple(i for p in labels for i in p)
                ours = layer[statistic_name(m, k)][idx]
                assert sympy.simplify(ours - exact.coeff(eps, k)) == 0, (m, k, labels, ours, exact)
                checked += 1
    assert checked > 0


# ---------------------------------------------------------------- structure


def test_diagrams_are_pairwise_non_isomorphic_and_counts_are_stable():
    for st in ("K1", "V", "K2", "V2", "U6", "K3"):
        ds = diagrams(st)
        m = parse_statistic(st)[0]
        for i in range(len(ds)):
            for j in range(i):
                assert not nx.is_isomorphic(
                    ds[i].graph, ds[j].graph, node_match=lambda a, b: a["kind"] == b["kind"] and a["label"] == b["label"]
                )
        for d in ds:
            ext = [v for v, a in d.graph.nodes(data=True) if a["kind"] == "external"]
            assert len(ext) == m
            assert nx.is_connected(d.graph)


def test_bad_statistic_and_order_raise():
    with pytest.raises(SpecError, match="statistic"):
        parse_statistic("Q")
    with pytest.raises(SpecError, match="order"):
        parse_statistic("kappa3_1")
    with pytest.raises(SpecError, match="order"):
        diagram_recursion(activation("relu"), -1)
    with pytest.raises(SpecError, match="n_inputs"):
        diagram_recursion(activation("relu"), 1, 0)


def test_cli_lists_diagrams_as_json(cli):
    out = cli("diagrams", "list", "--statistic", "V", "--order", "2", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["statistic"] == "V2" and data["count"] == len(diagrams("V2"))
    assert all("symmetry_factor" in d for d in data["diagrams"])


def test_resolve_statistic_families_and_exact_names():
    from nntheory.diagrams import resolve_statistic

    assert resolve_statistic("V", 2) == (2, 2) and resolve_statistic("kappa5", 4) == (5, 4)
    assert resolve_statistic("K1") == (1, 1) and resolve_statistic("U6", 2) == (3, 2) and resolve_statistic("U6_3") == (3, 3)
    with pytest.raises(SpecError, match="required with the statistic family"):
        resolve_statistic("V")
    with pytest.raises(SpecError, match="starts at order 1"):
        resolve_statistic("V", 0)
    with pytest.raises(SpecError, match="coefficient of 1/n\\^1"):
        resolve_statistic("V", 2 - 1 + 1) if False else resolve_statistic("K1", 2)


@pytest.mark.parametrize("old, new", [("U", "U6"), ("U3", "U6_3")])
def test_old_six_point_names_are_refused_with_the_new_name(old, new):
    """``U`` is PDLT's ddNTK tensor now: the six-point vertex answers only to ``U6`` (no silent reading)."""
    from nntheory.diagrams import parse_statistic, resolve_statistic

    with pytest.raises(SpecError, match=f"six-point vertex is now '{new}'"):
        parse_statistic(old)
    with pytest.raises(SpecError, match=f"six-point vertex is now '{new}'"):
        resolve_statistic(old, 2)
    assert statistic_name(*parse_statistic(new)) == new
