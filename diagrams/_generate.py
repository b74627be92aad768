r"""Feynman diagrams of the 1/width expansion and the recursions they generate.

Derivation (equal widths ``n``; a width ratio ``r = n_l / n_{l-1}`` is kept as in the foundation).
Condition on layer ``l``: the preactivations of layer ``l+1`` are i.i.d. over neurons and Gaussian
with the stochastic kernel

.. math:: \hat G' = C_b + \frac{C_W}{n} \sum_{j=1}^{n} X_j, \qquad
          X_{j;p} = \sigma(z_{j;a})\,\sigma(z_{j;b}),\quad p = (a \le b).

All statistics of the preactivations are cumulants of :math:`\hat G` (a connected ``2m``-point
function of ``z`` is the sum over pairings of the legs of :math:`\kappa_m(\hat G)`), expanded as

.. math:: \kappa_m(\hat G_{p_1}, \dots, \hat G_{p_m}) = \sum_{k \ge k_{\min}(m)} n^{-k}\,
          S^{(m,k)}_{p_1 \dots p_m}, \qquad k_{\min}(1) = 0,\ k_{\min}(m) = m - 1,

so ``S(1,0) = K``, ``S(1,1) = K1``, ``S(2,1) = V`` (PDLT's kernel, NLO kernel and four-point
vertex), ``S(3,2) = U6`` (six-point vertex), and so on. Given layer ``l`` the ``X_j`` are i.i.d.,
so the conditional cumulants are :math:`\kappa_B(\hat G' \mid G) = C_W^{|B|} n^{1-|B|} F_B(G)`
with :math:`F_B = \kappa_{|B|}(X_{p_B}; \mathcal N(0, G))` (plus ``C_b`` for ``|B| = 1``). The law
of total cumulance sums over partitions ``pi`` of the ``m`` external legs into *vertices*
``B``, each the cumulant of the functions :math:`F_B(G)` of the random kernel of layer ``l``.
Expanding :math:`F_B(K + \delta G)` in Taylor series gives each vertex ``r_B`` derivative legs
(a factor :math:`\partial^{r_B} F_B / r_B!`, derivatives with respect to the symmetric kernel
variables, Price's theorem), and the cumulant of products of :math:`\delta G` is the sum over
partitions of all derivative legs into *cumulant nodes* of layer ``l`` that connect the vertices
(Leonov–Shiryaev); a node with ``j`` legs is :math:`\kappa_j(\hat G)` at some order ``k_c``
(``j = 1``: the mean shift :math:`K1/n + K2/n^2 + \dots`). The order of a diagram is
``(m - |pi|) + sum_c k_c``.

A diagram is a :class:`networkx.MultiGraph` with nodes ``("ext", i)`` (external leg ``i``),
``("vtx", b)`` (a vertex: its external legs and derivative count) and ``("cum", c)`` (a node
``S(j, k)`` of layer ``l``); edges join external legs to their vertex and each derivative leg of a
vertex to its node. Labeled configurations are enumerated, bucketed by cheap invariants and merged
by :func:`networkx.is_isomorphic` (never by a hash alone); the symmetry factor of a diagram is the
number of labeled configurations it stands for divided by :math:`\prod_B r_B!`.

Orthogonal weights (``init="orthogonal"``: Gaussian first layer, then square layers ``sqrt(C_W) O``, ``O`` Haar; to
order ``1/n`` only). Given layer ``l`` the preactivations of layer ``l+1`` are no longer Gaussian: the rows of ``O``
are orthonormal, and the four-weight moment of two neurons ``i != k`` gains, besides the Gaussian pairing, the two
crossed pairings of the Weingarten function, ``-n^-3`` each. They add one diagram to ``V = S(2, 1)``: the two external
pairs ``(a, b)`` (neuron ``i``) and ``(c, d)`` (neuron ``k``) on separate vertices joined by a *Weingarten node*,
value ``-C_W^2 (G_ac G_bd + G_ad G_bc)`` with ``G = <s s>`` at the kernel (symmetry factor ``-1``); every other
statistic of order ``<= 1`` keeps its Gaussian diagrams (their two-weight moments are exactly Gaussian). Beyond order
1 the Weingarten function's higher terms and the non-Gaussian conditional law are not in the engine, and orthogonal
diagrams of order ``>= 2`` are refused. The hand-derived orthogonal recursions
(:func:`~nntheory.theory.finite_width_recursion` with ``init="orthogonal"``) are reproduced exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import combinations_with_replacement, product

import networkx as nx
import sympy

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.theory._activations import Activation
from nntheory.theory._gaussian import GaussianExpectation, activation_function, kernel_symbols, sub_kernel
from nntheory.diagrams._statistics import _DESCRIPTIONS, DiagramStatistic, _kmin, parse_statistic, statistic_name
from nntheory.theory.finite_width._recursions import C_W, C_b, Recursion, Statistic, pairs, r

__all__ = [
    "Diagram",
    "DiagramStatistic",
    "diagram_recursion",
    "diagrams",
    "parse_statistic",
    "statistic_name",
]

# --------------------------------------------------------------------------- set partitions


def _set_partitions(items: tuple) -> list[tuple[tuple, ...]]:
    """All set partitions of ``items`` (blocks in order of their first element)."""
    if not items:
        return [()]
    first, rest = items[0], items[1:]
    out = []
    for part in _set_partitions(rest):
        out.append(((first,),) + part)
        for i in range(len(part)):
            out.append(part[:i] + ((first,) + part[i],) + part[i + 1 :])
    return out


def _compositions(total_max: int, parts: int, minimum: int):
    """Tuples of ``parts`` ints >= ``minimum`` with sum <= ``total_max``."""
    if parts == 0:
        yield ()
        return
    for first in range(minimum, total_max - minimum * (parts - 1) + 1):
        for rest in _compositions(total_max - first, parts - 1, minimum):
            yield (first,) + rest


def _orders(sizes: tuple[int, ...], total: int):
    """Orders ``k_c >= max(1, j_c - 1)`` of the nodes with ``sum k_c = total``."""
    lows = [max(1, j - 1) for j in sizes]
    spare = total - sum(lows)
    if spare < 0:
        return
    for extra in _compositions(spare, len(sizes), 0):
        if sum(extra) == spare:
            yield tuple(lo + e for lo, e in zip(lows, extra))


def _connected(n_vertices: int, nodes: tuple[tuple, ...]) -> bool:
    parent = list(range(n_vertices))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in nodes:
        vs = {leg[0] for leg in c}
        v0 = find(next(iter(vs)))
        for v in vs:
            parent[find(v)] = v0
    return len({find(v) for v in range(n_vertices)}) == 1


@dataclass(frozen=True)
class _Config:
    """One labeled term: vertex blocks of external legs, derivative counts, node partition, orders."""

    blocks: tuple[tuple[int, ...], ...]
    r: tuple[int, ...]
    nodes: tuple[tuple[tuple[int, int], ...], ...]  # legs (vertex, t)
    orders: tuple[int, ...]
    weingarten: bool = False  # the crossed-pairing diagram of orthogonal weights (module docstring)


def _configurations(m: int, order: int):
    for blocks in _set_partitions(tuple(range(m))):
        p = len(blocks)
        rem = order - (m - p)
        if rem < 0:
            continue
        if rem == 0:
            if p == 1:
                yield _Config(blocks, (0,), (), ())
            continue
        for rr in _compositions(2 * rem, p, 1 if p >= 2 else 0):
            legs = tuple((b, t) for b in range(p) for t in range(rr[b]))
            if not legs:
                continue
            for nodes in _set_partitions(legs):
                if sum(max(1, len(c) - 1) for c in nodes) > rem:
                    continue
                if p >= 2 and not _connected(p, nodes):
                    continue
                for ks in _orders(tuple(len(c) for c in nodes), rem):
                    yield _Config(blocks, rr, nodes, ks)


def _graph(cfg: _Config) -> nx.MultiGraph:
    g = nx.MultiGraph()
    for b, B in enumerate(cfg.blocks):
        g.add_node(("vtx", b), kind="vertex", label=(len(B), cfg.r[b]))
        for i in B:
            g.add_node(("ext", i), kind="external", label=i)
            g.add_edge(("ext", i), ("vtx", b))
    for c, (legs, k) in enumerate(zip(cfg.nodes, cfg.orders)):
        g.add_node(("cum", c), kind="cumulant", label=(len(legs), k))
        for v, _t in legs:
            g.add_edge(("vtx", v), ("cum", c))
    return g


def _invariant(g: nx.MultiGraph) -> tuple:
    """Cheap isomorphism invariant: sorted (kind, label, degree, sorted neighbour labels)."""
    rows = []
    for v, d in g.nodes(data=True):
        nb = sorted((g.nodes[u]["kind"], str(g.nodes[u]["label"])) for u in g.neighbors(v) for _ in range(g.number_of_edges(v, u)))
        rows.append((d["kind"], str(d["label"]), g.degree(v), tuple(nb)))
    return tuple(sorted(rows))


def _match(a: dict, b: dict) -> bool:
    return a["kind"] == b["kind"] and a["label"] == b["label"]


@dataclass(frozen=True)
class Diagram:
    """One diagram of ``S(m, k)``: its graph, a labeled representative and its symmetry factor.

    ``symmetry_factor`` (a ``Fraction``) is the number of labeled terms the diagram stands for,
    divided by the product of ``r_B!`` over vertices; the term it contributes is
    ``symmetry_factor * prod(vertex factors) * prod(node factors)`` summed over internal labels.
    """

    statistic: DiagramStatistic
    graph: nx.MultiGraph = field(compare=False, repr=False)
    config: _Config
    multiplicity: int
    symmetry_factor: Fraction

    @property
    def vertices(self) -> list[tuple[tuple[int, ...], int]]:
        """``(external legs, derivative count)`` per vertex."""
        return [(B, rb) for B, rb in zip(self.config.blocks, self.config.r)]

    @property
    def weingarten(self) -> bool:
        """Whether this is the Weingarten (crossed-pairing) diagram of orthogonal weights."""
        return self.config.weingarten

    @property
    def nodes(self) -> list[tuple[int, int]]:
        """``(legs j, order k)`` of each layer-l cumulant node ``S(j, k)``."""
        return [(len(c), k) for c, k in zip(self.config.nodes, self.config.orders)]

    def describe(self) -> str:
        """One line: factor, vertices ``v<b>[external legs (1-based) | derivative count]``, nodes
        and which vertices each node joins."""
        vs = " ".join(f"v{b}[{','.join(str(i + 1) for i in B)}|d{rb}]" for b, (B, rb) in enumerate(self.vertices))
        if self.weingarten:
            return (f"{self.symmetry_factor!s:>6}  {vs}  Weingarten(v0,v1): crossed weight pairings, "
                    "C_W^2 (G_ac G_bd + G_ad G_bc)")
        links = " ".join(
            f"{statistic_name(len(c), k)}(" + ",".join(f"v{v}" for v, _ in c) + ")" for c, k in zip(self.config.nodes, self.config.orders)
        )
        return f"{self.symmetry_factor!s:>6}  {vs}" + (f"  nodes: {links}" if links else "")

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic.name,
            "order": self.statistic.k,
            **({"weingarten": True} if self.weingarten else {}),
            "symmetry_factor": str(self.symmetry_factor),
            "multiplicity": self.multiplicity,
            "vertices": [{"external_legs": list(B), "derivatives": rb} for B, rb in self.vertices],
            "nodes": [{"statistic": statistic_name(len(c), k), "legs": len(c), "order": k,
                       "vertices": [v for v, _ in c]} for c, k in zip(self.config.nodes, self.config.orders)],
        }


#: the highest order 1/n^k whose diagrams are generated (time and count grow factorially)
MAX_ORDER = 4


#: weight initialisations of the engine; orthogonal diagrams exist to this order only
INITS = ("gaussian", "orthogonal")
MAX_ORTHOGONAL_ORDER = 1


def _check_init(init, k: int, where: str) -> str:
    if init not in INITS:
        raise SpecError(f"{where}: init must be one of {', '.join(INITS)}, got {init!r}.")
    if init == "orthogonal" and k > MAX_ORTHOGONAL_ORDER:
        raise SpecError(f"{where}: init='orthogonal': diagrams to order 1/n^{MAX_ORTHOGONAL_ORDER} only (got order {k}): "
                        "the higher Weingarten terms and the non-Gaussian conditional law of orthogonal layers are "
                        "not in the engine.")
    return init


def _weingarten_diagram() -> Diagram:
    """The crossed-pairing diagram of ``V`` for orthogonal weights (module docstring)."""
    cfg = _Config(((0,), (1,)), (0, 0), (), (), weingarten=True)
    g = nx.MultiGraph()
    g.add_node(("wg", 0), kind="weingarten", label="Wg")
    for b in range(2):
        g.add_node(("vtx", b), kind="vertex", label=(1, 0))
        g.add_node(("ext", b), kind="external", label=b)
        g.add_edge(("ext", b), ("vtx", b))
        g.add_edge(("vtx", b), ("wg", 0))
    return Diagram(DiagramStatistic(2, 1), g, cfg, 1, Fraction(-1))


#: the NTK-sector statistics, whose diagrams come from :mod:`nntheory.diagrams._ntk`
_NTK_ONLY = ("Theta", "Theta1", "D", "F", "A", "B", "P", "Q", "R", "S", "T", "U")


def diagrams(statistic: str | tuple[int, int], init: str = "gaussian") -> tuple[Diagram, ...]:
    """All diagrams of a statistic (``"V2"``, ``"U6"``, ``(m, k)``), deduplicated up to isomorphism
    with the external legs labeled. Deterministic order. The NTK-sector names (``Theta, Theta1, D, F, A, B, P, Q, R,
    S, T, U``) give their :class:`~nntheory.diagrams.NTKDiagram` s (:func:`~nntheory.diagrams.ntk_diagrams`).

    Args:
        statistic: a name (``"V2"``, ``"kappa5_4"``) or ``(m, k)``: the ``m``-th cumulant of the kernel at ``1/n^k``.
        init: ``"gaussian"`` (default) or ``"orthogonal"`` (to order ``1/n``: ``V`` gains the Weingarten diagram;
            module docstring).
    Returns:
        A tuple of :class:`Diagram`.
    Raises:
        SpecError: for an unknown statistic or ``init``, ``k`` below the statistic's first order, or ``k >``
            :data:`MAX_ORDER` (the count and the time grow factorially: 994 diagrams and ~10 s for
            ``kappa4_4``, ~1 min for ``V`` at ``1/n^5``); orthogonal ``init`` with ``k > 1``.
    """
    if isinstance(statistic, str) and statistic in _NTK_ONLY:
        from nntheory.diagrams._ntk import ntk_diagrams

        return ntk_diagrams(statistic, init)
    m, k = parse_statistic(statistic) if isinstance(statistic, str) else statistic
    init = _check_init(init, k if isinstance(k, int) else 0, "diagrams")
    ds = _gaussian_diagrams((m, k))
    if init == "orthogonal" and (ds[0].statistic.m, ds[0].statistic.k) == (2, 1):
        ds = ds + (_weingarten_diagram(),)
    return ds


@lru_cache(maxsize=None)
def _gaussian_diagrams(statistic: tuple[int, int]) -> tuple[Diagram, ...]:
    m, k = statistic
    m = check_int(m, "statistic m (cumulant order)", lo=1, where="diagrams")
    k = check_int(k, "order k (power of 1/n)", lo=0, where="diagrams")
    if k > MAX_ORDER:
        raise SpecError(f"diagrams: order k (the power of 1/n) must be <= {MAX_ORDER}, got {k}: the number of diagrams "
                        "grows factorially (994 for kappa4 at 1/n^4; V at 1/n^5 takes about a minute).")
    if k < _kmin(m):
        raise SpecError(f"statistic (m={m}, k={k}): kappa_m(G) starts at order 1/n^{_kmin(max(m, 1))}.")
    st = DiagramStatistic(m, k)
    buckets: dict[tuple, list[list]] = {}
    for cfg in _configurations(m, k):
        g = _graph(cfg)
        inv = _invariant(g)
        for entry in buckets.setdefault(inv, []):
            if nx.is_isomorphic(entry[0], g, node_match=_match):
                entry[2] += 1
                break
        else:
            buckets[inv].append([g, cfg, 1])
    out = []
    for inv in sorted(buckets, key=str):
        for g, cfg, mult in buckets[inv]:
            denom = math.prod(math.factorial(x) for x in cfg.r)
            out.append(Diagram(st, g, cfg, mult, Fraction(mult, denom)))
    return tuple(out)


# --------------------------------------------------------------------------- evaluation


def _pair_label(p: tuple[int, int]) -> str:
    return f"{p[0] + 1}{p[1] + 1}"


def _state_symbol(m: int, k: int, labels: tuple, n_inputs: int) -> sympy.Symbol:
    name = statistic_name(m, k)
    labels = tuple(sorted(labels))
    if (m, k) == (1, 0):
        return kernel_symbols(n_inputs, "K")[labels[0]]  # the foundation's kernel symbols
    if n_inputs == 1:
        return sympy.Symbol(name, real=True)
    if m == 1:
        return sympy.Symbol(f"{name}_{_pair_label(labels[0])}", real=True)
    return sympy.Symbol(name + "_" + "_".join(_pair_label(p) for p in labels), real=True)


class _Vertices:
    """Vertex functions ``F_B`` and their derivatives, cached, for one activation and input count."""

    def __init__(self, act: Activation, n_inputs: int):
        self.act, self.N = act, n_inputs
        self.K = kernel_symbols(n_inputs, "K")
        self.sig = activation_function(act)
        self._moment = lru_cache(maxsize=None)(self._moment_impl)
        self.F = lru_cache(maxsize=None)(self._F_impl)
        self.dF = lru_cache(maxsize=None)(self._dF_impl)

    def ksym(self, p):
        return self.K[p[0], p[1]]

    def _moment_impl(self, labels: tuple) -> sympy.Expr:
        """<prod_{p in labels} sigma(z_a) sigma(z_b)>_K, as the foundation builds it."""
        idx = tuple(i for p in labels for i in p)
        distinct = sorted(set(idx))
        zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
        f = sympy.Mul(*[self.sig(zs[distinct.index(i)]) for i in idx])
        return GaussianExpectation(f, zs, sub_kernel(self.K, distinct)).doit()

    def _F_impl(self, labels: tuple) -> sympy.Expr:
        """C_W^|B| kappa_|B|(X_p : p in labels) (+ C_b for one leg) under N(0, K)."""
        b = len(labels)
        if b == 1:
            return C_b + C_W * self._moment(labels)
        total = sympy.Integer(0)
        for part in _set_partitions(tuple(range(b))):
            q = len(part)
            coef = (-1) ** (q - 1) * math.factorial(q - 1)
            total += coef * sympy.Mul(*[self._moment(tuple(sorted(labels[i] for i in S))) for S in part])
        return C_W**b * total

    def _dF_impl(self, labels: tuple, wrt: tuple) -> sympy.Expr:
        if not wrt:
            return self.F(labels)
        prev = self.dF(labels, wrt[:-1])
        return sympy.diff(prev, self.ksym(wrt[-1])) if prev != 0 else sympy.Integer(0)


def _term(d: Diagram, ext: tuple, V: _Vertices, P: list) -> sympy.Expr:
    cfg = d.config
    if cfg.weingarten:
        (a, b), (c, e) = ext

        def G(x, y):
            return V._moment(((min(x, y), max(x, y)),))

        return -C_W**2 * (G(a, c) * G(b, e) + G(a, e) * G(b, c))
    nlegs = sum(cfg.r)
    leg_index = {}
    for b in range(len(cfg.blocks)):
        for t in range(cfg.r[b]):
            leg_index[(b, t)] = len(leg_index)
    total = sympy.Integer(0)
    for assign in product(P, repeat=nlegs):
        term = sympy.Integer(1)
        for b, B in enumerate(cfg.blocks):
            labels = tuple(sorted(ext[i] for i in B))
            wrt = tuple(sorted(assign[leg_index[(b, t)]] for t in range(cfg.r[b])))
            f = V.dF(labels, wrt)
            if f == 0:
                term = 0
                break
            term *= f
        if term == 0:
            continue
        for c, k in zip(cfg.nodes, cfg.orders):
            term *= r**k * _state_symbol(len(c), k, tuple(assign[leg_index[leg]] for leg in c), V.N)
        total += term
    return sympy.Rational(d.symmetry_factor.numerator, d.symmetry_factor.denominator) * total


def diagram_sum(act: Activation, statistic: str | tuple[int, int], external: tuple, n_inputs: int = 1,
                init: str = "gaussian") -> sympy.Expr:
    """The update of one component of ``S(m, k)`` at layer ``l+1``: the sum of its diagrams' terms,
    in the layer-``l`` symbols (``K``, ``K1``, ``V``, ...), ``C_W``, ``C_b`` and the width ratio ``r``.
    ``external``: the ``m`` input pairs ``(a, b)`` (0-based) of the external legs.

    Args:
        act: the activation of the network (its vertex factors enter every term).
        statistic: a statistic name (``"V"``, ``"K1"``, ``"kappa5_4"``) or ``(m, k)``.
        external: ``m`` input pairs ``(a, b)``, 0-based, each index below ``n_inputs``.
        n_inputs: the number of network inputs.
        init: ``"gaussian"`` or ``"orthogonal"`` (order ``<= 1``; adds the Weingarten diagram to ``V``).

    Returns:
        A sympy expression: the layer-``l+1`` value of the component ``S(m, k)[external]``, the sum over
        the statistic's diagrams of their terms (symmetry factor included); 0 if no diagram contributes.

    Raises:
        SpecError: for an unknown statistic, or ``len(external) != m``.
    """
    ds = diagrams(statistic, init)
    m = ds[0].statistic.m if ds else parse_statistic(statistic)[0]
    if len(external) != m:
        raise SpecError(f"external: expected {m} input pairs for this statistic, got {len(external)}.")
    V = _vertices(act, n_inputs)
    ext = tuple(tuple(sorted(p)) for p in external)
    return sympy.Add(*[_term(d, ext, V, pairs(n_inputs)) for d in ds])


@lru_cache(maxsize=32)
def _vertices(act: Activation, n_inputs: int) -> _Vertices:
    return _Vertices(act, n_inputs)


def _statistics_up_to(order: int) -> list[tuple[int, int]]:
    out = [(1, 0)]
    for k in range(1, order + 1):
        for m in range(1, k + 2):
            out.append((m, k))
    return out


@lru_cache(maxsize=32)
def diagram_recursion(act: Activation, order: int, n_inputs: int = 1, init: str = "gaussian") -> Recursion:
    r"""The layer-to-layer recursion of every ``S(m, k)`` with ``k <= order``, generated from the
    diagrams, as a :class:`~nntheory.theory.Recursion` (compile it with
    :func:`nntheory.numerics.compile_recursion`).

    Statistic arrays have ``2m`` input axes (``S(m,k)[a1,b1,...,am,bm]``, symmetric under swapping
    within a pair and permuting pairs). First layer: ``K = C_b + C_W X``, everything else 0.
    ``init="orthogonal"`` (``order <= 1``): the Weingarten diagram joins ``V``, and ``r = 1`` (square hidden layers).
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise SpecError(f"order: must be an int >= 0, got {order!r}.")
    init = _check_init(init, order, "diagram_recursion")
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
        raise SpecError(f"n_inputs: must be an int >= 1, got {n_inputs!r}.")
    N = n_inputs
    X = kernel_symbols(N, "X")
    P = pairs(N)
    stats = []
    for m, k in _statistics_up_to(order):
        comps = {}
        for combo in combinations_with_replacement(P, m):
            comps[combo] = (_state_symbol(m, k, combo, N), diagram_sum(act, (m, k), combo, N, init))
        shape = (N,) * (2 * m)

        def entry(idx, which):
            key = tuple(sorted(tuple(sorted(idx[2 * i : 2 * i + 2])) for i in range(m)))
            return comps[key][which]

        flat_idx = list(product(range(N), repeat=2 * m))
        syms = sympy.ImmutableDenseNDimArray([entry(i, 0) for i in flat_idx], shape)
        upd = sympy.ImmutableDenseNDimArray([entry(i, 1) for i in flat_idx], shape)
        if (m, k) == (1, 0):
            first = sympy.ImmutableDenseNDimArray([C_b + C_W * X[i[0], i[1]] for i in flat_idx], shape)
        else:
            first = sympy.ImmutableDenseNDimArray([0] * len(flat_idx), shape)
        desc = _DESCRIPTIONS.get(m, f"kappa_{m}(G)") + f"; coefficient of 1/n^{k}"
        stats.append(Statistic(statistic_name(m, k), k, desc, syms, upd, first))
    if init == "orthogonal":
        from nntheory.theory.finite_width._recursions import _square

        return Recursion(activation=act, n_inputs=N, statistics=_square(tuple(stats)), gram=X, init=init)
    return Recursion(activation=act, n_inputs=N, statistics=tuple(stats), gram=X)
