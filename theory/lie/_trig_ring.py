"""Exact polynomial arithmetic for generators with trigonometric functions of angle coordinates.

An *angle* is a base coordinate ``z`` that occurs in the generators only inside ``sin``, ``cos``,
``tan``, ``cot``, ``sec`` or ``csc`` of an integer multiple of ``z`` (or ``tan``/``cot`` of
``z/2``): the spherical coordinates ``(theta, phi)`` of the rotation fields on the sphere. It is
represented by ``c_z = cos z`` and ``s_z = sin z`` in the ring

.. math:: A = \\mathbb{Q}[c_z, s_z, \\text{other coordinates}] / (c_z^2 + s_z^2 - 1),

with ``d/dz = -s_z d/dc_z + c_z d/ds_z``. The ideal is prime and ``{c^2 + s^2 - 1}`` is a Groebner
basis for any order with ``s > c``, so the normal form (``s_z``-degree at most 1; :meth:`reduce`) is
unique: an expression is identically zero iff its normal form is 0, and an identity may be multiplied
by a denominator whose normal form is not 0. Rational points of the circle,
``((1 - t^2)/(1 + t^2), 2t/(1 + t^2))``, keep evaluation exact over QQ. Whatever the spelling of
the generators (``cos/sin``, ``1/tan``, ``cot``, ``csc``, ``sin(2 z)``, ``tan(z/2)``), the ring
element is the same, so rewritings never change the result.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass, field

import sympy
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from nntheory.errors import InvariantError

__all__: list[str] = []

_TRIG = (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)


def _trig_angles(exprs, base) -> tuple[sympy.Symbol, ...] | None:
    """The angle coordinates of ``exprs`` (in ``base`` order), () when there is no trigonometric
    function of a coordinate, None when some coordinate occurs both inside and outside them or a
    trigonometric argument is not a supported multiple of one coordinate."""
    exprs = [sympy.sympify(e) for e in exprs]
    marked = set()
    for e in exprs:
        for f in e.atoms(*_TRIG):
            if not f.args[0].free_symbols:
                continue
            z = _angle_of(f)
            if z is None:
                return None
            marked.add(z)
    if not marked:
        return ()
    for e in exprs:
        stripped = e.xreplace({f: sympy.Integer(1) for f in e.atoms(*_TRIG)})
        if stripped.free_symbols & marked:
            return None
    return tuple(z for z in base if z in marked)


def _angle_of(f: sympy.Expr) -> sympy.Symbol | None:
    """``z`` for ``f(k z)`` (``k`` a non-zero integer) or ``tan/cot(z/2)``; None otherwise."""
    arg = f.args[0]
    syms = arg.free_symbols
    if len(syms) != 1:
        return None
    z = next(iter(syms))
    k = sympy.cancel(arg / z)
    if k.is_Integer and k != 0 and abs(k) <= 12:
        return z
    if k in (sympy.Rational(1, 2), sympy.Rational(-1, 2)) and isinstance(f, (sympy.tan, sympy.cot)):
        return z
    return None


@dataclass(frozen=True)
class _TrigRing:
    """``QQ[c_z, s_z, coordinates] / (c_z^2 + s_z^2 - 1)`` for the angles ``angles`` and the other
    ``coords`` (jet coordinates; angles among them are represented by their cosine and sine)."""

    coords: tuple[sympy.Symbol, ...]
    angles: tuple[sympy.Symbol, ...]
    R: object = field(init=False, compare=False, repr=False)
    gen: dict = field(init=False, compare=False, repr=False)
    cs: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        plain = [c for c in self.coords if c not in self.angles]
        names = [f"_cos_{z.name}" for z in self.angles] + [f"_sin_{z.name}" for z in self.angles] + [str(c) for c in plain]
        R, *gens = ring(names, QQ)
        na = len(self.angles)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "gen", dict(zip(plain, gens[2 * na:])))
        object.__setattr__(self, "cs", {z: (gens[i], gens[na + i]) for i, z in enumerate(self.angles)})

    # ------------------------------------------------------------------ conversion
    def _rational(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with ``cos z, sin z`` replaced by the ring's symbols (a rational expression)."""
        expr = sympy.sympify(expr)
        rep = {}
        for f in expr.atoms(*_TRIG):
            if not f.args[0].free_symbols:
                continue
            z = _angle_of(f)
            if z not in self.cs:
                raise InvariantError(f"trigonometric ring: {f} is not a function of one of the angles {list(self.angles)}.")
            rep[f] = self._trig_value(f, z)
        out = expr.xreplace(rep)
        plain = {c: sympy.Symbol(str(c)) for c in self.gen}
        out = out.xreplace(plain)
        left = out.free_symbols - {sympy.Symbol(str(g)) for g in self.R.gens}
        if left:
            raise InvariantError(f"trigonometric ring: {sorted(map(str, left))} outside the ring of {list(self.coords)}.")
        return out

    def _trig_value(self, f: sympy.Expr, z: sympy.Symbol) -> sympy.Expr:
        c, s = (sympy.Symbol(str(g)) for g in self.cs[z])
        k = sympy.cancel(f.args[0] / z)
        if not k.is_Integer:  # tan or cot of +-z/2: (1 - cos z)/sin z
            half = (1 - c) / s if k > 0 else -(1 - c) / s
            return half if isinstance(f, sympy.tan) else 1 / half
        k = int(k)
        ck, sk = _de_moivre(c, s, abs(k))
        if k < 0:
            sk = -sk
        return {sympy.sin: sk, sympy.cos: ck, sympy.tan: sk / ck, sympy.cot: ck / sk,
                sympy.sec: 1 / ck, sympy.csc: 1 / sk}[type(f)]

    def fraction(self, expr: sympy.Expr):
        """``(numerator, denominator)`` ring elements in normal form with ``expr = num/den``.

        Raises:
            InvariantError: ``expr`` is not rational in the ring's variables, or its denominator
                vanishes identically.
        """
        num, den = sympy.fraction(sympy.together(self._rational(expr)))
        try:
            n, d = self.R(sympy.expand(num)), self.R(sympy.expand(den))
        except (ValueError, TypeError, sympy.PolynomialError) as exc:
            raise InvariantError(f"trigonometric ring: {expr} is not rational in the ring ({exc}).") from None
        n, d = self.reduce(n), self.reduce(d)
        if not d:
            raise InvariantError(f"trigonometric ring: the denominator of {expr} vanishes identically.")
        return n, d

    def element(self, expr: sympy.Expr):
        """The normal form of a polynomial ``expr`` (a non-constant denominator raises InvariantError)."""
        n, d = self.fraction(expr)
        if d.is_ground:
            return n * (QQ(1) / d.LC)
        raise InvariantError(f"trigonometric ring: {expr} is not a polynomial in the ring.")

    def reduce(self, p, keep: str = "sin"):
        """Normal form of ``p``: ``s_z^2`` replaced by ``1 - c_z^2`` until every ``s_z`` degree is <= 1
        (``keep="cos"``: the other normal form, ``c_z``-degree <= 1, for display)."""
        R = self.R
        for c, s in self.cs.values():
            if keep == "cos":
                c, s = s, c
            si = R.gens.index(s)
            if all(m[si] < 2 for m in p.keys()):
                continue
            one_minus = R.one - c**2
            out = R.zero
            for m, coef in p.items():
                e = list(m)
                k, e[si] = divmod(e[si], 2)
                out += R({tuple(e): coef}) * one_minus**k
            p = out
        return p

    def tidy(self, expr: sympy.Expr) -> sympy.Expr:
        """A short form of a polynomial ``expr``: the shorter of the two normal forms, factored
        (``expr`` itself when it is not a polynomial in the ring)."""
        try:
            p = self.element(expr)
        except InvariantError:
            return expr
        q = min((self.reduce(p, keep="cos"), p), key=lambda f: sympy.count_ops(f.as_expr()))
        if q and q.LC < 0:
            q = -q
        return self._back(sympy.factor(q.as_expr()))

    def _back(self, e: sympy.Expr) -> sympy.Expr:
        back = {sympy.Symbol(str(g)): c for c, g in self.gen.items()}
        for z, (c, s) in self.cs.items():
            back[sympy.Symbol(str(c))] = sympy.cos(z)
            back[sympy.Symbol(str(s))] = sympy.sin(z)
        return e.xreplace(back)

    def to_expr(self, p) -> sympy.Expr:
        """The sympy expression of a ring element (``cos z``, ``sin z`` and the coordinates)."""
        return self._back(p.as_expr())

    # ------------------------------------------------------------------ calculus and points
    def diff(self, p, coord: sympy.Symbol):
        """``d p / d coord`` (for an angle ``-s dp/dc + c dp/ds``, in normal form)."""
        if coord in self.cs:
            c, s = self.cs[coord]
            return self.reduce(-s * p.diff(c) + c * p.diff(s))
        return p.diff(self.gen[coord])

    def variables(self, coords) -> list:
        """The ring generators of ``coords`` (an angle gives its cosine and sine)."""
        out = []
        for c in coords:
            out += list(self.cs[c]) if c in self.cs else [self.gen[c]]
        return out

    def points(self, count: int, seed: int):
        """``count`` reproducible rational points ``[(generator, value)]``, angles on the unit circle."""
        rng = random.Random(seed)
        out = []
        for _ in range(count):
            vals = []
            for z, (c, s) in self.cs.items():
                t = QQ(rng.randint(3, 29), rng.randint(7, 31)) * rng.choice((1, -1))
                vals += [(c, (1 - t**2) / (1 + t**2)), (s, 2 * t / (1 + t**2))]
            for g in self.gen.values():
                vals.append((g, QQ(rng.randint(3, 29), rng.randint(7, 31)) * rng.choice((1, -1))))
            out.append(vals)
        return out


def _de_moivre(c: sympy.Symbol, s: sympy.Symbol, k: int):
    """``(cos(k z), sin(k z))`` as polynomials in ``c = cos z``, ``s = sin z``."""
    ck, sk = sympy.Integer(1), sympy.Integer(0)
    for _ in range(k):
        ck, sk = sympy.expand(ck * c - sk * s), sympy.expand(sk * c + ck * s)
    return ck, sk


@functools.lru_cache(maxsize=64)
def _trig_ring(coords: tuple[sympy.Symbol, ...], angles: tuple[sympy.Symbol, ...]) -> _TrigRing:
    return _TrigRing(coords, angles)


# ---------------------------------------------------------------------- the ansatz over the ring
def _action_ring(action, order: int) -> _TrigRing | None:
    """The ring of ``J^order`` for an action whose generators are trigonometric in some angles
    (None for rational generators or unsupported ones)."""
    angles = _trig_angles([c for g in action.generators for c in g], action.jet.base)
    if not angles:
        return None
    return _trig_ring(tuple(action.jet.coordinates(max(order, 1))), angles)


def _generator_equations(action, tr: _TrigRing, a: int, order: int, variables, lam: sympy.Expr):
    """``(coef, la)``: ``pr v_a = sum coef[v] d/dv / den`` on ``variables`` and ``lambda_a = la / den``
    (ring elements over one common denominator ``den``)."""
    pro = action.prolong(a, order)
    fr = {v: tr.fraction(pro[v]) for v in variables}
    fl = tr.fraction(lam)
    den = tr.R.one
    for _, d in list(fr.values()) + [fl]:
        den = den.lcm(d) if not d.is_ground else den
    coef = {v: tr.reduce(n * den.exquo(d) if not d.is_ground else n * den * (QQ(1) / d.LC)) for v, (n, d) in fr.items()}
    n, d = fl
    la = tr.reduce(n * den.exquo(d) if not d.is_ground else n * den * (QQ(1) / d.LC))
    return coef, la


#: the trigonometric degree of a monomial may exceed its degree in the other variables by this much
_TRIG_EXTRA = 2


@functools.lru_cache(maxsize=32)
def _ring_images(action, order: int, variables: tuple[sympy.Symbol, ...], degree: int, lams: tuple, max_unknowns: int):
    """``(ring, monomial expressions, images)`` as ``_ansatz._images`` but over the trigonometric
    ring: monomials of degree ``0..degree`` in the non-angle ``variables`` times monomials of degree
    ``<= degree + _TRIG_EXTRA`` in the angles' cosines and sines in normal form (``s_z``-degree <= 1),
    and per generator ``(pr v_a(m), lambda_a m)`` times a common denominator.

    Raises:
        InvariantError: more than ``max_unknowns`` monomials.
    """
    tr = _action_ring(action, order)
    angles = [v for v in variables if v in tr.cs]
    plain = [tr.gen[v] for v in variables if v not in tr.cs]
    trig = [tr.R.one]
    for z in angles:
        c, s = tr.cs[z]
        trig = [t * c**i * s**j for t in trig for i in range(degree + _TRIG_EXTRA + 1) for j in (0, 1)]
    trig = [t for t in trig if sum(t.degrees()) <= degree + _TRIG_EXTRA]
    jets = [tr.R.one]
    for d in range(1, degree + 1):
        for m in itertools.combinations_with_replacement(plain, d):
            mono = tr.R.one
            for g in m:
                mono *= g
            jets.append(mono)
    monos = [t * j for j in jets for t in trig]
    if len(monos) > max_unknowns:
        raise InvariantError(f"ansatz: {len(monos)} monomials of degree <= {degree} at order {order} exceed {max_unknowns}.")
    exprs = [tr.to_expr(m) for m in monos]
    images = []
    for a in range(action.r):
        coef, la = _generator_equations(action, tr, a, order, variables, lams[a])
        row = []
        for mono in monos:
            img = tr.R.zero
            for v in variables:
                dm = tr.diff(mono, v)
                if dm:
                    img += coef[v] * dm
            row.append((tr.reduce(img), tr.reduce(la * mono)))
        images.append(row)
    return tr, exprs, images


def _ring_log_rows(tr: _TrigRing, factored, top, seed: int) -> int:
    """Generic rank of ``[d log I_j / d z]`` (``z`` in ``top``) for ``I_j = prod f^e`` over the
    trigonometric ring, exact over QQ at two rational points (angles on the circle); -1 when a
    factor is outside the ring."""
    from sympy.polys.matrices import DomainMatrix

    polys = []
    for facs in factored:
        row = []
        for f, e in facs:
            try:
                n, d = tr.fraction(f)
            except InvariantError:
                return -1
            q = QQ(int(sympy.Rational(e).p), int(sympy.Rational(e).q))
            row += [(n, q)] + ([] if d.is_ground else [(d, -q)])
        polys.append(row)
    best = 0
    for vals in tr.points(2, seed):
        def ev(p):
            return p.evaluate(vals) if p else QQ(0)

        rows, ok = [], True
        for facs in polys:
            fv = [(ev(f), e, f) for f, e in facs]
            if any(v == 0 for v, _, _ in fv):
                ok = False
                break
            rows.append([sum((e * ev(tr.diff(f, z)) / v for v, e, f in fv), QQ(0)) for z in top])
        if ok:
            best = max(best, DomainMatrix(rows, (len(rows), len(top)), QQ).rank())
    return best


def _ring_annihilated(action, I: sympy.Expr, order: int, factors) -> bool | None:
    """Exact ``pr v_a(I) = 0`` for ``I = const * prod f^e`` over the trigonometric ring: the
    numerator of ``sum e_f pr v_a(f) / f`` over the common denominator reduces to 0 (the ring is an
    integral domain). None when ``I`` is not of that form."""
    action = _ring_form(action)  # radicals: the equal rational form (checked equal on an open set)
    if action is None:
        return None
    tr = _action_ring(action, order)
    coords = action.jet.coordinates(order)
    try:
        fr = []
        for f, e in factors:
            n, d = tr.fraction(f)
            q = QQ(int(sympy.Rational(e).p), int(sympy.Rational(e).q))
            fr += [(n, q)] + ([] if d.is_ground else [(d, -q)])
        if any(not f for f, _ in fr):
            return None
        for a in range(action.r):
            lam_free = sympy.Integer(0)
            coef, _ = _generator_equations(action, tr, a, order, coords, lam_free)
            total = tr.R.zero
            for k, (f, e) in enumerate(fr):
                img = tr.R.zero
                for c in coords:
                    df = tr.diff(f, c)
                    if df:
                        img += coef[c] * df
                others = tr.R.one
                for j, (g, _) in enumerate(fr):
                    if j != k:
                        others *= g
                total += img * others * e
            if tr.reduce(total):
                return False
    except InvariantError:
        return None
    return True


# ---------------------------------------------------------------------- radicals
@functools.lru_cache(maxsize=32)
def _ring_form(action):
    """An action equal to ``action`` whose generators are rational in the cosines and sines of its
    angles: ``action`` itself when they already are, else the generators with every square root of
    a square of the ring replaced by its root (``sqrt(1 - cos(z)^2) -> sin(z)``, the branch that
    agrees near the reference points, checked there by ``_zero._is_zero``: equal fields on an open
    set have the same local invariants). None when there is no such form."""
    from nntheory.theory.lie._actions import LieAlgebraAction

    angles = _trig_angles([c for g in action.generators for c in g], action.jet.base)
    if not angles:
        return None
    tr = _trig_ring(tuple(action.jet.base), angles)
    new, changed = [], False
    for g in action.generators:
        comps = []
        for c in g:
            c = sympy.sympify(c)
            try:
                tr.fraction(c)
                comps.append(c)
                continue
            except InvariantError:
                pass
            c2 = _without_radicals(tr, c)
            if c2 is None:
                return None
            comps.append(c2)
            changed = True
        new.append(tuple(comps))
    if not changed:
        return action
    return LieAlgebraAction(action.jet, tuple(new), action.names, structure_constants=action.structure_constants)


def _without_radicals(tr: _TrigRing, expr: sympy.Expr) -> sympy.Expr | None:
    """``expr`` with each ``b^(k/2)`` (``b`` a square in the ring) replaced by ``(+-root)^k``, checked
    equal to ``expr`` near the reference points; None when that fails."""
    from nntheory.theory.lie._zero import _is_zero

    rep = {}
    for pw in expr.atoms(sympy.Pow):
        if not (pw.exp.is_Rational and pw.exp.q == 2 and pw.base.free_symbols):
            continue
        root = _ring_sqrt(tr, pw.base)
        if root is None:
            return None
        rep[pw] = root ** (2 * pw.exp)
    if not rep:
        return None
    out = expr.xreplace(rep)
    try:
        tr.fraction(out)
    except InvariantError:
        return None
    if _is_zero(out - expr):
        return out
    # the other branch of every root at once (the usual case is a single radical)
    out = expr.xreplace({pw: (-r) for pw, r in rep.items()})
    return out if _is_zero(out - expr) else None


def _ring_sqrt(tr: _TrigRing, b: sympy.Expr) -> sympy.Expr | None:
    """A square root of ``b`` rational in the ring (one of its two normal forms is a square), or None."""
    try:
        n, d = tr.fraction(b)
    except InvariantError:
        return None
    roots = []
    for p in (n, d):
        for q in (tr.reduce(p, keep="cos"), p):
            r = sympy.powdenest(sympy.sqrt(sympy.factor(q.as_expr())), force=True)
            if not any(a.exp.is_Rational and not a.exp.is_Integer for a in r.atoms(sympy.Pow)):
                roots.append(tr._back(r))
                break
        else:
            return None
    return roots[0] / roots[1]
