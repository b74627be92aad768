r"""Layer-to-layer recursions of finite-width statistics at initialization (PDLT conventions).

For ``m`` inputs, with :math:`G_{ab}(K) = \langle\sigma(z_a)\sigma(z_b)\rangle_K` and derivatives taken
with respect to the *symmetric* kernel variables :math:`K_p`, :math:`p = (a \le b)` (one variable per
unordered pair; this equals PDLT's ordered-pair sums with their factors 1/2 and 1/4):

.. math::
    K'_{ab} &= C_b + C_W G_{ab}(K) \\
    V'_{(ab)(cd)} &= C_W^2\big[\langle\sigma_a\sigma_b\sigma_c\sigma_d\rangle_K - G_{ab}G_{cd}\big]
        + r\, C_W^2 \sum_{p, q} \partial_p G_{ab}\, \partial_q G_{cd}\, V_{pq} \\
    K^{\{1\}\prime}_{ab} &= r\Big[C_W \sum_p \partial_p G_{ab}\, K^{\{1\}}_p
        + \tfrac{C_W}{2} \sum_{p,q} \partial_p\partial_q G_{ab}\, V_{pq}\Big] \\
    \Theta'_{ab} &= \lambda_b + \lambda_W G_{ab} + C_W \langle\sigma'_a\sigma'_b\rangle_K\, \Theta_{ab}

with :math:`r = n_l/n_{l-1}` multiplying only what is carried over from layer :math:`l`
(PDLT eqs. 4.90, 4.115 and 8.12 in symmetric variables). First layer: :math:`K = C_b + C_W X`,
:math:`\Theta = \lambda_b + \lambda_W X` with :math:`X_{ab} = x_a\cdot x_b/n_0`; :math:`V = K^{\{1\}} = 0`.

Orthogonal weights (``init="orthogonal"``): the first layer is Gaussian, :math:`W^{(1)} \sim N(0, C_W/n_0)`, and
every later layer is square, :math:`W^{(l)} = \sqrt{C_W}\, O` with :math:`O` Haar on :math:`O(n)`,
:math:`n = n_1 = \dots = n_L` (square hidden layers are assumed, so :math:`r = 1` and ``r`` does not appear).
Two-weight moments are those of Gaussian weights exactly (:math:`E[O_{ij}O_{kl}] = \delta_{ik}\delta_{jl}/n`);
four-weight moments follow the orthogonal Weingarten calculus,
:math:`E[O_{i_1j_1}\cdots O_{i_4j_4}] = \sum_{p,q} \delta_p(i)\delta_q(j)\,\mathrm{Wg}(p,q)` over pairings
:math:`p, q` with :math:`\mathrm{Wg}(p,p) = (n+1)/(n(n-1)(n+2)) = n^{-2}(1 + O(n^{-2}))` and
:math:`\mathrm{Wg}(p,q\ne p) = -1/(n(n-1)(n+2)) = -n^{-3}(1 + O(1/n))`. At order :math:`1/n` the crossed column
pairings add one term to the four-point vertex and nothing to :math:`K, K^{\{1\}}, \Theta` (two weights):

.. math::
    V'_{(ab)(cd)} = [\text{Gaussian, } r = 1] - C_W^2 (G_{ac} G_{bd} + G_{ad} G_{bc}).

Single input: :math:`V' = \chi_\parallel^2 V + C_W^2(\langle\sigma^4\rangle - 3\langle\sigma^2\rangle^2)`; a
linear network keeps :math:`V = 0` at every depth (:math:`z^{(L)} = M z^{(1)}` with :math:`M` orthogonal).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement

import sympy

from nntheory.errors import SpecError, StatisticError
from nntheory.theory._activations import Activation, as_expr, as_matrix
from nntheory.theory._gaussian import GaussianExpectation, activation_function, kernel_symbols, sub_kernel

__all__ = ["Statistic", "Recursion", "finite_width_recursion", "HYPER", "INITS", "pairs", "V_index"]

C_W, C_b = sympy.symbols("C_W C_b", positive=True)
lambda_W, lambda_b = sympy.symbols("lambda_W lambda_b", nonnegative=True)
r = sympy.Symbol("r", positive=True)
HYPER = (C_W, C_b, lambda_W, lambda_b)
#: the weight initialisations the recursions know
INITS = ("gaussian", "orthogonal")


def _check_init(init: object, where: str) -> str:
    """``init`` if it is one of :data:`INITS`, else a :class:`SpecError` naming ``init``."""
    if not isinstance(init, str) or init not in INITS:
        raise SpecError(f"{where}: init must be one of {', '.join(map(repr, INITS))}, got {init!r}.")
    return init


@dataclass(frozen=True)
class Statistic:
    """One statistic of the recursion: its previous-layer symbols, update and first-layer value.

    ``order`` is the power of ``1/n_{l-1}`` the statistic carries in the full moment.
    """

    name: str
    order: int
    description: str
    symbols: sympy.Array
    update: sympy.Array
    initial: sympy.Array


def pairs(m: int) -> list[tuple[int, int]]:
    """Unordered input pairs ``(a <= b)``: the symmetric kernel variables."""
    return list(combinations_with_replacement(range(m), 2))


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def V_index(a: int, b: int, c: int, d: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Canonical key of ``V_(ab)(cd)`` under its symmetries."""
    p, q = _pair(a, b), _pair(c, d)
    return (p, q) if p <= q else (q, p)


def _V_symbols(m: int) -> dict:
    out = {}
    for i, p in enumerate(pairs(m)):
        for q in pairs(m)[i:]:
            name = "V" if m == 1 else f"V_{p[0] + 1}{p[1] + 1}_{q[0] + 1}{q[1] + 1}"
            out[(p, q)] = sympy.Symbol(name, real=True)
    return out


def _array4(m: int, f) -> sympy.ImmutableDenseNDimArray:
    return sympy.ImmutableDenseNDimArray(
        [f(a, b, c, d) for a in range(m) for b in range(m) for c in range(m) for d in range(m)], (m, m, m, m)
    )


def _matrix(m: int, f) -> sympy.ImmutableDenseNDimArray:
    return sympy.ImmutableDenseNDimArray([f(a, b) for a in range(m) for b in range(m)], (m, m))


@dataclass(frozen=True)
class Recursion:
    r"""Symbolic layer-to-layer maps for ``n_inputs`` inputs.

    ``statistics`` is a tuple of :class:`Statistic`; hyperparameters are the symbols ``C_W, C_b,
    lambda_W, lambda_b`` and the width ratio ``r``; ``gram`` holds the symbols :math:`X_{ab}`.
    Later statistics (NTK fluctuations, dNTK, ddNTK) are more entries of ``statistics``. ``init`` is the weight
    initialisation the updates are for (``"gaussian"``, or ``"orthogonal"``: square hidden layers, ``r = 1``).
    """

    activation: Activation
    n_inputs: int
    statistics: tuple[Statistic, ...]
    gram: sympy.ImmutableMatrix
    init: str = "gaussian"

    hyper = HYPER
    ratio = r

    def __getitem__(self, name: str) -> Statistic:
        for s in self.statistics:
            if s.name == name:
                return s
        raise StatisticError(f"Recursion has no statistic {name!r}; it has {[s.name for s in self.statistics]}.")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.statistics)

    def restrict(self, names: tuple[str, ...]) -> "Recursion":
        """The sub-recursion of ``names``; raises if a kept update needs a dropped statistic."""
        keep = tuple(self[n] for n in names)
        dropped = set().union(*(set(sympy.flatten(s.symbols.tolist())) for s in self.statistics if s.name not in names))
        for s in keep:
            need = s.update.free_symbols & dropped
            if need:
                raise SpecError(f"restrict: {s.name} needs {sorted(map(str, need))}; keep those statistics too.")
        return Recursion(self.activation, self.n_inputs, keep, self.gram, self.init)

    def update(self, name: str) -> sympy.Expr | sympy.Array:
        """The update of ``name``; a scalar for a single input."""
        u = self[name].update
        return u[(0,) * u.rank()] if self.n_inputs == 1 else u

    def step(self, state: dict, values: dict) -> dict:
        """One exact layer step: ``state`` maps names to arrays of values, ``values`` the hyperparameters."""
        subs = dict(values)
        for s in self.statistics:
            subs.update(zip(s.symbols.flat if hasattr(s.symbols, "flat") else _flat(s.symbols), _flat(state[s.name])))
        # xreplace (one structural pass over symbols) instead of subs: same values, ~80x faster on the
        # large closed forms of the NTK sector; strict sympify refuses anything but numbers/expressions
        subs = {k: sympy.sympify(v, strict=True) for k, v in subs.items()}
        return {s.name: s.update.xreplace(subs).doit() for s in self.statistics}

    def iterate(self, depth: int, gram: object, **values: object) -> list[dict]:
        """Exact per-layer values ``[{name: array}, ...]`` for layers ``1..depth``.

        ``values`` give ``C_W, C_b, lambda_W, lambda_b`` and optionally ``widths`` (hidden widths,
        for the ratios ``r``); anything not given stays symbolic. ``precision=D`` evaluates each
        layer's closed forms to ``D`` significant digits (mpmath) instead of keeping nested exact
        expressions, which grow with depth; inert expectations stay inert.
        """
        widths = values.pop("widths", None)
        precision = values.pop("precision", None)
        if widths is not None and self.init == "orthogonal" and len(set(widths)) > 1:
            raise SpecError(f"iterate: widths {list(widths)}: init='orthogonal' assumes square hidden layers "
                            "(n_1 = .. = n_L); give equal widths or none.")
        hyper = {sym: as_expr(values[str(sym)], label=str(sym)) for sym in HYPER if str(sym) in values}
        X = as_matrix(gram, label="gram")
        first = {s.name: s.initial.subs(dict(zip(_flat(self.gram), _flat(X)))).subs(hyper) for s in self.statistics}
        layers = [first]
        for l in range(1, depth):
            ratio = 1 if widths is None or l == 1 else sympy.Rational(widths[l - 1], widths[l - 2])
            nxt = self.step(layers[-1], {**hyper, r: ratio})
            if precision is not None:
                nxt = {k: v.applyfunc(lambda e: sympy.N(e, precision)) for k, v in nxt.items()}
            layers.append(nxt)
        return layers

    def latex(self) -> str:
        rows = [rf"{s.name}' &= {sympy.latex(self.update(s.name))}" for s in self.statistics]
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def __str__(self) -> str:
        lines = [f"Recursion for {self.activation.name}, {self.n_inputs} input(s)"
                 + (", orthogonal weights (square hidden layers):" if self.init == "orthogonal" else ":")]
        for s in self.statistics:
            lines.append(f"  {s.name}' = {self.update(s.name)}    [{s.description}]")
        return "\n".join(lines)


def _flat(a) -> list:
    if isinstance(a, (sympy.MatrixBase, sympy.NDimArray)):
        return list(a) if isinstance(a, sympy.MatrixBase) else list(sympy.flatten(a.tolist()))
    return [a]


def _two_point(act: Activation, K: sympy.Matrix, a: int, b: int, deriv: int = 0) -> sympy.Expr:
    """``<sigma^(k)(z_a) sigma^(k)(z_b)>`` as a function of the kernel symbols (closed form if known)."""
    s = activation_function(act)
    zs = sympy.symbols("z1 z2", real=True)
    if a == b:
        f = sympy.diff(s(zs[0]), zs[0], deriv) ** 2
        return GaussianExpectation(f, zs[:1], sub_kernel(K, [a])).doit()
    f = sympy.diff(s(zs[0]), zs[0], deriv) * sympy.diff(s(zs[1]), zs[1], deriv)
    return GaussianExpectation(f, zs, sub_kernel(K, [a, b])).doit()


def _four_point(act: Activation, K: sympy.Matrix, idx: tuple[int, ...]) -> sympy.Expr:
    s = activation_function(act)
    distinct = sorted(set(idx))
    zs = sympy.symbols(f"z1:{len(distinct) + 1}", real=True)
    f = sympy.Mul(*[s(zs[distinct.index(i)]) for i in idx])
    return GaussianExpectation(f, zs, sub_kernel(K, distinct)).doit()


def _vertex_updates(act: Activation, K, Vs: dict, G: dict, dG: dict, init: str = "gaussian") -> dict:
    """``V'_(pq) = C_W^2 (<s s s s> - <s s>_p <s s>_q) + r C_W^2 sum_st dG_p/dK_s dG_q/dK_t V_st`` (PDLT eq. 4.90);
    orthogonal weights add ``- C_W^2 (G_ac G_bd + G_ad G_bc)`` for ``p = (a, b)``, ``q = (c, d)`` (module docstring)."""
    P = list(G)
    four, out = {}, {}
    for key in Vs:
        p, q = key
        idx = p + q
        if idx not in four:
            four[idx] = _four_point(act, K, idx)
        carried = sum(dG[p][s] * dG[q][t] * Vs[V_index(*s, *t)] for s in P for t in P if dG[p][s] != 0 and dG[q][t] != 0)
        out[key] = C_W**2 * (four[idx] - G[p] * G[q]) + r * C_W**2 * carried
        if init == "orthogonal":
            (a, b), (c, d) = p, q
            out[key] -= C_W**2 * (G[_pair(a, c)] * G[_pair(b, d)] + G[_pair(a, d)] * G[_pair(b, c)])
    return out


def _nlo_updates(K, K1, Vs: dict, dG: dict) -> dict:
    """``K1'_p = r C_W (sum_s dG_p/dK_s K1_s + 1/2 sum_st d2G_p/dK_s dK_t V_st)`` (PDLT eq. 4.118)."""
    P = list(dG)
    out = {}
    for p in P:
        lin = sum(dG[p][s] * K1[s] for s in P)
        quad = sum(sympy.diff(dG[p][s], K[t]) * Vs[V_index(*s, *t)] for s in P for t in P if dG[p][s] != 0)
        out[p] = r * (C_W * lin + C_W / 2 * quad)
    return out


def _statistics(m: int, K, X, K1, Th, Vs, G, T, V_upd, K1_upd) -> tuple[Statistic, ...]:
    """The four statistics with their symbols, layer updates and first-layer values."""
    def sym(d, a, b):
        return d[_pair(a, b)]

    return (
        Statistic("K", 0, "kernel <z_a z_b>, leading order", _matrix(m, lambda a, b: K[a, b]),
                  _matrix(m, lambda a, b: C_b + C_W * sym(G, a, b)), _matrix(m, lambda a, b: C_b + C_W * X[a, b])),
        Statistic("V", 1, "four-point vertex: connected <z_i z_i z_j z_j> = V/n_{l-1}, i != j",
                  _array4(m, lambda a, b, c, d: Vs[V_index(a, b, c, d)]),
                  _array4(m, lambda a, b, c, d: V_upd[V_index(a, b, c, d)]), _array4(m, lambda a, b, c, d: 0)),
        Statistic("K1", 1, "NLO kernel correction: <z_a z_b> = K + K1/n_{l-1}", _matrix(m, lambda a, b: K1[a, b]),
                  _matrix(m, lambda a, b: sym(K1_upd, a, b)), _matrix(m, lambda a, b: 0)),
        Statistic("Theta", 0, "NTK mean, leading order", _matrix(m, lambda a, b: Th[a, b]),
                  _matrix(m, lambda a, b: lambda_b + lambda_W * sym(G, a, b) + C_W * sym(T, a, b) * Th[a, b]),
                  _matrix(m, lambda a, b: lambda_b + lambda_W * X[a, b])),
    )


def _square(stats: tuple[Statistic, ...]) -> tuple[Statistic, ...]:
    """The statistics with ``r = 1`` in every update (square hidden layers)."""
    def one(e):
        return e.xreplace({r: sympy.Integer(1)}) if isinstance(e, sympy.Basic) else e
    return tuple(Statistic(s.name, s.order, s.description, s.symbols, s.update.applyfunc(one), s.initial)
                 for s in stats)


def finite_width_recursion(act: Activation, n_inputs: int = 1, init: str = "gaussian") -> Recursion:
    r"""The recursions of :math:`K, V, K^{\{1\}}, \Theta` for ``n_inputs`` inputs, in symbolic hyperparameters.

    Args:
        act: the activation.
        n_inputs: the number of inputs (the Gram matrix is ``n_inputs x n_inputs``).
        init: ``"gaussian"`` (default; ``W ~ N(0, C_W/n_{l-1})``) or ``"orthogonal"`` (Gaussian first layer, then
            square layers ``sqrt(C_W) O`` with ``O`` Haar-orthogonal: ``r = 1``; the Weingarten term of ``V`` in the
            module docstring).
    Returns:
        A :class:`Recursion` with statistics ``K`` (order 1), ``V``, ``K1`` (order ``1/n``) and
        ``Theta`` (order 1), each with its symbols, layer update and first-layer value.

    Raises:
        SpecError: ``init`` not one of :data:`INITS`.

    Example:
        >>> from nntheory.theory import activation
        >>> rec = finite_width_recursion(activation("relu"))
        >>> rec.update("K")
        C_W*K/2 + C_b
        >>> rec.update("V")
        5*C_W**2*K**2/4 + C_W**2*V*r/4
        >>> finite_width_recursion(activation("relu"), init="orthogonal").update("V")
        3*C_W**2*K**2/4 + C_W**2*V/4
    """
    return _finite_width_recursion(act, n_inputs, _check_init(init, "finite_width_recursion"))


@lru_cache(maxsize=64)
def _finite_width_recursion(act: Activation, n_inputs: int, init: str) -> Recursion:
    m = n_inputs
    K, X = kernel_symbols(m, "K"), kernel_symbols(m, "X")
    K1, Th = kernel_symbols(m, "K1"), kernel_symbols(m, "Theta")
    Vs = _V_symbols(m)
    P = pairs(m)
    G = {p: _two_point(act, K, *p) for p in P}
    dG = {p: {q: sympy.diff(G[p], K[q]) for q in P} for p in P}
    T = {p: _two_point(act, K, *p, deriv=1) for p in P}
    V_upd = _vertex_updates(act, K, Vs, G, dG, init)
    K1_upd = _nlo_updates(K, K1, Vs, dG)
    stats = _statistics(m, K, X, K1, Th, Vs, G, T, V_upd, K1_upd)
    if init == "orthogonal":
        stats = _square(stats)
    return Recursion(activation=act, n_inputs=m, statistics=stats, gram=X, init=init)
