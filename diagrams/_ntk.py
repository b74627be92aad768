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

The generated recursions of ``Theta``, ``Theta1``, ``D``, ``F``, ``A``, ``B`` (and ``K``, ``K1``, ``V``) equal the
hand-derived ones of :func:`nntheory.theory.ntk_recursion` symbolically, Gaussian and orthogonal
(tests/finite_width/test_ntk_diagrams.py). Not here: the dNTK and ddNTK tensors ``P, Q, R, S, T, U`` and orders
beyond ``1/n`` (the NTK mean at ``1/n^2`` needs the ``1/n^2`` statistics of layer ``l`` and two-insertion terms).
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
from nntheory.theory._gaussian import GaussianExpectation, activation_function, kernel_symbols, sub_kernel
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
}
NTK_DIAGRAM_STATISTICS = tuple(_DEFS)
_NOT_YET = ("P", "Q", "R", "S", "T", "U")

# --------------------------------------------------------------------------- fields and their pieces


@dataclass(frozen=True)
class _Piece:
    """One term of a field in the new weights: coefficient, weights (row, column), biases (rows), lambda-sum
    columns, single-neuron functions (column, input, derivative) and layer-l NTK factors (col, col, in, in)."""

    kind: str
    coef: sympy.Expr
    ws: tuple = ()
    biases: tuple = ()
    lam: tuple = ()
    funcs: tuple = ()
    hs: tuple = ()


def _pieces(f: tuple, fi: int) -> list[_Piece]:
    if f[0] == "z":
        _, i, a = f
        c = (fi, 0)
        return [_Piece("b", sympy.Integer(1), biases=(i,)), _Piece("W", sympy.Integer(1), ws=((i, c),), funcs=((c, a, 0),))]
    _, i, k, a, b = f
    c0, c1 = (fi, 0), (fi, 1)
    out = []
    if i == k:
        out.append(_Piece("lambda_b", lambda_b))
        out.append(_Piece("lambda_W", lambda_W, lam=(c0,), funcs=((c0, a, 0), (c0, b, 0))))
    out.append(_Piece("WW", sympy.Integer(1), ws=((i, c0), (k, c1)), funcs=((c0, a, 1), (c1, b, 1)), hs=((c0, c1, a, b),)))
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
        self._mean, self._d1, self._d2, self._stein = {}, {}, {}, {}

    def mean(self, items: tuple) -> sympy.Expr:
        """``<prod s^(d)(z_a)>_K`` over ``items = ((a, d), ...)`` (sorted); 1 for no items."""
        if items not in self._mean:
            if not items:
                self._mean[items] = sympy.Integer(1)
            else:
                distinct = sorted({a for a, _ in items})
                zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
                f = sympy.Mul(*[sympy.diff(self.s(zs[distinct.index(a)]), zs[distinct.index(a)], d) for a, d in items])
                self._mean[items] = GaussianExpectation(f, zs, sub_kernel(self.K, distinct)).doit()
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
        """``<d/dz_e f>`` by Stein's lemma, ``sum_c (K^-1)_{ec} <z_c f>`` over the inputs of ``f`` (valid for kinks)."""
        key = (e, items)
        if key not in self._stein:
            distinct = sorted({a for a, _ in items})
            if e not in distinct:
                self._stein[key] = sympy.Integer(0)
            else:
                zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
                Ks = sub_kernel(self.K, distinct)
                inv = Ks.inv()
                f = sympy.Mul(*[sympy.diff(self.s(zs[distinct.index(a)]), zs[distinct.index(a)], d) for a, d in items])
                ie = distinct.index(e)
                self._stein[key] = sympy.Add(*[inv[ie, c] * GaussianExpectation(zs[c] * f, zs, Ks).doit()
                                               for c in range(len(distinct))])
        return self._stein[key]


@lru_cache(maxsize=16)
def _context(act: Activation, m: int) -> _Context:
    return _Context(act, m)


@dataclass
class _Config:
    """Neurons of layer l after the pairings: functions per neuron, NTK factors, which fields touch each neuron."""

    funcs: dict  # neuron -> sorted tuple of (input, derivative)
    hs: list  # (neuron, neuron, a, b)
    touch: dict  # neuron -> set of field indices

    def merged(self, x, y) -> "_Config":
        ren = (lambda c: x if c == y else c)
        funcs = {c: f for c, f in self.funcs.items() if c != y}
        funcs[x] = tuple(sorted(self.funcs[x] + self.funcs[y]))
        return _Config(funcs, [(ren(c1), ren(c2), a, b) for c1, c2, a, b in self.hs], {})


def _lead(ctx: _Context, cfg: _Config, skip_c=(), skip_h=()) -> sympy.Expr:
    """Leading value ``prod_neurons <f> prod_diag Theta`` (0 with a cross-neuron ``H``), skipping some factors."""
    out = sympy.Integer(1)
    for t, (c1, c2, a, b) in enumerate(cfg.hs):
        if t in skip_h:
            continue
        if c1 != c2:
            return sympy.Integer(0)
        out *= ctx.Th[a, b]
    for c, items in cfg.funcs.items():
        if c not in skip_c:
            out *= ctx.mean(items)
    return out


def _insertions(ctx: _Context, cfg: _Config):
    """The one-insertion terms ``(label, links, value)`` (value without the factor ``r``)."""
    P = ctx.P
    diag = [t for t, h in enumerate(cfg.hs) if h[0] == h[1]]
    off = [t for t, h in enumerate(cfg.hs) if h[0] != h[1]]
    neurons = sorted(cfg.funcs)
    if off:
        if len(off) == 1:
            c, c2, a, b = cfg.hs[off[0]]
            fc, fc2 = cfg.funcs[c], cfg.funcs[c2]
            val = sympy.Add(*[ctx.F(a, e, b, f) * ctx.stein(e, fc) * ctx.stein(f, fc2)
                              for e in sorted({x for x, _ in fc}) for f in sorted({x for x, _ in fc2})])
            yield "F", (c, c2), val * _lead(ctx, cfg, skip_c=(c, c2), skip_h=tuple(off))
        elif len(off) == 2:
            (c, c2, a, b), (x1, x2, u, v) = cfg.hs[off[0]], cfg.hs[off[1]]
            if {c, c2} == {x1, x2}:
                if x1 != c:
                    u, v = v, u
                yield "B", (c, c2), (ctx.B(a, u, b, v) * ctx.mean(cfg.funcs[c]) * ctx.mean(cfg.funcs[c2])
                                     * _lead(ctx, cfg, skip_c=(c, c2), skip_h=tuple(off)))
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
        c, _, a, b = cfg.hs[t]
        yield "Theta1", (c,), ctx.Th1[a, b] * _lead(ctx, cfg, skip_h=(t,))
    for t, t2 in combinations(diag, 2):
        (c, _, a, b), (c2, _, x, y) = cfg.hs[t], cfg.hs[t2]
        cov = ctx.A(a, b, x, y)
        if c == c2:
            cov += ctx.B(a, x, b, y) + ctx.B(a, y, b, x)
        yield ("A+2B" if c == c2 else "A"), (c, c2), cov * _lead(ctx, cfg, skip_h=(t, t2))
    for t in diag:
        ch, _, a, b = cfg.hs[t]
        for c in neurons:
            d1 = ctx.d1(cfg.funcs[c])
            val = sympy.Add(*[(ctx.D(a, b, *q) + ((ctx.F(a, q[0], b, q[1]) + ctx.F(a, q[1], b, q[0])) if c == ch else 0))
                              * d1[q] for q in P if d1[q] != 0])
            yield ("D+2F" if c == ch else "D"), (ch, c), val * _lead(ctx, cfg, skip_c=(c,), skip_h=(t,))


# --------------------------------------------------------------------------- labeled terms


@dataclass(frozen=True)
class _Term:
    """One labeled term of a cumulant: its order, value and what its graph needs."""

    order: int
    value: sympy.Expr
    pieces: tuple
    neurons: tuple  # (neuron, fields touching it, its functions)
    hs: tuple
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


def _terms(ctx: _Context, fields: tuple, init: str):
    """Every connected labeled term of the joint cumulant of ``fields``, to order ``1/n``."""
    nf = len(fields)
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
                    weight = coef * C_b ** len(bpair) * C_W ** len(pairing)
                    yield from _pairing_terms(ctx, pieces, ws, pairing, crossed, bias_links, weight, nf)


def _pairing_terms(ctx, pieces, ws, pairing, crossed, bias_links, weight, nf):
    uf = _UF()
    for x, y in pairing:
        uf.union(ws[x][0][1], ws[y][0][1])
    funcs, touch, hs = {}, {}, []
    cols = [w[0][1] for w in ws] + [c for p in pieces for c in p.lam]
    for c in cols:
        funcs.setdefault(uf.find(c), [])
        touch.setdefault(uf.find(c), set()).add(c[0])
    for p in pieces:
        for c, a, d in p.funcs:
            funcs[uf.find(c)].append((a, d))
        for c1, c2, a, b in p.hs:
            hs.append((uf.find(c1), uf.find(c2), a, b))
    cfg = _Config({c: tuple(sorted(f)) for c, f in funcs.items()}, hs, touch)
    base_links = bias_links + [tuple(t) for t in touch.values()]
    neurons = tuple((c, tuple(sorted(touch[c])), cfg.funcs[c]) for c in sorted(funcs))
    hs_t = tuple(hs)

    def term(order, value, correction=()):
        return _Term(order, value, tuple(p.kind for p in pieces), neurons, hs_t, tuple(bias_links), correction)

    if crossed is not None:
        if _connected(nf, base_links + [tuple(ws[w][1] for w in crossed)]):
            v = _lead(ctx, cfg)
            if v != 0:
                yield term(1, -weight * v, ("weingarten", "Wg", ()))
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


def _check_fields(fields, m: int) -> tuple:
    out = []
    for f in fields:
        f = tuple(f)
        ok = (len(f) == 3 and f[0] == "z") or (len(f) == 5 and f[0] == "H")
        if ok:
            nums = f[1:]
            ok = all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in nums)
            ins = (f[2],) if f[0] == "z" else f[3:]
            ok = ok and all(x < m for x in ins)
        if not ok:
            raise SpecError(f"fields: each must be ('z', neuron, input) or ('H', neuron, neuron, input, input) with ints "
                            f">= 0 and inputs below n_inputs={m}; got {f!r}.")
        out.append(f)
    if not out:
        raise SpecError("fields: need at least one field.")
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
    return _cumulant(act, m, _check_fields(fields, m), init)


@lru_cache(maxsize=4096)
def _cumulant(act: Activation, m: int, fields: tuple, init: str) -> tuple[sympy.Expr, sympy.Expr]:
    ctx = _context(act, m)
    c = [sympy.Integer(0), sympy.Integer(0)]
    for t in _terms(ctx, fields, init):
        c[t.order] += t.value
    return sympy.expand(c[0]), sympy.expand(c[1])


def _statistic_value(act, m, name, idx, init):
    order, make = _DEFS[name]
    fields = make(*idx)
    c0, c1 = _cumulant(act, m, fields, init)
    if name not in ("K1", "Theta1") and order == 1 and c0 != 0:
        raise AssertionError(f"{name}{idx}: leading term {c0} should vanish")  # pragma: no cover - a bug, not input
    return c1 if order == 1 else c0


def _refuse(statistic) -> None:
    if statistic in _NOT_YET:
        raise SpecError(f"statistic {statistic!r}: the NTK-sector diagram engine generates "
                        f"{', '.join(NTK_DIAGRAM_STATISTICS)} at order 1/n; the dNTK and ddNTK tensors P, Q, R, S, T, U "
                        "are not in it (their hand-derived recursions: nntheory recursions --statistics).")
    if statistic not in _DEFS:
        raise SpecError(f"statistic must be one of {', '.join(NTK_DIAGRAM_STATISTICS)}, got {statistic!r}.")


@lru_cache(maxsize=32)
def ntk_diagram_recursion(act: Activation, n_inputs: int = 1, init: str = "gaussian") -> Recursion:
    """The recursions of ``K, V, K1, Theta, Theta1, D, F, A, B`` generated from the NTK-sector diagrams.

    Same statistics, symbols, array layouts and first-layer values as :func:`nntheory.theory.ntk_recursion`
    (whose hand-derived updates these equal symbolically); compile it with :func:`nntheory.numerics.compile_recursion`.

    Args:
        act: the activation.
        n_inputs: the number of inputs.
        init: ``"gaussian"`` or ``"orthogonal"`` (Weingarten diagrams; square hidden layers, ``r = 1``).
    Returns:
        A :class:`~nntheory.theory.Recursion`.
    Raises:
        SpecError: ``n_inputs`` not an int >= 1, an unknown ``init``.
    """
    from nntheory._checks import check_int
    from nntheory.theory.finite_width._ntk import _ntk_recursion
    from nntheory.theory.finite_width._recursions import _check_init, _square

    m = check_int(n_inputs, "n_inputs", lo=1, where="ntk_diagram_recursion")
    init = _check_init(init, "ntk_diagram_recursion")
    hand = _ntk_recursion(act, m, False, False, init)
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


def _field_text(f: tuple) -> str:
    names = "ikln"
    if f[0] == "z":
        return f"z_{names[f[1]]}"
    return f"H_{names[f[1]]}{names[f[2]]}"


def _graph(fields: tuple, t: _Term) -> nx.MultiGraph:
    g = nx.MultiGraph()
    for fi, (f, kind) in enumerate(zip(fields, t.pieces)):
        g.add_node(("field", fi), kind="field", label=(fi, _field_text(f), kind))
    for c, touch, items in t.neurons:
        g.add_node(("neuron", c), kind="neuron", label=tuple(sorted(d for _, d in items)))
        for fi in sorted(touch):
            g.add_edge(("field", fi), ("neuron", c))
    for x, (fi, fj) in enumerate(t.bias_pairs):
        g.add_node(("bias", x), kind="bias", label="C_b")
        g.add_edge(("field", fi), ("bias", x))
        g.add_edge(("field", fj), ("bias", x))
    for x, (c1, c2, _a, _b) in enumerate(t.hs):
        g.add_node(("H", x), kind="ntk", label="Theta" if c1 == c2 else "H")
        g.add_edge(("H", x), ("neuron", c1))
        g.add_edge(("H", x), ("neuron", c2))
    if t.correction:
        kind, label, links = t.correction
        g.add_node(("corr", 0), kind=kind, label=label)
        for c in links:
            g.add_edge(("corr", 0), ("neuron", c))
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
            hs = "".join(("Theta" if h[0] == h[1] else f"H({names[h[0]]},{names[h[1]]})") for h in t.hs if h[0] == c)
            ns.append(f"{names[c]}:{fn}{'·' + hs if hs else ''}")
        parts.append("neurons " + " ".join(ns))
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
                "ntk_factors": len(t.hs), "bias_pairs": len(t.bias_pairs),
                "correction": ({"kind": t.correction[0], "label": t.correction[1], "neurons": len(t.correction[2])}
                               if t.correction else None),
                "value": str(self.value)}


@lru_cache(maxsize=64)
def ntk_diagrams(statistic: str, init: str = "gaussian", act: Activation | None = None) -> tuple[NTKDiagram, ...]:
    """The diagrams of an NTK-sector statistic (``Theta, Theta1, D, F, A, B``, also ``K, K1, V``) at one input.

    Args:
        statistic: one of :data:`NTK_DIAGRAM_STATISTICS`.
        init: ``"gaussian"`` or ``"orthogonal"`` (adds the Weingarten diagrams).
        act: the activation used for the ``value`` of each diagram (default: ``tanh``); the diagrams themselves
            do not depend on it, except that a diagram whose value vanishes identically is dropped.
    Returns:
        A tuple of :class:`NTKDiagram`, deterministic order; their values sum to the update of the statistic.
    Raises:
        SpecError: an unknown statistic or init; ``P, Q, R, S, T, U`` (not in the engine).
    """
    from nntheory.theory import activation
    from nntheory.theory.finite_width._recursions import _check_init

    _refuse(statistic)
    init = _check_init(init, "ntk_diagrams")
    act = act if act is not None else activation("tanh")
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
