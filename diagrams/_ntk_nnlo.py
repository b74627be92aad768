r"""The NTK mean to order ``1/n^2`` (Gaussian weights): the second-order extension of :mod:`nntheory.diagrams._ntk`.

``E[H_{ii;ab}] = Theta + Theta1/n + Theta2/n^2 + O(1/n^3)``. The update of ``Theta2`` needs, besides the kernel sector to
``1/n^2`` (``K2``, ``V2``, ``U6``; :func:`nntheory.diagrams.diagram_recursion` at order 2), the joint cumulants of one
NTK entry with preactivations one order further: with ``i, k, l`` distinct neurons and ``n = n_{l-1}``,

* ``D2``, ``F2``: the ``1/n^2`` parts of ``D`` and ``F``: ``n^2 [kappa(H_{ii;a1a2}, z_{k;a3}, z_{k;a4}) - D/n]`` and
  ``n^2 [kappa(H_{ik;a1a2}, z_{i;a3}, z_{k;a4}) - F/n]`` (layouts as ``D[a1,a2,a3,a4]``, ``F[a1,a3,a2,a4]``);
* ``D4[a1,a2,a3,a4,a5,a6] = n^2 kappa(H_{ii;a1a2}, z_{k;a3}, z_{k;a4}, z_{l;a5}, z_{l;a6})`` and
  ``F4[a1,a3,a2,a4,a5,a6] = n^2 kappa(H_{ik;a1a2}, z_{i;a3}, z_{k;a4}, z_{l;a5}, z_{l;a6})``: the six-point
  NTK-preactivation vertices (leading order ``1/n^2``);

for coinciding neurons every cumulant is the sum over the pairings of its neuron slots (e.g. ``kappa(H_ii, z_i, z_i) =
(D + 2F)/n + (D2 + 2F2)/n^2``; for Gaussian weights the rows of a layer are conditionally independent and Wick's
theorem leaves no all-diagonal term, which the tests check at order ``1/n^2``).

The labeled terms are those of :mod:`nntheory.diagrams._ntk` (pieces of the fields, Wick pairings of the new weights and
biases), now with the neuron sums expanded to second order (``n(n-1)..(n-q+1)/n^p``, every set partition of the neurons
with at most two merges) and the layer-``l`` expectations to second order: with ``Phi(G) = prod_c <f_c>_G`` the
single-neuron means at the stochastic kernel ``G`` of layer ``l`` (mean ``K + K1/n + K2/n^2``, covariance ``V/n +
V2/n^2``, third cumulant ``U6/n^2``), ``E[prod_c f_c] = E[Phi(G)]`` by Taylor expansion to fourth order; with one NTK
entry ``X`` the exact cumulant expansion ``E[X F(z)] = E[X] E[F] + (1/2) sum kappa(X, z, z) E[d^2 F] + (1/24) sum
kappa(X, z, z, z, z) E[d^4 F] + ...`` (odd cumulants vanish: ``z -> -z`` with ``H`` fixed is a symmetry), the
derivatives by Price's theorem (kernel derivatives) and Stein's lemma (one derivative on a neuron). The joint cumulant
of the fields is then the moment-cumulant combination of these moments, truncated at ``1/n^2``.

Checked (tests/diagrams/test_ntk_nnlo.py): the order-0 and order-1 updates equal the first-order engine, the kernel
sector equals :func:`~nntheory.diagrams.diagram_recursion` at order 2, the coinciding-neuron patterns follow the
pairing decompositions at ``1/n^2``, and the NTK mean of a depth-3 network with ``sigma(z) = z^2`` equals its exact
finite-width value (a closed form in ``n`` from sums of i.i.d. neurons, derived independently in the test).
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations_with_replacement, product

import sympy

from nntheory.diagrams._generate import _set_partitions
from nntheory.diagrams._ntk import _context, _matchings, _wick
from nntheory.errors import SpecError
from nntheory.theory._activations import Activation
from nntheory.theory._gaussian import kernel_symbols
from nntheory.theory.finite_width._recursions import Recursion, Statistic, r

__all__ = ["NTK_MEAN_STATISTICS", "ntk_mean_recursion"]

#: the statistics of :func:`ntk_mean_recursion`, in order (the power of 1/n each carries, and its defining fields)
_DEFS = {
    "K": (0, 2, lambda a, b: (("z", 0, a), ("z", 0, b))),
    "V": (1, 4, lambda a, b, c, d: (("z", 0, a), ("z", 0, b), ("z", 1, c), ("z", 1, d))),
    "K1": (1, 2, lambda a, b: (("z", 0, a), ("z", 0, b))),
    "Theta": (0, 2, lambda a, b: (("H", 0, 0, a, b),)),
    "Theta1": (1, 2, lambda a, b: (("H", 0, 0, a, b),)),
    "D": (1, 4, lambda a1, a2, a3, a4: (("H", 0, 0, a1, a2), ("z", 1, a3), ("z", 1, a4))),
    "F": (1, 4, lambda a1, a3, a2, a4: (("H", 0, 1, a1, a2), ("z", 0, a3), ("z", 1, a4))),
    "K2": (2, 2, lambda a, b: (("z", 0, a), ("z", 0, b))),
    "V2": (2, 4, lambda a, b, c, d: (("z", 0, a), ("z", 0, b), ("z", 1, c), ("z", 1, d))),
    "U6": (2, 6, lambda a, b, c, d, e, f: (("z", 0, a), ("z", 0, b), ("z", 1, c), ("z", 1, d), ("z", 2, e), ("z", 2, f))),
    "Theta2": (2, 2, lambda a, b: (("H", 0, 0, a, b),)),
    "D2": (2, 4, lambda a1, a2, a3, a4: (("H", 0, 0, a1, a2), ("z", 1, a3), ("z", 1, a4))),
    "F2": (2, 4, lambda a1, a3, a2, a4: (("H", 0, 1, a1, a2), ("z", 0, a3), ("z", 1, a4))),
    "D4": (2, 6, lambda a1, a2, a3, a4, a5, a6: (("H", 0, 0, a1, a2), ("z", 1, a3), ("z", 1, a4), ("z", 2, a5),
                                                 ("z", 2, a6))),
    "F4": (2, 6, lambda a1, a3, a2, a4, a5, a6: (("H", 0, 1, a1, a2), ("z", 0, a3), ("z", 1, a4), ("z", 2, a5),
                                                 ("z", 2, a6))),
}
NTK_MEAN_STATISTICS = tuple(_DEFS)
_ORDER = 2
_DESCRIPTIONS = {
    "K2": "kernel at 1/n^2: <z z> = K + K1/n + K2/n^2",
    "V2": "four-point vertex at 1/n^2: Cov(z_i z_i, z_k z_k) = V/n + V2/n^2",
    "U6": "six-point vertex: kappa(z_i z_i, z_k z_k, z_l z_l) = U6/n^2",
    "Theta2": "NTK mean at 1/n^2: E[H_ii] = Theta + Theta1/n + Theta2/n^2",
    "D2": "1/n^2 part of kappa(H_ii, z_k, z_k) = D/n + D2/n^2",
    "F2": "1/n^2 part of kappa(H_ik, z_i, z_k) = F/n + F2/n^2",
    "D4": "six-point NTK vertex: kappa(H_ii;a1a2, z_k;a3, z_k;a4, z_l;a5, z_l;a6) = D4/n^2",
    "F4": "six-point NTK vertex: kappa(H_ik;a1a2, z_i;a3, z_k;a4, z_l;a5, z_l;a6) = F4[a1,a3,a2,a4,a5,a6]/n^2",
}

# --------------------------------------------------------------------------- truncated series in 1/n


def _zero():
    return [sympy.Integer(0)] * (_ORDER + 1)


def _mul(a, b):
    return [sympy.Add(*[a[i] * b[k - i] for i in range(k + 1)]) for k in range(_ORDER + 1)]


def _add(a, b):
    return [x + y for x, y in zip(a, b)]


def _scale(a, s):
    return [x * s for x in a]


# --------------------------------------------------------------------------- symbols


def _sym(name: str, idx: tuple, m: int) -> sympy.Symbol:
    return sympy.Symbol(name if m == 1 else name + "_" + "".join(str(i + 1) for i in idx), real=True)


def _canon(name: str, idx: tuple) -> tuple:
    """The canonical input index of a tensor under the symmetries of its definition."""
    def pr(a, b):
        return (a, b) if a <= b else (b, a)
    if name in ("K2", "Theta2"):
        return pr(*idx)
    if name == "V2":
        return min(pr(*idx[:2]) + pr(*idx[2:]), pr(*idx[2:]) + pr(*idx[:2]))
    if name == "U6":
        return tuple(x for p in sorted([pr(*idx[:2]), pr(*idx[2:4]), pr(*idx[4:])]) for x in p)
    if name == "D2":
        return pr(*idx[:2]) + pr(*idx[2:])
    if name == "F2":
        return min(idx, (idx[2], idx[3], idx[0], idx[1]))
    if name == "D4":
        return pr(*idx[:2]) + tuple(x for p in sorted([pr(*idx[2:4]), pr(*idx[4:])]) for x in p)
    if name == "F4":
        return min(idx[:4], (idx[2], idx[3], idx[0], idx[1])) + pr(*idx[4:])
    return idx


class _Symbols:
    """The second-order symbols (first-order ones from the first-order engine's context)."""

    def __init__(self, m: int):
        self.m = m
        self.K2 = kernel_symbols(m, "K2")
        self.Th2 = kernel_symbols(m, "Theta2")

    def t(self, name: str, *idx) -> sympy.Symbol:
        return _sym(name, _canon(name, idx), self.m)


# --------------------------------------------------------------------------- layer-l expectations to 1/n^2


class _Second:
    def __init__(self, act: Activation, m: int):
        self.ctx = _context(act, m)
        self.sy = _Symbols(m)
        self.m = m
        self.P = self.ctx.P
        self._taylor_cache: dict = {}

    # E over the stochastic kernel of layer l of a function of the kernel symbols
    def moment(self, Q: tuple):
        """``E[prod_{q in Q} dG_q]`` (``dG = G - K``) as a series, to ``1/n^2`` (``Q`` sorted)."""
        c, sy = self.ctx, self.sy
        if len(Q) == 1:
            (q,) = Q
            return [0, r * c.K1[q], r**2 * sy.K2[q]]
        if len(Q) == 2:
            q, s = Q
            return [0, r * c.V(q, s), r**2 * (sy.t("V2", *q, *s) + c.K1[q] * c.K1[s])]
        if len(Q) == 3:
            q, s, t = Q
            return [0, 0, r**2 * (sy.t("U6", *q, *s, *t) + c.K1[q] * c.V(s, t) + c.K1[s] * c.V(q, t) + c.K1[t] * c.V(q, s))]
        if len(Q) == 4:
            q, s, t, u = Q
            return [0, 0, r**2 * (c.V(q, s) * c.V(t, u) + c.V(q, t) * c.V(s, u) + c.V(q, u) * c.V(s, t))]
        return _zero()

    def taylor(self, phi: sympy.Expr, top: int = _ORDER):
        """``E[phi(G)]`` to ``1/n^top``: Taylor expansion in the symmetric kernel variables."""
        K = self.ctx.K
        out = [phi] + [sympy.Integer(0)] * _ORDER
        for k in range(1, 2 * top + 1):
            for Q in combinations_with_replacement(self.P, k):
                mom = self.moment(Q)
                if all(x == 0 for x in mom[: top + 1]):
                    continue
                d = sympy.diff(phi, *[K[q] for q in Q])
                if d == 0:
                    continue
                w = d / math.prod(math.factorial(Q.count(q)) for q in set(Q))
                for o in range(1, top + 1):
                    out[o] += w * mom[o]
        return out

    def dmean(self, items: tuple, ds: tuple) -> sympy.Expr:
        """``<d_{e1} .. d_{ek} f>_K`` (``ds`` the inputs): Stein for an odd first derivative, Price for pairs."""
        K = self.ctx.K
        ds = tuple(sorted(ds))
        if len(ds) % 2:
            base, rest = self.ctx.stein(ds[0], items), ds[1:]
        else:
            base, rest = self.ctx.mean(items), ds
        fac = 1
        wrt = []
        for x in range(0, len(rest), 2):
            a, b = rest[x], rest[x + 1]
            fac *= 2 if a == b else 1
            wrt.append(K[a, b])
        return fac * sympy.diff(base, *wrt) if wrt else base

    def kappa2(self, X, s1, s2):
        """``kappa(X, z_s1, z_s2)`` as a series (slots ``(neuron, input)``)."""
        c, sy = self.ctx, self.sy
        (h1, h2), (a, b) = X
        (c1, e1), (c2, e2) = s1, s2
        one, two = sympy.Integer(0), sympy.Integer(0)
        if h1 == h2:
            if c1 == c2:
                one += c.D(a, b, e1, e2)
                two += sy.t("D2", a, b, e1, e2)
                if c1 == h1:
                    one += c.F(a, e1, b, e2) + c.F(a, e2, b, e1)
                    two += sy.t("F2", a, e1, b, e2) + sy.t("F2", a, e2, b, e1)
        else:
            if (c1, c2) == (h1, h2):
                one += c.F(a, e1, b, e2)
                two += sy.t("F2", a, e1, b, e2)
            if (c1, c2) == (h2, h1):
                one += c.F(a, e2, b, e1)
                two += sy.t("F2", a, e2, b, e1)
        return [0, r * one, r**2 * two]

    def kappa4(self, X, slots) -> sympy.Expr:
        """``n^2 kappa(X, z_s3, .., z_s6)``: the sum over the pairings of the six neuron slots consistent with the
        neurons (``D4`` when the NTK's two slots pair with each other, ``F4`` otherwise)."""
        (h1, h2), (a, b) = X
        neu = [h1, h2] + [s[0] for s in slots]
        inp = [a, b] + [s[1] for s in slots]
        total = sympy.Integer(0)
        for pairing in _PAIRINGS6:
            if any(neu[u] != neu[v] for u, v in pairing):
                continue
            d = dict(pairing)
            d.update({v: u for u, v in pairing})
            if d[0] == 1:
                (x, y), (u, v) = [p for p in pairing if 0 not in p]
                total += self.sy.t("D4", a, b, inp[x], inp[y], inp[u], inp[v])
            else:
                x, y = d[0], d[1]
                u, v = [p for p in pairing if 0 not in p and 1 not in p][0]
                total += self.sy.t("F4", a, inp[x], b, inp[y], inp[u], inp[v])
        return total

    def expect(self, funcs: dict, objs: list):
        """``E[prod_c f_c(z_c) X]`` over distinct neurons ``c`` of layer l (at most one NTK entry ``X``), to 1/n^2."""
        c = self.ctx
        neurons = sorted(funcs, key=str)
        phi = sympy.Mul(*[c.mean(funcs[x]) for x in neurons])
        if not objs:
            return self.taylor(phi)
        if len(objs) > 1 or objs[0][0] != "H":
            raise SpecError("the NTK mean to 1/n^2 is generated for fields with at most one NTK entry (one-H sector)")
        _, (h1, h2), (a, b) = objs[0]
        X = ((h1, h2), (a, b))
        out = _zero()
        if h1 == h2:
            out = _mul([c.Th[a, b], r * c.Th1[a, b], r**2 * self.sy.Th2[a, b]], self.taylor(phi))
        slots = [(x, e) for x in neurons for e in range(self.m)]
        for s1, s2 in product(slots, repeat=2):
            k2 = self.kappa2(X, s1, s2)
            if all(v == 0 for v in k2):
                continue
            if s1[0] == s2[0]:
                fn = self.dmean(funcs[s1[0]], (s1[1], s2[1]))
                rest = [x for x in neurons if x != s1[0]]
            else:
                fn = self.dmean(funcs[s1[0]], (s1[1],)) * self.dmean(funcs[s2[0]], (s2[1],))
                rest = [x for x in neurons if x not in (s1[0], s2[0])]
            fn *= sympy.Mul(*[c.mean(funcs[x]) for x in rest])
            if fn == 0:
                continue
            out = _add(out, _scale(_mul(k2, self.taylor(fn, 1)), sympy.Rational(1, 2)))
        for four in product(slots, repeat=4):
            k4 = self.kappa4(X, four)
            if k4 == 0:
                continue
            fn = sympy.Integer(1)
            for x in neurons:
                ds = tuple(e for (y, e) in four if y == x)
                fn *= self.dmean(funcs[x], ds)
                if fn == 0:
                    break
            if fn != 0:
                out[2] += r**2 * k4 * fn / 24
        return out


_PAIRINGS6 = [tuple(p) for p in _matchings(list(range(6)), key=lambda t: 0)]


def _falling(q: int, p: int):
    """``n (n-1) .. (n-q+1) / n^p`` as a series in 1/n (``q <= p``)."""
    out = _zero()
    if p - q > _ORDER:
        return out
    poly = [sympy.Integer(1)] + [sympy.Integer(0)] * _ORDER
    for t in range(q):
        poly = _mul(poly, [sympy.Integer(1), sympy.Integer(-t), sympy.Integer(0)])
    shift = p - q
    for k in range(_ORDER + 1 - shift):
        out[k + shift] = poly[k]
    return out


@lru_cache(maxsize=4096)
def _moment(act: Activation, m: int, fields: tuple):
    """``E[prod fields]`` to ``1/n^2`` (Gaussian weights)."""
    sec = _second(act, m)
    total = _zero()
    for w in _wick(fields, "gaussian"):
        classes = sorted(w.funcs, key=str)
        for part in _set_partitions(tuple(classes)):
            coef_n = _falling(len(part), len(classes))
            if all(v == 0 for v in coef_n):
                continue
            ren = {x: blk[0] for blk in part for x in blk}
            mf = {}
            for x in classes:
                mf.setdefault(ren[x], []).extend(w.funcs[x])
            mf = {x: tuple(sorted(v)) for x, v in mf.items()}
            mo = [(t, tuple(ren[x] for x in cs), ins) for t, cs, ins in w.objs]
            total = _add(total, _scale(_mul(coef_n, sec.expect(mf, mo)), w.weight))
    return tuple(sympy.expand(x) for x in total)


@lru_cache(maxsize=16)
def _second(act: Activation, m: int) -> _Second:
    return _Second(act, m)


@lru_cache(maxsize=4096)
def _cumulant2(act: Activation, m: int, fields: tuple):
    total = _zero()
    idx = tuple(range(len(fields)))
    for part in _set_partitions(idx):
        k = len(part)
        term = [sympy.Integer((-1) ** (k - 1) * math.factorial(k - 1)), 0, 0]
        for blk in part:
            term = _mul(term, list(_moment(act, m, tuple(fields[i] for i in blk))))
            if all(v == 0 for v in term):
                break
        total = _add(total, term)
    return tuple(sympy.expand(x) for x in total)


def ntk_mean_recursion(act: Activation, n_inputs: int = 1) -> Recursion:
    """The recursions of the NTK mean to ``1/n^2`` and everything it needs (Gaussian weights, equal-width expansion
    with the width ratio ``r``): ``K, V, K1, Theta, Theta1, D, F`` (order ``1/n``), then ``K2, V2, U6, Theta2, D2, F2,
    D4, F4`` (order ``1/n^2``; definitions in :mod:`nntheory.diagrams._ntk_nnlo`).

    Args:
        act: the activation.
        n_inputs: the number of inputs; 1 for now: the engine handles any number, but the six-index tensors ``D4``,
            ``F4`` take tens of minutes to generate for two inputs (about 11 s for one component of ``Theta2`` with
            ReLU), so more than one input is refused rather than left to run.
    Returns:
        A :class:`~nntheory.theory.Recursion` (compile it with :func:`nntheory.numerics.compile_recursion`);
        ``E[H_ii] = Theta + Theta1/n + Theta2/n^2``.
    Raises:
        SpecError: ``n_inputs`` not 1.
    """
    from nntheory._checks import check_int

    m = check_int(n_inputs, "n_inputs", lo=1, where="ntk_mean_recursion")
    if m != 1:
        raise SpecError(f"ntk_mean_recursion: n_inputs must be 1 for now, got {m}: with several inputs the six-index "
                        "tensors D4, F4 take tens of minutes to generate.")
    return _ntk_mean_recursion(act, m)


@lru_cache(maxsize=16)
def _ntk_mean_recursion(act: Activation, m: int) -> Recursion:
    from nntheory.theory.finite_width._ntk import _ntk_recursion

    hand = _ntk_recursion(act, m, False, False, "gaussian")
    first = {s.name: s for s in hand.statistics}
    sy = _Symbols(m)
    stats = []
    for name, (order, rank, make) in _DEFS.items():
        shape = (m,) * rank
        idxs = list(product(range(m), repeat=rank))
        if name in first:
            symbols, initial = first[name].symbols, first[name].initial
        else:
            if name in ("K2", "Theta2"):
                M = sy.K2 if name == "K2" else sy.Th2
                symbols = sympy.ImmutableDenseNDimArray([M[i] for i in idxs], shape)
            else:
                symbols = sympy.ImmutableDenseNDimArray([sy.t(name, *i) for i in idxs], shape)
            initial = sympy.ImmutableDenseNDimArray([0] * len(idxs), shape)
        seen, vals = {}, []
        for i in idxs:
            key = symbols[i]
            if key not in seen:
                seen[key] = _cumulant2(act, m, make(*i))[order]
            vals.append(seen[key])
        desc = first[name].description if name in first else _DESCRIPTIONS[name]
        stats.append(Statistic(name, order, desc + " (NTK mean to 1/n^2, diagrams)",
                               symbols, sympy.ImmutableDenseNDimArray(vals, shape), initial))
    return Recursion(activation=act, n_inputs=m, statistics=tuple(stats), gram=hand.gram)
