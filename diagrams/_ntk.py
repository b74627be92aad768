r"""Feynman diagrams of the NTK sector at order ``1/n``: preactivations ``z`` and the NTK ``H`` together.

Fields of layer ``l+1`` (neuron ``i``, inputs ``a, b``; PDLT conventions, learning rates ``lambda_b`` on biases and
``lambda_W/n`` on weights, :mod:`nntheory.theory.finite_width._ntk`), written in the weights ``W`` and biases ``b`` of
layer ``l+1`` and the fields of layer ``l`` (neurons ``j, m``; ``s = sigma(z)``, ``s' = sigma'(z)``)::

    z_{i;a}      = b_i + sum_j W_ij s_{j;a}
    H_{ik;ab}    = d_ik [lambda_b + (lambda_W/n) sum_j s_{j;a} s_{j;b}] + sum_{j,m} W_ij W_km s'_{j;a} s'_{m;b} H_{jm;ab}

A statistic is the ``1/n`` coefficient (or the leading term) of a joint cumulant of such fields at fixed neuron
labels, e.g. ``D_{a1a2a3a4} = n kappa(H_{ii;a1a2}, z_{k;a3}, z_{k;a4})`` (``i != k``). One *labeled term* is a
choice of one piece per field, a Wick pairing of the new weights (rows must agree; ``C_W/n`` per pair) and of the
biases (``C_b``), which ties the columns into the *neurons* of layer ``l`` (each summed with its ``1/n``), and one
correction of order ``1/n``:

* a *coincidence* of two neurons (``j = m``): the normalised double sum has ``n(n-1)`` distinct terms, so each pair
  of neurons adds ``(1/n) [<f_j f_m>_same neuron - <f_j><f_m>]``;
* an *insertion* of one layer-``l`` statistic (times ``r = n_l/n_{l-1}``): ``K1`` or ``V`` on one neuron (the mean
  shift and second-order response of its kernel), ``V`` between two neurons, ``Theta1`` on a diagonal ``H_jj``,
  ``A`` (``A + 2B`` on one neuron) between two diagonal ``H``'s, ``D`` (``D + 2F`` on the same neuron) between an
  ``H_jj`` and a neuron's kernel, ``F`` on a cross-neuron ``H_jm`` (Stein factors ``<d_e f_j> <d_f f_m>`` on both
  ends) and ``B`` on two ``H_jm`` of the same pair;
* for orthogonal weights, a *Weingarten* crossed column pairing (``-1/n`` relative to the pairing it crosses).

Each neuron's expectation is a single-neuron Gaussian integral at the kernel ``K`` (``H_jj -> Theta``); derivatives
with respect to the symmetric kernel variables give the responses, exactly as in
:mod:`nntheory.diagrams._generate`. The cumulant is the sum of the *connected* labeled terms (fields joined by weight
or bias pairs, shared neurons, insertions, coincidences, Weingarten links): the linked-cluster theorem, since the
value of a term factorises over its components. A diagram is a class of labeled terms whose graphs are isomorphic
(fields labeled, internal neurons not).

The rule table covers a term with no object of vanishing mean, one cross-neuron ``H_jm``, the pair ``H_jm H_jm``, one
dNTK object ``S`` or one ddNTK object; any other product of objects of vanishing mean (``H_jm H_mk``, ``S H_jm``, ...)
is taken as ``O(1/n^2)``, as in the hand derivation (such products are mean-zero cross-neuron fluctuations, each
``O(1/sqrt n)``, correlated only through a further layer; where the hand-derived recursions exist they are
reproduced, and those are checked against Monte Carlo).

The generated recursions of ``Theta``, ``Theta1``, ``D``, ``F``, ``A``, ``B``, the dNTK ``P, Q`` and the ddNTK ``R, S,
T, U`` (and ``K``, ``K1``, ``V``) equal the hand-derived ones of :func:`nntheory.theory.ntk_recursion` symbolically,
Gaussian and orthogonal (tests/diagrams/test_ntk_diagrams.py). The NTK mean to ``1/n^2`` is
:mod:`nntheory.diagrams._ntk_nnlo`. Fields with derivatives of the NTK (``S``, ``ddI``, ``ddII``) need a smooth
activation (the second and third derivatives as functions) and are refused for kinks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import combinations, product

import networkx as nx
import sympy

from nntheory.errors import SpecError
from nntheory.theory._activations import Activation
from nntheory.theory._gaussian import activation_function, kernel_symbols, product_mean, stein_mean
from nntheory.theory.finite_width._recursions import (
    C_W,
    C_b,
    Recursion,
    Statistic,
    V_index,
    lambda_b,
    lambda_W,
    pairs,
    r,
)

__all__ = ["NTK_DIAGRAM_STATISTICS", "NTKDiagram", "field_cumulant", "ntk_diagram_recursion", "ntk_diagrams"]

#: the statistics the NTK-sector engine generates, and the fields whose cumulant defines each (neuron labels 0 = i,
#: 1 = k, i != k; inputs by position in the array index) with the power of 1/n taken
_DEFS = {
    "K": (0, lambda a, b: (("z", 0, a), ("z", 0, b))),
    "K1": (1, lambda a, b: (("z", 0, a), ("z", 0, b))),
    "V": (1, lambda a, b, c, d: (("z", 0, a), ("z", 0, b), ("z", 1, c), ("z", 1, d))),
    "Theta": (0, lambda a, b: (("H", 0, 0, a, b),)),
    "Theta1": (1, lambda a, b: (("H", 0, 0, a, b),)),
    "D": (1, lambda a1, a2, a3, a4: (("H", 0, 0, a1, a2), ("z", 1, a3), ("z", 1, a4))),
    "F": (1, lambda a1, a3, a2, a4: (("H", 0, 1, a1, a2), ("z", 0, a3), ("z", 1, a4))),
    "A": (1, lambda a1, a2, a3, a4: (("H", 0, 0, a1, a2), ("H", 1, 1, a3, a4))),
    "B": (1, lambda a1, a3, a2, a4: (("H", 0, 1, a1, a2), ("H", 0, 1, a3, a4))),
    "P": (1, lambda d0, d1, d2, d3: (("S", 0, 0, 1, d0, d1, d2), ("z", 1, d3))),
    "Q": (1, lambda d0, d1, d2, d3: (("S", 0, 1, 1, d0, d1, d2), ("z", 0, d3))),
    "R": (1, lambda *a: (("ddI", 0, 0, 1, 1, *a),)),
    "S": (1, lambda *a: (("ddII", 0, 0, 1, 1, *a),)),
    "T": (1, lambda *a: (("ddII", 0, 1, 0, 1, *a),)),
    "U": (1, lambda *a: (("ddII", 0, 1, 1, 0, *a),)),
}
NTK_DIAGRAM_STATISTICS = tuple(_DEFS)
#: the most derivative-tensor nodes (z: 1, H: 2, S: 3, ddI and ddII: 4) the fields of :func:`field_cumulant` may have
#: together: the piece choices and Wick pairings grow factorially (six H's or three ddII's take about 8 s)
MAX_NODES = 12

# --------------------------------------------------------------------------- fields and their pieces


@dataclass(frozen=True)
class _Piece:
    """One term of a field in the new weights: coefficient, weights (row, column), biases (rows), lambda_W-sum
    columns, single-neuron functions (column, input, derivative) and layer-l objects (type, columns, inputs)."""

    kind: str
    coef: sympy.Expr
    ws: tuple = ()
    biases: tuple = ()
    lam: tuple = ()
    funcs: tuple = ()
    objs: tuple = ()


def _network(f: tuple) -> tuple[list, list]:
    """A field as a network of derivative tensors: nodes ``(neuron, input, k)`` (``k``-th derivative of
    ``z_{neuron;input}`` in the parameters) and learning-rate contractions ``((node, leg), (node, leg))``."""
    kind, rest = f[0], f[1:]
    if kind == "z":
        i, a = rest
        return [(i, a, 0)], []
    if kind == "H":
        i, k, a, b = rest
        return [(i, a, 1), (k, b, 1)], [((0, 0), (1, 0))]
    if kind == "S":  # d2 z_i0 [g_i1, g_i2]
        i0, i1, i2, d0, d1, d2 = rest
        return [(i0, d0, 2), (i1, d1, 1), (i2, d2, 1)], [((0, 0), (1, 0)), ((0, 1), (2, 0))]
    if kind == "ddI":  # d3 z_i0 [g_i1, g_i2, g_i3]
        ns, ins = rest[:4], rest[4:]
        return ([(ns[0], ins[0], 3)] + [(ns[t], ins[t], 1) for t in (1, 2, 3)],
                [((0, t - 1), (t, 0)) for t in (1, 2, 3)])
    # ddII: d2 z_i1 [g_i3, Lambda d2 z_i2 [g_i4]]
    ns, ins = rest[:4], rest[4:]
    return ([(ns[0], ins[0], 2), (ns[1], ins[1], 2), (ns[2], ins[2], 1), (ns[3], ins[3], 1)],
            [((0, 0), (2, 0)), ((0, 1), (1, 0)), ((1, 1), (3, 0))])


def _object(blocks: list, edges: list) -> tuple:
    """Classify one connected layer-l network: ``blocks`` ``(column, input, k)``, ``edges`` between block indices."""
    sizes = sorted(b[2] for b in blocks)
    nb = {x: [y for e in edges for y in e if x in e and y != x] for x in range(len(blocks))}
    col = [b[0] for b in blocks]
    inp = [b[1] for b in blocks]
    if sizes == [1, 1]:
        return ("H", (col[0], col[1]), (inp[0], inp[1]))
    if sizes == [1, 1, 2]:
        c = next(x for x in range(3) if blocks[x][2] == 2)
        x, y = nb[c]
        return ("S", (col[c], col[x], col[y]), (inp[c], inp[x], inp[y]))
    if sizes == [1, 1, 1, 3]:
        c = next(x for x in range(4) if blocks[x][2] == 3)
        x, y, z = nb[c]
        return ("ddI", (col[c], col[x], col[y], col[z]), (inp[c], inp[x], inp[y], inp[z]))
    if sizes == [1, 1, 2, 2]:
        c1, c2 = [x for x in range(4) if blocks[x][2] == 2]
        l1 = next(y for y in nb[c1] if blocks[y][2] == 1)
        l2 = next(y for y in nb[c2] if blocks[y][2] == 1)
        return ("ddII", (col[c1], col[c2], col[l1], col[l2]), (inp[c1], inp[c2], inp[l1], inp[l2]))
    raise AssertionError(f"layer-l object with derivative orders {sizes} is not in the engine")  # pragma: no cover


def _pieces(f: tuple, fi: int) -> list[_Piece]:
    """The field's expansion: each contraction is a bias (``lambda_b``), a new weight (``lambda_W/n``, one neuron of
    layer l) or an old parameter; each node without a new-parameter leg is ``sum_j W_ij d^k sigma(z_j)`` (or ``b_i +
    sum_j W_ij sigma(z_j)`` for ``z``), and ``d^k sigma(z_j)`` is expanded by Faa di Bruno into derivative tensors of
    layer l, whose contractions form the layer-l objects."""
    from nntheory.diagrams._generate import _set_partitions

    nodes, edges = _network(f)
    out = []
    for types in product(("b", "W", "old"), repeat=len(edges)):
        coef, lam, wleg, ok = sympy.Integer(1), [], {}, True
        for e, (typ, ((x, _), (y, _))) in enumerate(zip(types, edges)):
            if typ == "old":
                continue
            if nodes[x][0] != nodes[y][0] or (typ == "b" and (nodes[x][2] != 1 or nodes[y][2] != 1)):
                ok = False  # new parameters of different neurons do not meet; d/db has no further derivative
            elif typ == "W":
                if x in wleg or y in wleg:
                    ok = False  # z is linear in each neuron's weights
                col = (fi, "w", e)
                wleg[x] = wleg[y] = col
                lam.append(col)
                coef *= lambda_W
            else:
                coef *= lambda_b
        if not ok:
            continue
        btouched = {v for e, typ in enumerate(types) if typ == "b" for v in (edges[e][0][0], edges[e][1][0])}
        old_legs = {x: [] for x in range(len(nodes))}
        for e, typ in enumerate(types):
            if typ == "old":
                for (x, t) in edges[e]:
                    old_legs[x].append((x, t))
        per_node = []
        for x, (row, a, k) in enumerate(nodes):
            if x in btouched:
                per_node.append([((), (), (), ())])  # the constant d z_i / d b_i = 1
                continue
            if x in wleg:
                col, ws = wleg[x], ()
            else:
                col, ws = (fi, "c", x), ((row, (fi, "c", x)),)
            alts = []
            for part in _set_partitions(tuple(old_legs[x])):
                blocks = tuple((col, a, len(B), B) for B in part)
                alts.append((ws, (), ((col, a, len(part)),), blocks))
            if k == 0 and x not in wleg:
                alts.append(((), (row,), (), ()))  # the bias of z
            per_node.append(alts)
        for choice in product(*per_node):
            ws = tuple(w for c in choice for w in c[0])
            biases = tuple(b for c in choice for b in c[1])
            funcs = tuple(fn for c in choice for fn in c[2])
            blocks = [b for c in choice for b in c[3]]
            leg_block = {leg: bi for bi, b in enumerate(blocks) for leg in b[3]}
            uf = _UF()
            bedges = []
            for e, typ in enumerate(types):
                if typ == "old":
                    u, v = leg_block[edges[e][0]], leg_block[edges[e][1]]
                    uf.union(u, v)
                    bedges.append((u, v))
            comps = {}
            for bi in range(len(blocks)):
                comps.setdefault(uf.find(bi), []).append(bi)
            objs = []
            for members in comps.values():
                idx = {bi: t for t, bi in enumerate(members)}
                objs.append(_object([blocks[bi][:3] for bi in members],
                                    [(idx[u], idx[v]) for u, v in bedges if u in idx]))
            kind = (",".join({"b": "lambda_b", "W": "lambda_W", "old": "old"}[t] for t in types) if types
                    else ("bias" if biases else "W"))
            out.append(_Piece(kind, coef, ws, biases, tuple(lam), funcs, tuple(objs)))
    return out


def _matchings(items: list, key) -> list[list[tuple]]:
    """Perfect matchings of ``items`` (indices) pairing only items with equal ``key``."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for j, other in enumerate(rest):
        if key(first) == key(other):
            for m in _matchings(rest[:j] + rest[j + 1:], key):
                out.append([(first, other)] + m)
    return out


def _crossings(pairing: list[tuple]) -> list[list[tuple]]:
    """The column pairings one transposition away from ``pairing`` (the ``-n^{-k-1}`` Weingarten terms), each with
    the four weights the transposition couples (one Weingarten factor joins their fields)."""
    out = []
    for x, y in combinations(range(len(pairing)), 2):
        (w1, w2), (w3, w4) = pairing[x], pairing[y]
        rest = [p for t, p in enumerate(pairing) if t not in (x, y)]
        out.append((rest + [(w1, w3), (w2, w4)], (w1, w2, w3, w4)))
        out.append((rest + [(w1, w4), (w2, w3)], (w1, w2, w3, w4)))
    return out


class _UF:
    def __init__(self):
        self.p = {}

    def find(self, x):
        self.p.setdefault(x, x)
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        self.p[self.find(a)] = self.find(b)


# --------------------------------------------------------------------------- layer-l expectations


class _Context:
    """Symbols and cached single-neuron Gaussian integrals for one activation and input count."""

    def __init__(self, act: Activation, m: int):
        from nntheory.theory.finite_width._ntk import KEYS, _symbols
        from nntheory.theory.finite_width._recursions import _V_symbols

        self.act, self.m, self.s = act, m, activation_function(act)
        self.K = kernel_symbols(m, "K")
        self.K1 = kernel_symbols(m, "K1")
        self.Th = kernel_symbols(m, "Theta")
        self.Th1 = kernel_symbols(m, "Theta1")
        self.P = pairs(m)
        Vs = _V_symbols(m)
        self.V = lambda p, q: Vs[V_index(*p, *q)]
        syms = {name: _symbols(name, m) for name in ("D", "F", "A", "B")}
        self.D, self.F, self.A, self.B = (lambda *i, n=name: syms[n][KEYS[n](*i)] for name in ("D", "F", "A", "B"))
        from nntheory.theory.finite_width._ntk import _dd_symbols, _Q_key

        def digits(k):
            return "" if m == 1 else "_" + "".join(str(i + 1) for i in k)

        self.Pt = lambda *i: sympy.Symbol("P" + digits(i), real=True)
        self.Qt = lambda *i: sympy.Symbol("Q" + digits(_Q_key(*i)), real=True)
        dd = _dd_symbols(m)
        self.R, self.S, self.T, self.U = (lambda *i, n=name: dd[n][i] for name in ("R", "S", "T", "U"))
        self._mean, self._d1, self._d2, self._stein = {}, {}, {}, {}

    def mean(self, items: tuple) -> sympy.Expr:
        """``<prod s^(d)(z_a)>_K`` over ``items = ((a, d), ...)`` (sorted); 1 for no items."""
        if items not in self._mean:
            self._mean[items] = product_mean(self.s, self.K, items)
        return self._mean[items]

    def d1(self, items: tuple) -> dict:
        """``d<f>/dK_q`` for every symmetric kernel variable ``q``."""
        if items not in self._d1:
            e = self.mean(items)
            self._d1[items] = {q: sympy.diff(e, self.K[q]) for q in self.P}
        return self._d1[items]

    def d2(self, items: tuple) -> dict:
        if items not in self._d2:
            d1 = self.d1(items)
            self._d2[items] = {(q, s): sympy.diff(d1[q], self.K[s]) if d1[q] != 0 else sympy.Integer(0)
                               for q in self.P for s in self.P}
        return self._d2[items]

    def stein(self, e: int, items: tuple) -> sympy.Expr:
        """``<d/dz_e f>`` by Stein's lemma over the inputs of ``f`` (valid for kinks)."""
        key = (e, items)
        if key not in self._stein:
            self._stein[key] = stein_mean(self.s, self.K, e, items)
        return self._stein[key]


@lru_cache(maxsize=16)
def _context(act: Activation, m: int) -> _Context:
    return _Context(act, m)


@dataclass
class _Config:
    """Neurons of layer l after the pairings: functions per neuron, layer-l objects ``(type, neurons, inputs)``."""

    funcs: dict  # neuron -> sorted tuple of (input, derivative)
    objs: list

    def merged(self, x, y) -> "_Config":
        def ren(c):
            return x if c == y else c
        funcs = {c: f for c, f in self.funcs.items() if c != y}
        funcs[x] = tuple(sorted(self.funcs[x] + self.funcs[y]))
        return _Config(funcs, [(t, tuple(ren(c) for c in cs), ins) for t, cs, ins in self.objs])


def _is_mean(o) -> bool:
    """Whether a layer-l object has a leading (order-1) mean: only a same-neuron NTK ``H_jj``."""
    return o[0] == "H" and o[1][0] == o[1][1]


def _lead(ctx: _Context, cfg: _Config, skip_c=(), skip_o=()) -> sympy.Expr:
    """Leading value ``prod_neurons <f> prod Theta`` (0 with any object of vanishing mean), skipping some factors."""
    out = sympy.Integer(1)
    for t, o in enumerate(cfg.objs):
        if t in skip_o:
            continue
        if not _is_mean(o):
            return sympy.Integer(0)
        out *= ctx.Th[o[2]]
    for c, items in cfg.funcs.items():
        if c not in skip_c:
            out *= ctx.mean(items)
    return out


def _delta(*pairs_) -> bool:
    return all(x == y for x, y in pairs_)


def _insertions(ctx: _Context, cfg: _Config):
    """The one-insertion terms ``(label, linked neurons, value)`` (value without the factor ``r``)."""
    P = ctx.P
    diag = [t for t, o in enumerate(cfg.objs) if _is_mean(o)]
    rest_objs = [t for t, o in enumerate(cfg.objs) if not _is_mean(o)]
    neurons = sorted(cfg.funcs)
    if rest_objs:
        kinds = [cfg.objs[t][0] for t in rest_objs]
        skip = tuple(rest_objs)
        if kinds == ["H"]:
            _, (c, c2), (a, b) = cfg.objs[rest_objs[0]]
            fc, fc2 = cfg.funcs[c], cfg.funcs[c2]
            val = sympy.Add(*[ctx.F(a, e, b, f) * ctx.stein(e, fc) * ctx.stein(f, fc2)
                              for e in sorted({x for x, _ in fc}) for f in sorted({x for x, _ in fc2})])
            yield "F", (c, c2), val * _lead(ctx, cfg, skip_c=(c, c2), skip_o=skip)
        elif kinds == ["H", "H"]:
            (_, (c, c2), (a, b)), (_, (x1, x2), (u, v)) = cfg.objs[rest_objs[0]], cfg.objs[rest_objs[1]]
            if {c, c2} == {x1, x2}:
                if x1 != c:
                    u, v = v, u
                yield "B", (c, c2), ctx.B(a, u, b, v) * _lead(ctx, cfg, skip_o=skip)
        elif kinds == ["S"]:
            _, (c0, c1, c2), (d0, d1, d2) = cfg.objs[rest_objs[0]]
            for c3 in neurons:
                fc = cfg.funcs[c3]
                val = sympy.Integer(0)
                fired = [nm for nm, ok in (("P", _delta((c0, c1), (c2, c3))), ("P", _delta((c0, c2), (c1, c3))),
                                           ("Q", _delta((c0, c3), (c1, c2)))) if ok]
                for e in sorted({x for x, _ in fc}):
                    coef = ((ctx.Pt(d0, d1, d2, e) if _delta((c0, c1), (c2, c3)) else 0)
                            + (ctx.Pt(d0, d2, d1, e) if _delta((c0, c2), (c1, c3)) else 0)
                            + (ctx.Qt(d0, d1, d2, e) if _delta((c0, c3), (c1, c2)) else 0))
                    if coef != 0:
                        val += coef * ctx.stein(e, fc)
                if val != 0:
                    yield "+".join(fired), (c0, c1, c2, c3), val * _lead(ctx, cfg, skip_c=(c3,), skip_o=skip)
        elif kinds == ["ddI"]:
            _, (c0, c1, c2, c3), (a0, a1, a2, a3) = cfg.objs[rest_objs[0]]
            val = ((ctx.R(a0, a1, a2, a3) if _delta((c0, c1), (c2, c3)) else 0)
                   + (ctx.R(a0, a2, a1, a3) if _delta((c0, c2), (c1, c3)) else 0)
                   + (ctx.R(a0, a3, a1, a2) if _delta((c0, c3), (c1, c2)) else 0))
            n_r = sum(map(bool, (_delta((c0, c1), (c2, c3)), _delta((c0, c2), (c1, c3)), _delta((c0, c3), (c1, c2)))))
            yield ("R" if n_r == 1 else f"{n_r}R"), (c0, c1, c2, c3), val * _lead(ctx, cfg, skip_o=skip)
        elif kinds == ["ddII"]:
            _, (c1, c2, c3, c4), ins = cfg.objs[rest_objs[0]]
            val = ((ctx.S(*ins) if _delta((c1, c2), (c3, c4)) else 0)
                   + (ctx.T(*ins) if _delta((c1, c3), (c2, c4)) else 0)
                   + (ctx.U(*ins) if _delta((c1, c4), (c2, c3)) else 0))
            fired = [nm for nm, ok in (("S", _delta((c1, c2), (c3, c4))), ("T", _delta((c1, c3), (c2, c4))),
                                       ("U", _delta((c1, c4), (c2, c3)))) if ok]
            yield "+".join(fired) or "STU", (c1, c2, c3, c4), val * _lead(ctx, cfg, skip_o=skip)
        # any other product of objects of vanishing mean is O(1/n^2) (module docstring)
        return
    for c in neurons:
        d1, d2 = ctx.d1(cfg.funcs[c]), ctx.d2(cfg.funcs[c])
        rest = _lead(ctx, cfg, skip_c=(c,))
        yield "K1", (c,), rest * sympy.Add(*[ctx.K1[q] * d1[q] for q in P if d1[q] != 0])
        yield "V", (c,), rest * sympy.Add(*[ctx.V(q, s) * d2[(q, s)] for q in P for s in P if d2[(q, s)] != 0]) / 2
    for c, c2 in combinations(neurons, 2):
        u, w = ctx.d1(cfg.funcs[c]), ctx.d1(cfg.funcs[c2])
        val = sympy.Add(*[u[q] * w[s] * ctx.V(q, s) for q in P for s in P if u[q] != 0 and w[s] != 0])
        yield "V", (c, c2), val * _lead(ctx, cfg, skip_c=(c, c2))
    for t in diag:
        _, (c, _), (a, b) = cfg.objs[t]
        yield "Theta1", (c,), ctx.Th1[a, b] * _lead(ctx, cfg, skip_o=(t,))
    for t, t2 in combinations(diag, 2):
        (_, (c, _), (a, b)), (_, (c2, _), (x, y)) = cfg.objs[t], cfg.objs[t2]
        cov = ctx.A(a, b, x, y)
        if c == c2:
            cov += ctx.B(a, x, b, y) + ctx.B(a, y, b, x)
        yield ("A+2B" if c == c2 else "A"), (c, c2), cov * _lead(ctx, cfg, skip_o=(t, t2))
    for t in diag:
        _, (ch, _), (a, b) = cfg.objs[t]
        for c in neurons:
            d1 = ctx.d1(cfg.funcs[c])
            val = sympy.Add(*[(ctx.D(a, b, *q) + ((ctx.F(a, q[0], b, q[1]) + ctx.F(a, q[1], b, q[0])) if c == ch else 0))
                              * d1[q] for q in P if d1[q] != 0])
            yield ("D+2F" if c == ch else "D"), (ch, c), val * _lead(ctx, cfg, skip_c=(c,), skip_o=(t,))


# --------------------------------------------------------------------------- labeled terms


@dataclass(frozen=True)
class _Term:
    """One labeled term of a cumulant: its order, value and what its graph needs."""

    order: int
    value: sympy.Expr
    pieces: tuple
    neurons: tuple  # (neuron, fields touching it, its functions)
    objs: tuple
    bias_pairs: tuple
    correction: tuple  # (kind, label, neurons) or ()


def _connected(nf: int, links) -> bool:
    uf = _UF()
    for f in range(nf):
        uf.find(f)
    for group in links:
        group = list(group)
        for g in group[1:]:
            uf.union(group[0], g)
    return len({uf.find(f) for f in range(nf)}) == 1


@dataclass
class _Wick:
    """One choice of pieces with one pairing of their new weights and biases: the neurons of layer l it leaves."""

    pieces: tuple
    ws: list  # ((row, column), field) of every new weight
    crossed: tuple | None  # the four weights a Weingarten transposition couples, or None
    bias_links: list  # (field, field) of every bias pair
    weight: sympy.Expr  # coefficient, C_b per bias pair, C_W per weight pair
    find: object  # column -> its neuron
    funcs: dict  # neuron -> sorted ((input, derivative), ...)
    touch: dict  # neuron -> fields with a weight or lambda_W leg in it
    objs: list  # layer-l objects (type, neurons, inputs)


def _wick(fields: tuple, init: str):
    """Every piece choice and pairing of the fields' new weights and biases (rows must agree; ``C_W/n`` per weight
    pair, ``C_b`` per bias pair; orthogonal weights add the Weingarten transpositions), with the neurons it leaves."""
    for pieces in product(*[_pieces(f, fi) for fi, f in enumerate(fields)]):
        coef = sympy.Mul(*[p.coef for p in pieces])
        ws = [(w, fi) for fi, p in enumerate(pieces) for w in p.ws]
        bs = [(row, fi) for fi, p in enumerate(pieces) for row in p.biases]
        for bpair in _matchings(list(range(len(bs))), key=lambda t: bs[t][0]):
            bias_links = [(bs[x][1], bs[y][1]) for x, y in bpair]
            for wpair in _matchings(list(range(len(ws))), key=lambda t: ws[t][0][0]):
                alts = [(wpair, None)]
                if init == "orthogonal":
                    alts += _crossings(wpair)
                for pairing, crossed in alts:
                    uf = _UF()
                    for x, y in pairing:
                        uf.union(ws[x][0][1], ws[y][0][1])
                    funcs, touch, objs = {}, {}, []
                    for c in [w[0][1] for w in ws] + [c for p in pieces for c in p.lam]:
                        funcs.setdefault(uf.find(c), [])
                        touch.setdefault(uf.find(c), set()).add(c[0])
                    for p in pieces:
                        for c, a, d in p.funcs:
                            funcs[uf.find(c)].append((a, d))
                        for typ, cs, ins in p.objs:
                            objs.append((typ, tuple(uf.find(c) for c in cs), ins))
                    yield _Wick(pieces, ws, crossed, bias_links, coef * C_b ** len(bpair) * C_W ** len(pairing),
                                uf.find, {c: tuple(sorted(f)) for c, f in funcs.items()}, touch, objs)


def _terms(ctx: _Context, fields: tuple, init: str):
    """Every connected labeled term of the joint cumulant of ``fields``, to order ``1/n``."""
    for w in _wick(fields, init):
        yield from _pairing_terms(ctx, w, len(fields))


def _pairing_terms(ctx, w: _Wick, nf: int):
    """The connected terms of one Wick configuration: its leading term, its insertions and neuron coincidences, or
    (a Weingarten transposition) its crossed leading term."""
    pieces, ws, crossed, bias_links, weight = w.pieces, w.ws, w.crossed, w.bias_links, w.weight
    funcs, touch, objs = w.funcs, w.touch, w.objs
    cfg = _Config(dict(funcs), objs)
    base_links = (bias_links + [tuple(t) for t in touch.values()]
                  + [tuple(f for c in cs for f in touch[c]) for _, cs, _ in objs])  # a layer-l object joins its neurons
    neurons = tuple((c, tuple(sorted(touch[c])), cfg.funcs[c]) for c in sorted(funcs))
    objs_t = tuple(objs)

    def term(order, value, correction=()):
        return _Term(order, value, tuple(p.kind for p in pieces), neurons, objs_t, tuple(bias_links), correction)

    if crossed is not None:
        if _connected(nf, base_links + [tuple(ws[x][1] for x in crossed)]):
            v = _lead(ctx, cfg)
            if v != 0:
                links = tuple(sorted({w.find(ws[x][0][1]) for x in crossed}, key=str))
                yield term(1, -weight * v, ("weingarten", "Wg", links))
        return
    if _connected(nf, base_links):
        v = _lead(ctx, cfg)
        if v != 0:
            yield term(0, weight * v)
    for label, links, val in _insertions(ctx, cfg):
        if val != 0 and _connected(nf, base_links + [tuple(f for c in links for f in touch[c])]):
            yield term(1, weight * r * val, ("insertion", label, links))
    for x, y in combinations(sorted(funcs), 2):
        if not _connected(nf, base_links + [tuple(touch[x] | touch[y])]):
            continue
        val = _lead(ctx, cfg.merged(x, y)) - _lead(ctx, cfg)
        if val != 0:
            yield term(1, weight * val, ("coincidence", "delta", (x, y)))


def _check_smooth(act, fields: tuple, where: str) -> None:
    """Fields with derivatives of the NTK need the second and third derivatives of sigma as functions."""
    if not isinstance(act, Activation):
        raise SpecError(f"{where}: act must be an Activation (nntheory.theory.activation), got {act!r}.")
    kinds = sorted({f[0] for f in fields if f[0] in ("S", "ddI", "ddII")})
    if kinds and not act.is_smooth:
        raise SpecError(f"{where}: fields {', '.join(kinds)} (the dNTK and ddNTK) need the second and third derivatives "
                        f"of the activation as functions; {act.name!r} has kinks. Use a smooth activation.")


def _check_fields(fields, m: int) -> tuple:
    if not isinstance(fields, (list, tuple)):
        raise SpecError(f"fields: a list of fields such as [('H', 0, 1, 0, 0), ('z', 0, 0)], got {fields!r}.")
    out = []
    for f in fields:
        f = tuple(f) if isinstance(f, (tuple, list)) else (f,)
        k = _FIELD_NEURONS.get(f[0]) if f and isinstance(f[0], str) else None
        ok = k is not None and len(f) == 1 + k + (1 if f[0] == "z" else k if f[0] != "H" else 2)
        if ok:
            nums = f[1:]
            ok = all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in nums)
            ok = ok and all(x < m for x in f[1 + k:])
        if not ok:
            raise SpecError("fields: each must be ('z', i, a), ('H', i, k, a, b), ('S', i0, i1, i2, d0, d1, d2), "
                            "('ddI', i0, i1, i2, i3, a0, a1, a2, a3) or ('ddII', i1, i2, i3, i4, a1, a2, a3, a4) with "
                            f"ints >= 0 and inputs below n_inputs={m}; got {f!r}.")
        out.append(f)
    nodes = sum(len(_network(f)[0]) for f in out)
    if not out or nodes > MAX_NODES:
        raise SpecError(f"fields: need at least one field and at most {MAX_NODES} derivative-tensor nodes in all (z: 1, "
                        f"H: 2, S: 3, ddI, ddII: 4), got {len(out)} fields with {nodes} (the Wick pairings grow "
                        "factorially).")
    return tuple(out)


def field_cumulant(act: Activation, fields, n_inputs: int = 1, init: str = "gaussian") -> tuple[sympy.Expr, sympy.Expr]:
    """The joint cumulant of layer-``l+1`` fields to order ``1/n``, from the NTK-sector diagrams.

    Args:
        act: the activation.
        fields: ``("z", i, a)`` for ``z_{i;a}`` and ``("H", i, k, a, b)`` for ``H_{ik;ab}``; ``i, k`` neuron labels
            (equal labels: the same neuron, different labels: different neurons), ``a, b`` inputs (0-based).
        n_inputs: the number of inputs.
        init: ``"gaussian"`` or ``"orthogonal"`` (square hidden layers: set ``r = 1``).

    Returns:
        ``(c0, c1)``: the cumulant is ``c0 + c1/n + O(1/n^2)`` in the layer-``l`` symbols (``K``, ``K1``, ``V``,
        ``Theta``, ``Theta1``, ``D``, ``F``, ``A``, ``B``), ``C_W``, ``C_b``, ``lambda_b``, ``lambda_W`` and ``r``.

    Example:
        >>> from nntheory.theory import activation
        >>> field_cumulant(activation("relu"), [("H", 0, 1, 0, 0), ("H", 0, 1, 0, 0)])[1]
        B*C_W**2*r/4 + C_W**2*Theta**2/2
    """
    from nntheory._checks import check_int
    from nntheory.theory.finite_width._recursions import _check_init

    m = check_int(n_inputs, "n_inputs", lo=1, where="field_cumulant")
    init = _check_init(init, "field_cumulant")
    fields = _check_fields(fields, m)
    _check_smooth(act, fields, "field_cumulant")
    return _cumulant(act, m, fields, init)


@lru_cache(maxsize=4096)
def _cumulant(act: Activation, m: int, fields: tuple, init: str) -> tuple[sympy.Expr, sympy.Expr]:
    ctx = _context(act, m)
    c = [sympy.Integer(0), sympy.Integer(0)]
    for t in _terms(ctx, fields, init):
        c[t.order] += t.value
    return c[0], c[1]


def _statistic_value(act, m, name, idx, init):
    order, make = _DEFS[name]
    fields = make(*idx)
    c0, c1 = _cumulant(act, m, fields, init)
    if name not in ("K1", "Theta1") and order == 1 and c0 != 0:
        raise AssertionError(f"{name}{idx}: leading term {c0} should vanish")  # pragma: no cover - a bug, not input
    return c1 if order == 1 else c0


def _refuse(statistic) -> None:
    if not isinstance(statistic, str) or statistic not in _DEFS:
        raise SpecError(f"statistic must be one of {', '.join(NTK_DIAGRAM_STATISTICS)}, got {statistic!r}.")


def ntk_diagram_recursion(act: Activation, n_inputs: int = 1, dntk: bool = False, ddntk: bool = False,
                          init: str = "gaussian") -> Recursion:
    """The recursions of ``K, V, K1, Theta, Theta1, D, F, A, B`` (``P, Q`` with ``dntk``, ``R, S, T, U`` with
    ``ddntk``) generated from the NTK-sector diagrams.

    Same statistics, symbols, array layouts and first-layer values as :func:`nntheory.theory.ntk_recursion`
    (whose hand-derived updates these equal symbolically); compile it with :func:`nntheory.numerics.compile_recursion`.

    Args:
        act: the activation (smooth for ``dntk``/``ddntk``).
        n_inputs: the number of inputs.
        dntk: also the dNTK tensors ``P, Q``.
        ddntk: also the ddNTK tensors ``R, S, T, U`` (implies ``dntk``).
        init: ``"gaussian"`` or ``"orthogonal"`` (Weingarten diagrams; square hidden layers, ``r = 1``).
    Returns:
        A :class:`~nntheory.theory.Recursion`.
    Raises:
        SpecError: ``n_inputs`` not an int >= 1, an unknown ``init``, ``dntk``/``ddntk`` with an activation with kinks.
    """
    from nntheory._checks import check_int
    from nntheory.theory.finite_width._recursions import _check_init

    m = check_int(n_inputs, "n_inputs", lo=1, where="ntk_diagram_recursion")
    init = _check_init(init, "ntk_diagram_recursion")
    return _ntk_diagram_recursion(act, m, bool(dntk) or bool(ddntk), bool(ddntk), init)


@lru_cache(maxsize=32)
def _ntk_diagram_recursion(act: Activation, m: int, dntk: bool, ddntk: bool, init: str) -> Recursion:
    from nntheory.theory.finite_width._ntk import _ntk_recursion
    from nntheory.theory.finite_width._recursions import _square

    hand = _ntk_recursion(act, m, dntk, ddntk, init)  # the conventions: symbols, layouts, first-layer values
    stats = []
    for s in hand.statistics:
        shape = s.symbols.shape
        idxs = list(product(range(m), repeat=len(shape)))
        seen = {}
        vals = []
        for idx in idxs:
            key = s.symbols[idx]  # equal symbols: equal canonical components
            if key not in seen:
                seen[key] = _statistic_value(act, m, s.name, idx, init)
            vals.append(seen[key])
        upd = sympy.ImmutableDenseNDimArray(vals, shape)
        stats.append(Statistic(s.name, s.order, s.description + " (from the NTK-sector diagrams)", s.symbols, upd, s.initial))
    stats = tuple(stats)
    if init == "orthogonal":
        stats = _square(stats)
    return Recursion(activation=act, n_inputs=m, statistics=stats, gram=hand.gram, init=init)


# --------------------------------------------------------------------------- diagrams: classes of labeled terms


_FIELD_NEURONS = {"z": 1, "H": 2, "S": 3, "ddI": 4, "ddII": 4}


def _field_text(f: tuple) -> str:
    names = "iklm"
    k = _FIELD_NEURONS[f[0]]
    return f[0] + "_" + "".join(names[x] for x in f[1:1 + k])


def _object_text(o: tuple, names: dict | None) -> str:
    """``H(j0,j1)``, ``Theta(j0)`` (a same-neuron NTK at its mean), ``S(j0,j1,j1)``, ...; shape only without names."""
    if _is_mean(o):
        return "Theta" + (f"({names[o[1][0]]})" if names else "")
    if names is None:
        first = {}
        for c in o[1]:
            first.setdefault(c, "abcd"[len(first)])
        return o[0] + "(" + ",".join(first[c] for c in o[1]) + ")"
    return o[0] + "(" + ",".join(names[c] for c in o[1]) + ")"


def _graph(fields: tuple, t: _Term) -> nx.MultiGraph:
    """Nodes ``("field", f)``, ``("neuron", x)``, ``("bias", x)``, ``("obj", x)``, ``("corr", 0)`` (ints x)."""
    g = nx.MultiGraph()
    ids = {c: x for x, (c, _, _) in enumerate(t.neurons)}
    for fi, (f, kind) in enumerate(zip(fields, t.pieces)):
        g.add_node(("field", fi), kind="field", label=(fi, _field_text(f), kind))
    for c, touch, items in t.neurons:
        g.add_node(("neuron", ids[c]), kind="neuron", label=tuple(sorted(d for _, d in items)))
        for fi in sorted(touch):
            g.add_edge(("field", fi), ("neuron", ids[c]))
    for x, (fi, fj) in enumerate(t.bias_pairs):
        g.add_node(("bias", x), kind="bias", label="C_b")
        g.add_edge(("field", fi), ("bias", x))
        g.add_edge(("field", fj), ("bias", x))
    for x, o in enumerate(t.objs):
        g.add_node(("obj", x), kind="object", label=_object_text(o, None))
        for c in o[1]:
            g.add_edge(("obj", x), ("neuron", ids[c]))
    if t.correction:
        kind, label, links = t.correction
        g.add_node(("corr", 0), kind=kind, label=label)
        for c in sorted(set(links), key=str):
            g.add_edge(("corr", 0), ("neuron", ids[c]))
    return g


def _match(a, b) -> bool:
    return a["kind"] == b["kind"] and a["label"] == b["label"]


@dataclass(frozen=True)
class NTKDiagram:
    """One NTK-sector diagram: its graph (fields, layer-l neurons, NTK factors, the correction), a labeled
    representative and how many labeled terms it stands for (``multiplicity``, the sign of the correction included
    in ``symmetry_factor``). ``value`` is the sum of its labeled terms at one input (``K``, ``Theta``, ... scalars)."""

    statistic: str
    fields: tuple
    graph: nx.MultiGraph = field(compare=False, repr=False)
    term: _Term = field(compare=False, repr=False)
    multiplicity: int = 1
    symmetry_factor: Fraction = Fraction(1)
    value: sympy.Expr = field(compare=False, default=sympy.Integer(0))

    def describe(self) -> str:
        t = self.term
        parts = [" ".join(f"{_field_text(f)}[{k}]" for f, k in zip(self.fields, t.pieces))]
        names = {c: f"j{x}" for x, (c, _, _) in enumerate(t.neurons)}
        ns = []
        for c, touch, items in t.neurons:
            fn = "".join("s" + "'" * d for _, d in items) or "1"
            ns.append(f"{names[c]}:{fn}")
        parts.append("neurons " + " ".join(ns))
        if t.objs:
            parts.append("objects " + " ".join(_object_text(o, names) for o in t.objs))
        if t.bias_pairs:
            parts.append(f"C_b x{len(t.bias_pairs)}")
        if t.correction:
            kind, label, links = t.correction
            parts.append(f"{kind} {label}(" + ",".join(names[c] for c in links) + ")")
        return f"{self.symmetry_factor!s:>4}  " + "; ".join(parts)

    def to_dict(self) -> dict:
        t = self.term
        return {"statistic": self.statistic, "fields": [_field_text(f) for f in self.fields],
                "pieces": list(t.pieces), "multiplicity": self.multiplicity,
                "symmetry_factor": str(self.symmetry_factor),
                "neurons": [{"fields": list(touch), "derivatives": [d for _, d in items]} for _, touch, items in t.neurons],
                "objects": [_object_text(o, None) for o in t.objs], "bias_pairs": len(t.bias_pairs),
                "correction": ({"kind": t.correction[0], "label": t.correction[1], "neurons": len(t.correction[2])}
                               if t.correction else None)}


def ntk_diagrams(statistic: str, init: str = "gaussian", act: Activation | None = None) -> tuple[NTKDiagram, ...]:
    """The diagrams of an NTK-sector statistic (``Theta, Theta1, D, F, A, B, P, Q, R, S, T, U``, also ``K, K1, V``)
    at one input.

    Args:
        statistic: one of :data:`NTK_DIAGRAM_STATISTICS`.
        init: ``"gaussian"`` or ``"orthogonal"`` (adds the Weingarten diagrams).
        act: the activation used for the ``value`` of each diagram (default: ``tanh``); the diagrams themselves
            do not depend on it, except that a diagram whose value vanishes identically is dropped.
    Returns:
        A tuple of :class:`NTKDiagram`, deterministic order; their values sum to the update of the statistic.
    Raises:
        SpecError: an unknown statistic or init; ``P, Q, R, S, T, U`` with an activation that has kinks.
    """
    from nntheory.theory import activation
    from nntheory.theory.finite_width._recursions import _check_init

    _refuse(statistic)
    init = _check_init(init, "ntk_diagrams")
    act = act if act is not None else activation("tanh")
    _check_smooth(act, _DEFS[statistic][1](*([0] * (2 if statistic in ("K", "K1", "Theta", "Theta1") else 4))),
                  "ntk_diagrams")
    return _ntk_diagrams(statistic, init, act)


@lru_cache(maxsize=64)
def _ntk_diagrams(statistic: str, init: str, act: Activation) -> tuple[NTKDiagram, ...]:
    order, make = _DEFS[statistic]
    fields = make(*([0] * (2 if statistic in ("K", "K1", "Theta", "Theta1") else 4)))
    ctx = _context(act, 1)
    buckets: dict = {}
    for t in _terms(ctx, fields, init):
        if t.order != order:
            continue
        g = _graph(fields, t)
        key = tuple(sorted(Counter((d["kind"], str(d["label"]), g.degree(v)) for v, d in g.nodes(data=True)).items()))
        for entry in buckets.setdefault(key, []):
            if nx.is_isomorphic(entry[0], g, node_match=_match):
                entry[2] += 1
                entry[3] += t.value
                break
        else:
            buckets[key].append([g, t, 1, t.value])
    out = []
    for key in sorted(buckets, key=str):
        for g, t, mult, val in buckets[key]:
            sign = -1 if t.correction and t.correction[0] == "weingarten" else 1
            out.append(NTKDiagram(statistic, fields, g, t, mult, Fraction(sign * mult), sympy.expand(val)))
    return tuple(out)
