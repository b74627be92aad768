r"""SO(3) numerics: correctly rounded tables from the exact values, fast stable float recursions,
Wigner d/D and real spherical harmonics in JAX, and an equivariant tensor product.

Conventions are those of :mod:`nntheory.theory` (Condon–Shortley, ZYZ active, ``m`` ascending,
real tesseral basis); see ``nntheory.theory._so3``.

Two routes to Clebsch–Gordan tables:

* ``method="exact"``: every entry from the exact integer route, rounded once (nearest, ties to
  even) to float64 or float32, at any ``l``; exact zeros stay zeros. Cost grows like ``L^5`` entries
  times a big-integer Racah sum, fine to ``L ~ 16``.
* ``method="recursion"``: highest-weight vectors from the two-term relation ``J_+ |J J> = 0`` and
  the lowering operator ``J_-`` applied column by column (numpy, vectorised over ``J``). Every step
  is a normalised isometry on the ``J`` subspace, so the absolute error stays at a few ulp of 1
  (measured in the tests and ``benchmarks/tables.py``); entries much smaller than 1 lose relative
  accuracy. Use it for large ``L``.

Wigner ``d^j(beta)`` in JAX by the tensor-product (Risbo-type) recursion
``d^j = P_j (d^{j-1/2} (x) d^{1/2}) P_j^T`` in half-integer steps: each step combines four shifted
copies of the previous matrix with coefficients ``sqrt((n-i)(n-k))/n`` etc., an orthogonal
projection of an orthogonal matrix, so it is stable to any ``j`` (unitarity error ~1e-14 at
``j = 200``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

from nntheory.errors import SpinError
from nntheory.theory._su2 import ExactValue, _cg_from_doubled, _square_free_split, _factorial, _sqrt_factorial_ratio, _threej, two_j

__all__ = [
    "LookupTable",
    "sh_table",
    "wigner_d_table",
    "cg_blocks",
    "cg_table",
    "real_basis_change_matrix",
    "real_spherical_harmonics",
    "round_exact",
    "tensor_product",
    "wigner_D_matrix",
    "wigner_D_real_matrix",
    "wigner_d_half_pi",
    "wigner_d_matrix",
]

_RECURSION_FLOOR = 1e-14  # entries of recursion tables below this are dropped (absolute accuracy)
_FORMATS = {"float64": (53, -1074), "float32": (24, -149)}


def _dtype_bits(dtype) -> tuple[int, int]:
    name = np.dtype(dtype).name
    if name not in _FORMATS:
        raise SpinError(f"dtype must be float32 or float64, got {name}")
    return _FORMATS[name]


def round_exact(value: ExactValue, dtype="float64") -> float:
    """Correctly rounded float (nearest, ties to even) of an exact coefficient, as a Python float."""
    return value.to_float(*_dtype_bits(dtype))


def _round_mpf(x: mpmath.mpf, dtype) -> float:
    """Correctly round a (high-precision) mpf to float64/float32 with subnormals."""
    bits, emin = _dtype_bits(dtype)
    if x == 0:
        return 0.0
    sign, man, exp, _ = x._mpf_
    return (-1.0 if sign else 1.0) * _round_fraction(int(man), -exp, bits, emin)


# --------------------------------------------------------------------------- real basis (numeric)


@lru_cache(maxsize=None)
def real_basis_change_matrix(l: int) -> np.ndarray:
    """Complex128 ``U`` with ``Y_real = U Y_complex`` (same as ``theory.real_basis_change``)."""
    n = 2 * l + 1
    U = np.zeros((n, n), complex)
    h = 1 / math.sqrt(2)
    for m in range(-l, l + 1):
        s = -1 if m % 2 else 1
        if m > 0:
            U[m + l, l - m], U[m + l, l + m] = h, s * h
        elif m == 0:
            U[l, l] = 1
        else:
            U[m + l, l + m], U[m + l, l - m] = 1j * h, -1j * s * h
    U.setflags(write=False)
    return U


def _real_basis_terms(l: int, m: int):
    """Nonzero entries (complex m', coefficient as mpc) of row m of conj(U) at working precision."""
    h = mpmath.sqrt(2) / 2
    s = -1 if m % 2 else 1
    if m > 0:
        return [(-m, h), (m, s * h)]
    if m == 0:
        return [(0, mpmath.mpf(1))]
    return [(m, -1j * h), (-m, 1j * s * h)]


# --------------------------------------------------------------------------- CG tables


@dataclass(frozen=True)
class LookupTable:
    """A table of nonzero values in coordinate (COO) form, ready to export.

    ``index[k]`` holds the integer labels named by ``meta["index"]`` (for CG tables
    ``(l1, m1, l2, m2, L, M)``; ``m`` is the real-basis index for ``basis="real"``), ``value[k]`` the
    entry (``value`` has a second axis ``(re, im)`` for complex entries). ``meta`` records kind,
    parameters, conventions and accuracy; :meth:`dense` rebuilds one CG block.
    """

    index: np.ndarray
    value: np.ndarray
    meta: dict = field(compare=False)

    def __len__(self):
        return len(self.value)

    def dense(self, l1: int, l2: int, L: int) -> np.ndarray:
        """The dense ``(2l1+1, 2l2+1, 2L+1)`` block of one triple (CG tables)."""
        if self.meta.get("kind") != "cg":
            raise SpinError(f"dense blocks exist for CG tables only, this is a {self.meta.get('kind')!r} table")
        sel = (self.index[:, 0] == l1) & (self.index[:, 2] == l2) & (self.index[:, 4] == L)
        out = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * L + 1), self.value.dtype)
        idx = self.index[sel]
        out[idx[:, 1] + l1, idx[:, 3] + l2, idx[:, 5] + L] = self.value[sel]
        return out


CONVENTIONS = {
    "phase": "Condon-Shortley",
    "rotation": "D = exp(-i alpha Jz) exp(-i beta Jy) exp(-i gamma Jz), active, ZYZ",
    "index_order": "m ascending",
    "real_basis": "tesseral: m>0 sqrt2 (-1)^m Re Y_l^m, m<0 sqrt2 (-1)^m Im Y_l^|m|; l=1 ~ (y, z, x)",
    "cg": "<l1 m1 l2 m2 | L M>",
}


def _validate_table_args(lmax, basis, normalization, dtype, method):
    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise SpinError(f"lmax must be a non-negative integer, got {lmax!r}")
    if basis not in ("real", "complex"):
        raise SpinError(f"basis must be 'real' or 'complex', got {basis!r}")
    if normalization not in ("cg", "3j", "unit"):
        raise SpinError(f"normalization must be 'cg', '3j' or 'unit', got {normalization!r}")
    _dtype_bits(dtype)
    if method not in ("exact", "recursion"):
        raise SpinError(f"method must be 'exact' or 'recursion', got {method!r}")


def cg_table(lmax: int, *, basis: str = "real", normalization: str = "cg", dtype="float64",
             method: str = "exact", lmin: int = 0) -> LookupTable:
    r"""All nonzero coupling coefficients with ``lmin <= l1, l2, L <= lmax`` (integer ``l``).

    ``normalization``: ``"cg"`` ``<l1 m1 l2 m2|L M>``; ``"unit"`` that divided by ``sqrt(2L+1)``
    (unit Frobenius norm per triple, e3nn's choice); ``"3j"`` the 3j symbol with ``M`` standing for
    ``m3`` (complex basis) or the real invariant tensor (real basis).
    ``method="exact"`` rounds each exact value once (complex basis: the exact sqrt-rational; real
    basis: the 2–4-term combination evaluated with 256-bit mpmath, then rounded), so entries are
    correctly rounded. ``method="recursion"`` is the fast float64 route (see module docstring),
    rounded to ``dtype`` at the end.
    """
    _validate_table_args(lmax, basis, normalization, dtype, method)
    idx, val = [], []
    for l1 in range(lmin, lmax + 1):
        for l2 in range(lmin, lmax + 1):
            if method == "recursion":
                i, v = _recursion_pair(l1, l2, lmin, lmax, basis, normalization)
                keep = np.abs(v) >= _RECURSION_FLOOR  # below the absolute accuracy: indistinguishable from 0
                i, v = i[keep], v[keep]
                order = np.lexsort(i[:, [5, 3, 1, 4]].T)  # (L, m1, m2, M) within the pair, as the exact route
                idx.append(i[order])
                val.append(v[order].astype(dtype))
                continue
            for L in range(max(abs(l1 - l2), lmin), min(l1 + l2, lmax) + 1):
                block = _exact_block(l1, l2, L, basis, normalization, dtype)
                a, b, c = np.nonzero(block)
                n = len(a)
                idx.append(np.stack([np.full(n, l1), a - l1, np.full(n, l2), b - l2, np.full(n, L), c - L], axis=1))
                val.append(block[a, b, c])
    meta = {
        "kind": "cg",
        "lmax": lmax,
        "lmin": lmin,
        "basis": basis,
        "normalization": normalization,
        "dtype": np.dtype(dtype).name,
        "method": method,
        "accuracy": "correctly rounded (nearest, ties to even)" if method == "exact"
        else "float64 recursion: absolute error a few ulp of 1 before rounding to dtype; |entries| < 1e-14 dropped",
        "conventions": CONVENTIONS,
        "index": ["l1", "m1", "l2", "m2", "L", "M"],
    }
    index = np.concatenate(idx).astype(np.int32) if idx else np.zeros((0, 6), np.int32)
    value = np.concatenate(val).astype(dtype) if val else np.zeros(0, dtype)
    return LookupTable(index, value, meta)


def cg_blocks(lmax: int, **kw) -> dict[tuple[int, int, int], np.ndarray]:
    """Dense blocks ``{(l1, l2, L): C}`` for every allowed triple up to ``lmax`` (see :func:`cg_table`)."""
    t = cg_table(lmax, **kw)
    triples = sorted({(int(r[0]), int(r[2]), int(r[4])) for r in t.index})
    return {k: t.dense(*k) for k in triples}


def _exact_block(l1: int, l2: int, L: int, basis: str, normalization: str, dtype) -> np.ndarray:
    out = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * L + 1))
    exact = _exact_complex_values(l1, l2, L, normalization)
    if basis == "complex":
        bits, emin = _dtype_bits(dtype)
        for (m1, m2, M), v in exact.items():
            out[m1 + l1, m2 + l2, M + L] = v.to_float(bits, emin)
        return out
    invariant = normalization == "3j"
    odd = (l1 + l2 + L) % 2
    for a in range(-l1, l1 + 1):
        ra = _real_terms(l1, a)
        for b in range(-l2, l2 + 1):
            rb = _real_terms(l2, b)
            for c in range(-L, L + 1):
                # sum of +-(1/sqrt2)^k * v over the (at most 8) complex entries feeding this one
                acc: dict[int, Fraction] = {}
                for m1, p1, k1 in ra:
                    for m2, p2, k2 in rb:
                        for M, p3, k3 in _real_terms(L, c):
                            v = exact.get((m1, m2, M))
                            if v is None:
                                continue
                            # intertwiner uses U_{cM} = conj(conj(U))_{cM}; invariant uses conj(U)_{cM}
                            ph = p1 * p2 * (p3 if invariant else p3.conjugate())
                            if odd:
                                ph *= -1j
                            if ph.imag != 0 and ph.real == 0:
                                continue  # purely imaginary: cancels in the real tensor
                            _add_scaled(acc, v, int(ph.real), k1 + k2 + k3)
                acc = {r: q for r, q in acc.items() if q != 0}
                if acc:
                    out[a + l1, b + l2, c + L] = _round_sqrt_sum(acc, dtype)
    return out


def _real_terms(l: int, m: int):
    """Row m of conj(U) as (complex m', unit phase, power k of 1/sqrt2)."""
    s = -1 if m % 2 else 1
    if m > 0:
        return [(-m, 1, 1), (m, s, 1)]
    if m == 0:
        return [(0, 1, 0)]
    return [(m, -1j, 1), (-m, 1j * s, 1)]


def _add_scaled(acc: dict, v: ExactValue, sign: int, k: int) -> None:
    """acc[radicand] += sign * v * 2^(-k/2), keeping radicands square-free."""
    q = Fraction(sign * v.sign * v.num, v.den * (1 << (k // 2)))
    r = v.radicand
    if k % 2:  # one more 1/sqrt2: sqrt(r)/sqrt2 = sqrt(r/2) if 2 | r else sqrt(2r)/2
        if r % 2 == 0:
            r //= 2
        else:
            r *= 2
            q /= 2
    acc[r] = acc.get(r, Fraction(0)) + q


def _round_sqrt_sum(terms: dict[int, Fraction], dtype) -> float:
    """Correctly round sum_r q_r sqrt(r) (distinct square-free r, q_r != 0: never zero, since square
    roots of distinct square-free integers are linearly independent over Q) by interval
    refinement in fixed point until both ends round alike."""
    bits, emin = _dtype_bits(dtype)
    if len(terms) == 1:
        (r, q), = terms.items()
        return ExactValue(1 if q > 0 else -1, abs(q.numerator), q.denominator, r).to_float(bits, emin)
    P = 160
    while True:
        lo = hi = 0
        for r, q in terms.items():
            n2 = q.numerator * q.numerator * r << (2 * P)
            f = math.isqrt(n2 // (q.denominator * q.denominator))  # floor(|q| sqrt(r) 2^P)
            if q > 0:
                lo, hi = lo + f, hi + f + 1
            else:
                lo, hi = lo - f - 1, hi - f
        a, b = _round_fraction(lo, P, bits, emin), _round_fraction(hi, P, bits, emin)
        if a == b and (lo > 0) == (hi > 0) and lo != 0 and hi != 0:
            return a
        P *= 2


def _round_fraction(n: int, P: int, bits: int, emin: int) -> float:
    """n / 2^P correctly rounded (nearest, ties to even) to the target format."""
    if n == 0:
        return 0.0
    sign = -1.0 if n < 0 else 1.0
    n = abs(n)
    e_top = n.bit_length() - 1 - P
    quantum = max(e_top - (bits - 1), emin)
    shift = quantum + P
    if shift <= 0:
        q = n << (-shift)
    else:
        q, rem = divmod(n, 1 << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and q & 1):
            q += 1
    return sign * math.ldexp(q, quantum)


def _exact_complex_values(l1: int, l2: int, L: int, normalization: str) -> dict:
    vals = {}
    for m1 in range(-l1, l1 + 1):
        for m2 in range(-l2, l2 + 1):
            M = m1 + m2
            if abs(M) > L:
                continue
            if normalization == "3j":
                v = _threej(2 * l1, 2 * l2, 2 * L, 2 * m1, 2 * m2, -2 * M)
                key = (m1, m2, -M)
            else:
                v = _cg_from_doubled(2 * l1, 2 * m1, 2 * l2, 2 * m2, 2 * L, 2 * M)
                if normalization == "unit" and v.sign:
                    v = _divide_sqrt(v, 2 * L + 1)
                key = (m1, m2, M)
            if v.sign:
                vals[key] = v
    return vals


def _divide_sqrt(v: ExactValue, n: int) -> ExactValue:
    """v / sqrt(n) exactly: v * sqrt(n) / n."""
    g = math.gcd(v.radicand, n)
    out, rad = _square_free_split(n // g)
    frac = Fraction(v.num * g * out, v.den * n)
    return ExactValue(v.sign, frac.numerator, frac.denominator, (v.radicand // g) * rad)


def _cg_pair_recursion(t1: int, t2: int):
    """Complex-basis CG coefficients of one (j1, j2) in COO form, float64: arrays
    ``(2J, 2m1, 2m2, 2M, value)`` over every entry with ``m1 + m2 = M``.

    Doubled spins. For M = j1+j2 down to 0 (or 1/2): lower every active J by
    ``S_new[m1] = (b1(m1+1) S[m1+1] + b2(M+1-m1) S[m1]) / sqrt((J+M+1)(J-M))``, start J = M from its
    highest-weight vector, then re-orthonormalise the fixed-M basis by a QR factorisation with
    the J in descending order (signs kept). Lowering alone is unstable (rounding errors in the
    higher-J directions are amplified); after the projection only lower-J error components remain,
    and lowering damps those. Negative M follow from
    ``<j1 -m1 j2 -m2|J -M> = (-1)^(j1+j2-J) <j1 m1 j2 m2|J M>``.
    """
    j1, j2 = t1 / 2, t2 / 2
    n1, n2 = t1 + 1, t2 + 1
    tJs = list(range(abs(t1 - t2), t1 + t2 + 1, 2))
    Js = np.array(tJs) / 2
    nJ = len(Js)
    m1 = -j1 + np.arange(n1)  # ascending
    S = np.zeros((nJ, n1 + 1))  # one padding column on the right (m1 = j1 + 1)
    lower1 = np.sqrt(np.maximum((j1 + m1) * (j1 - m1 + 1), 0))  # b1(m1)
    shift_coeff = np.append(lower1[1:], 0.0)
    tJa = np.array(tJs)
    tm1 = np.arange(-t1, t1 + 1, 2)
    rows = {}  # tM -> S restricted to (J, m1) at that M
    for tM in range(t1 + t2, -1, -2):
        M = tM / 2
        tm2 = tM - tm1
        valid = np.abs(tm2) <= t2
        if tM < t1 + t2:
            m2_old = (tm2 + 2) / 2
            b2 = np.sqrt(np.maximum((j2 + m2_old) * (j2 - m2_old + 1), 0))
            b2[np.abs(tm2 + 2) > t2] = 0.0
            new = np.zeros_like(S)
            new[:, :n1] = S[:, 1 : n1 + 1] * shift_coeff + S[:, :n1] * b2
            active = tJa > tM
            norm = np.sqrt((Js[active] + M + 1) * (Js[active] - M))
            new[active, :n1] /= norm[:, None]
            S = new
        k = np.nonzero(tJa == tM)[0]
        if k.size:
            S[k[0], :n1] = _highest_weight(j1, j2, M, m1)
        act = np.nonzero(tJa >= tM)[0][::-1]  # J descending
        cols = np.nonzero(valid)[0]
        A = S[np.ix_(act, cols)].T  # (n_valid, n_active), square
        Q, R = np.linalg.qr(A)
        S[np.ix_(act, cols)] = (Q * np.sign(np.diag(R))[None, :]).T
        rows[tM] = S[:, :n1].copy()
    tMs = np.array(sorted(rows))
    stack = np.stack([rows[t] for t in tMs])  # (n_M, nJ, n1), M >= 0 ascending
    gM, gJ, gm1 = np.meshgrid(tMs, tJa, tm1, indexing="ij")
    gm2 = gM - gm1
    ok = (np.abs(gm2) <= t2) & (gJ >= gM)
    tJ_, tm1_, tm2_, tM_, v_ = gJ[ok], gm1[ok], gm2[ok], gM[ok], stack[ok]
    neg = tM_ > 0  # mirror: <j1 -m1 j2 -m2|J -M> = (-1)^(j1+j2-J) <j1 m1 j2 m2|J M>
    phase = np.where(((t1 + t2 - tJ_[neg]) // 2) % 2 == 1, -1.0, 1.0)
    return (np.concatenate([tJ_, tJ_[neg]]), np.concatenate([tm1_, -tm1_[neg]]),
            np.concatenate([tm2_, -tm2_[neg]]), np.concatenate([tM_, -tM_[neg]]),
            np.concatenate([v_, phase * v_[neg]]))


def _highest_weight(j1: float, j2: float, J: float, m1: np.ndarray) -> np.ndarray:
    """<j1 m1 j2 J-m1 | J J> for all m1 (zero where J - m1 is not a valid m2), CS sign."""
    c = np.zeros(m1.shape)
    valid = (J - m1 >= -j2 - 1e-9) & (J - m1 <= j2 + 1e-9)
    idx = np.nonzero(valid)[0][::-1]  # from m1 = j1 downwards
    vals = [1.0]
    for a, b in zip(idx[:-1], idx[1:]):
        mm = m1[b]  # c(mm) = -c(mm+1) a2(J-mm-1) / a1(mm), a(j, m) = sqrt((j-m)(j+m+1))
        m2 = J - mm - 1
        vals.append(-vals[-1] * math.sqrt((j2 - m2) * (j2 + m2 + 1)) / math.sqrt((j1 - mm) * (j1 + mm + 1)))
    v = np.array(vals)
    c[idx] = v / np.linalg.norm(v)
    return c


def _recursion_pair(l1: int, l2: int, lmin: int, lmax: int, basis: str, normalization: str):
    """COO entries (index rows (l1, m1, l2, m2, L, M), values) of one (l1, l2) from the recursion."""
    tJ, tm1, tm2, tM, v = _cg_pair_recursion(2 * l1, 2 * l2)
    sel = (tJ >= 2 * lmin) & (tJ <= 2 * lmax)
    L, m1, m2, M, v = tJ[sel] // 2, tm1[sel] // 2, tm2[sel] // 2, tM[sel] // 2, v[sel]
    if normalization == "unit":
        v = v / np.sqrt(2 * L + 1)
    elif normalization == "3j":
        # (l1 l2 L; m1 m2 m3) = (-1)^(l1-l2-m3) <l1 m1 l2 m2|L -m3> / sqrt(2L+1), stored at m3 = -M
        v = np.where((l1 - l2 + M) % 2 == 1, -1.0, 1.0) * v / np.sqrt(2 * L + 1)
        M = -M
    if basis == "real":
        L, m1, m2, M, v = _coo_to_real(l1, l2, L, m1, m2, M, v, invariant=normalization == "3j")
    n = len(v)
    index = np.stack([np.full(n, l1), m1, np.full(n, l2), m2, L, M], axis=1)
    return index, v


def _conj_u_rows(m: np.ndarray):
    """For complex index m: the two real rows a = +-|m| and the entries conj(U)[a, m] (complex)."""
    h = 1 / math.sqrt(2)
    am = np.abs(m)
    sgn = np.where(am % 2 == 1, -1.0, 1.0)
    # row +|m| (a > 0): U[a, -a] = h, U[a, a] = (-1)^a h; row -|m| (a < 0): U[a, a] = i h, U[a, -a] = -i (-1)^a h
    c_pos = np.where(m > 0, sgn * h, h).astype(complex)  # conj(U)[+|m|, m]
    # conj(U)[-|m|, m]: conj(i h) = -i h for m = -|m|; conj(-i (-1)^|m| h) = i (-1)^|m| h for m = +|m|
    c_neg = np.where(m < 0, -1j * h, 1j * sgn * h).astype(complex)
    zero = am == 0
    c_pos = np.where(zero, 1.0 + 0j, c_pos)
    c_neg = np.where(zero, 0.0 + 0j, c_neg)
    return np.stack([am, -am], axis=1), np.stack([c_pos, c_neg], axis=1)


def _coo_to_real(l1, l2, L, m1, m2, M, v, *, invariant: bool):
    """Transform complex-basis COO entries to the real basis (see module docstring), aggregating."""
    a, ca = _conj_u_rows(m1)
    b, cb = _conj_u_rows(m2)
    c, cc = _conj_u_rows(M)
    if not invariant:
        cc = np.conj(cc)  # the intertwiner's output index uses U, not conj(U)
    coef = ca[:, :, None, None] * cb[:, None, :, None] * cc[:, None, None, :] * v[:, None, None, None]
    odd = ((l1 + l2 + L) % 2 == 1)[:, None, None, None]
    coef = np.where(odd, -1j * coef, coef)
    shape = coef.shape
    A = np.broadcast_to(a[:, :, None, None], shape)
    B = np.broadcast_to(b[:, None, :, None], shape)
    C = np.broadcast_to(c[:, None, None, :], shape)
    LL = np.broadcast_to(L[:, None, None, None], shape)
    nz = coef != 0
    A, B, C, LL, coef = A[nz], B[nz], C[nz], LL[nz], coef[nz]
    # aggregate equal (L, a, b, c)
    key = ((LL * (2 * l1 + 1) + (A + l1)) * (2 * l2 + 1) + (B + l2)) * (2 * int(L.max(initial=0)) + 1) + (C + LL)
    uniq, inv = np.unique(key, return_inverse=True)
    re = np.bincount(inv, weights=coef.real, minlength=len(uniq))
    first = np.zeros(len(uniq), int)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return LL[first], A[first], B[first], C[first], re


# --------------------------------------------------------------------------- Wigner d / D in JAX


def _doubled(j) -> int:
    return two_j(j, "j")


def wigner_d_matrix(j, beta) -> jax.Array:
    """``d^j(beta)`` (rows m', columns m, ascending) by the stable tensor-product recursion.

    ``j`` is static (integer or half-integer); ``beta`` a scalar (jit/vmap over it). float64 when
    x64 is enabled. Cost O(j^3) per angle. Accuracy: each of the ``2j`` steps adds O(eps), so the
    absolute error stays below ``(2j + 1) * 1e-15`` (tested against the exact matrices); the
    unitarity error is ~1e-14 at ``j = 200``.
    """
    tj = _doubled(j)
    N = tj + 1
    beta = jnp.asarray(beta)
    c, s = jnp.cos(beta / 2), jnp.sin(beta / 2)
    idx = jnp.arange(N, dtype=beta.dtype if jnp.issubdtype(beta.dtype, jnp.floating) else None)
    d0 = jnp.zeros((N, N), c.dtype).at[0, 0].set(1.0)
    i = idx[:, None]
    k = idx[None, :]

    def step(n, d):
        nf = n.astype(c.dtype)
        ni, nk = jnp.maximum(nf - i, 0.0), jnp.maximum(nf - k, 0.0)
        sh_k = jnp.pad(d, ((0, 0), (1, 0)))[:, :N]  # d[i, k-1]
        sh_i = jnp.pad(d, ((1, 0), (0, 0)))[:N, :]  # d[i-1, k]
        sh_ik = jnp.pad(d, ((1, 0), (1, 0)))[:N, :N]  # d[i-1, k-1]
        new = (jnp.sqrt(ni * nk) * c * d - jnp.sqrt(ni * k) * s * sh_k
               + jnp.sqrt(i * nk) * s * sh_i + jnp.sqrt(i * k) * c * sh_ik) / nf
        return jnp.where((i <= n) & (k <= n), new, 0.0)

    d = jax.lax.fori_loop(1, tj + 1, step, d0)
    return d[::-1, ::-1]


def wigner_D_matrix(j, alpha, beta, gamma) -> jax.Array:
    """Complex ``D^j(alpha, beta, gamma) = exp(-i m' alpha) d^j(beta) exp(-i m gamma)`` (ZYZ, active)."""
    tj = _doubled(j)
    m = (jnp.arange(tj + 1) - tj / 2).astype(jnp.result_type(float))
    d = wigner_d_matrix(j, beta)
    return jnp.exp(-1j * m[:, None] * alpha) * d * jnp.exp(-1j * m[None, :] * gamma)


def wigner_D_real_matrix(l: int, alpha, beta, gamma) -> jax.Array:
    """Real orthogonal ``D_real = conj(U) D U^T`` with ``Y_real(R x) = D_real(R) Y_real(x)``."""
    tl = _doubled(l)
    if tl % 2:
        raise SpinError(f"l must be an integer for the real basis, got {Fraction(tl, 2)}")
    U = jnp.asarray(real_basis_change_matrix(tl // 2))
    return (jnp.conj(U) @ wigner_D_matrix(l, alpha, beta, gamma) @ U.T).real


def wigner_d_half_pi(j) -> list[list[ExactValue]]:
    """Exact ``d^j(pi/2)`` (the matrix FFT-based rotations use) as :class:`ExactValue` entries."""
    tj = _doubled(j)
    out = []
    for tmp in range(-tj, tj + 1, 2):
        row = []
        for tm in range(-tj, tj + 1, 2):
            jpmp, jmmp, jpm, jmm = (tj + tmp) // 2, (tj - tmp) // 2, (tj + tm) // 2, (tj - tm) // 2
            dm = (tmp - tm) // 2
            total = Fraction(0)
            for k in range(max(0, -dm), min(jpm, jmmp) + 1):
                total += Fraction(-1 if (dm + k) % 2 else 1,
                                  _factorial(jpm - k) * _factorial(k) * _factorial(dm + k) * _factorial(jmmp - k))
            if total == 0:
                row.append(ExactValue.ZERO)
                continue
            r, s = _sqrt_factorial_ratio([jpmp, jmmp, jpm, jmm], [])
            # times cos^a sin^b with a + b = 2j at pi/4: 2^(-j) = 2^(-tj/2)
            val = r * total / (2 ** (tj // 2))
            if tj % 2:  # one more 1/sqrt2
                if s % 2 == 0:
                    s //= 2
                else:
                    s *= 2
                    val /= 2
            row.append(ExactValue(1 if val > 0 else -1, abs(val.numerator), val.denominator, s))
        out.append(row)
    return out


# --------------------------------------------------------------------------- spherical harmonics


def real_spherical_harmonics(lmax: int, points, *, normalization: str = "integral") -> jax.Array:
    r"""Real spherical harmonics ``Y_{l m}`` for ``l = 0..lmax`` at a batch of points, in JAX.

    ``points``: array ``(..., 3)``, normalised to the unit sphere first. Returns ``(..., (lmax+1)^2)``,
    ``l`` blocks in order and ``m`` ascending within a block (the real basis of the module
    docstring). ``normalization``: ``"integral"`` (orthonormal), ``"component"``
    (``sum_m Y_m^2 = 2l+1``) or ``"norm"`` (``= 1``). Stable normalised Legendre recursion; float64
    accuracy ~1e-15 relative to the block norm at any ``l``.
    """
    if normalization not in ("integral", "component", "norm"):
        raise SpinError(f"normalization must be 'integral', 'component' or 'norm', got {normalization!r}")
    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise SpinError(f"lmax must be a non-negative integer, got {lmax!r}")
    p = jnp.asarray(points)
    if p.shape[-1:] != (3,):
        raise SpinError(f"points must have shape (..., 3), got {p.shape}")
    r = jnp.sqrt(jnp.sum(p * p, axis=-1, keepdims=True))
    p = p / jnp.where(r > 0, r, 1.0)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    # cos/sin parts: Re/Im (x + i y)^m
    cm, sm = [jnp.ones_like(x)], [jnp.zeros_like(x)]
    for _ in range(lmax):
        cm.append(cm[-1] * x - sm[-1] * y)
        sm.append(sm[-1] * x + cm[-2] * y)
    # normalised associated Legendre (derivative form) Pbar[l][m]
    P = {}
    pmm = 1.0 / math.sqrt(4 * math.pi)
    for m in range(lmax + 1):
        if m > 0:
            pmm *= math.sqrt((2 * m - 1) / (2 * m))
        base = math.sqrt(2 * m + 1) * pmm
        P[(m, m)] = jnp.full_like(z, base)
        if m + 1 <= lmax:
            P[(m + 1, m)] = math.sqrt(2 * m + 3) * z * P[(m, m)]
        for l in range(m + 2, lmax + 1):
            a = math.sqrt((4 * l * l - 1) / (l * l - m * m))
            b = math.sqrt(((l - 1) ** 2 - m * m) * (2 * l + 1) / ((2 * l - 3) * (l * l - m * m)))
            P[(l, m)] = a * z * P[(l - 1, m)] - b * P[(l - 2, m)]
    out = []
    for l in range(lmax + 1):
        scale = {"integral": 1.0, "component": math.sqrt(4 * math.pi), "norm": math.sqrt(4 * math.pi / (2 * l + 1))}[normalization]
        block = []
        for m in range(-l, l + 1):
            if m < 0:
                block.append(math.sqrt(2) * P[(l, -m)] * sm[-m])
            elif m == 0:
                block.append(P[(l, 0)])
            else:
                block.append(math.sqrt(2) * P[(l, m)] * cm[m])
        out.append(scale * jnp.stack(block, axis=-1))
    return jnp.concatenate(out, axis=-1)


# --------------------------------------------------------------------------- tensor product


def tensor_product(x1, x2, table) -> jax.Array:
    r"""Equivariant bilinear map ``out[..., M] = sum C[m1, m2, M] x1[..., m1] x2[..., m2]``.

    ``table``: a dense block ``(2l1+1, 2l2+1, 2L+1)`` (array) or a tuple ``(index, value, dim_out)``
    with ``index`` an ``(n, 3)`` integer array of ``(m1, m2, M)`` positions (0-based) for sparse
    (COO) tables; the sparse form costs O(nonzeros) instead of O(dense size). If ``x1`` transforms
    with ``D1`` and ``x2`` with ``D2`` (real basis, ``cg``/``unit`` tables), ``out`` transforms with
    ``D_L``.
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    if isinstance(table, tuple):
        index, value, dim_out = table
        index = jnp.asarray(index)
        terms = jnp.asarray(value) * x1[..., index[:, 0]] * x2[..., index[:, 1]]
        moved = jnp.moveaxis(terms, -1, 0)
        out = jax.ops.segment_sum(moved, index[:, 2], num_segments=int(dim_out))
        return jnp.moveaxis(out, 0, -1)
    C = jnp.asarray(table)
    if C.ndim != 3 or x1.shape[-1] != C.shape[0] or x2.shape[-1] != C.shape[1]:
        raise SpinError(f"table of shape {C.shape} does not fit inputs of last dims {x1.shape[-1]}, {x2.shape[-1]}")
    return jnp.einsum("...i,...j,ijk->...k", x1, x2, C)


# --------------------------------------------------------------------------- Wigner d and SH tables


def wigner_d_table(lmax: int, *, beta=None, basis: str = "complex", dtype="float64") -> LookupTable:
    r"""``d^l_{m' m}(beta)`` for ``l = 0..lmax`` as a COO table with index ``(l, m', m)``.

    ``beta=None`` means ``pi/2``, where every entry is exact (complex basis: a sqrt-rational; real
    basis ``conj(U) d U^T``: a sum of at most two) and is correctly rounded. Any other ``beta``
    (a float) uses the JAX recursion in float64 (error ~1e-15 absolute), rounded to ``dtype``.
    """
    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise SpinError(f"lmax must be a non-negative integer, got {lmax!r}")
    if basis not in ("real", "complex"):
        raise SpinError(f"basis must be 'real' or 'complex', got {basis!r}")
    _dtype_bits(dtype)
    idx, val = [], []
    for l in range(lmax + 1):
        if beta is None:
            d = wigner_d_half_pi(l)
            for a in range(2 * l + 1):
                for b in range(2 * l + 1):
                    if basis == "complex":
                        if d[a][b].sign:
                            idx.append((l, a - l, b - l))
                            val.append(round_exact(d[a][b], dtype))
                        continue
                    acc: dict[int, Fraction] = {}
                    for m1, p1, k1 in _real_terms(l, a - l):
                        for m2, p2, k2 in _real_terms(l, b - l):
                            v = d[m1 + l][m2 + l]
                            ph = p1 * p2.conjugate()  # conj(U)[a, m1] d[m1, m2] U[b, m2]
                            if v.sign and ph.real != 0:
                                _add_scaled(acc, v, int(ph.real), k1 + k2)
                    acc = {r: q for r, q in acc.items() if q != 0}
                    if acc:
                        idx.append((l, a - l, b - l))
                        val.append(_round_sqrt_sum(acc, dtype))
        else:
            if basis == "complex":
                d = np.asarray(jax.jit(wigner_d_matrix, static_argnums=0)(l, float(beta)))
            else:
                d = np.asarray(wigner_D_real_matrix(l, 0.0, float(beta), 0.0))
            a, b = np.nonzero(np.abs(d) >= _RECURSION_FLOOR)
            idx.extend(zip([l] * len(a), (a - l).tolist(), (b - l).tolist()))
            val.extend(d[a, b].tolist())
    meta = {
        "kind": "wigner-d", "lmax": lmax, "beta": "pi/2" if beta is None else float(beta), "basis": basis,
        "dtype": np.dtype(dtype).name, "method": "exact" if beta is None else "recursion",
        "accuracy": "correctly rounded (nearest, ties to even)" if beta is None
        else "float64 recursion, absolute error ~1e-15 before rounding to dtype; |entries| < 1e-14 dropped",
        "conventions": CONVENTIONS, "index": ["l", "m'", "m"],
    }
    return LookupTable(np.asarray(idx, np.int32).reshape(-1, 3), np.asarray(val, dtype), meta)


def sh_table(lmax: int, *, basis: str = "real", normalization: str = "component", dtype="float64") -> LookupTable:
    r"""Spherical harmonics as homogeneous polynomials: COO index ``(l, m, a, b, c)`` for the
    coefficient of ``x^a y^b z^c`` in ``Y_{l m}`` (valid on the unit sphere; harmonic everywhere).

    Coefficients come from the exact sympy polynomials of ``theory.spherical_harmonics`` and are
    evaluated at 100 digits before one rounding (so correctly rounded unless a value lies within
    ~1e-90 of a rounding boundary). Complex basis: ``value`` has columns ``(re, im)``. sympy's
    polynomial algebra makes this slow beyond ``lmax ~ 20``.
    """
    import sympy

    from nntheory.theory._so3 import spherical_harmonics

    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise SpinError(f"lmax must be a non-negative integer, got {lmax!r}")
    _dtype_bits(dtype)
    x, y, z = sympy.symbols("x y z", real=True)
    idx, val = [], []
    for l in range(lmax + 1):
        ys = spherical_harmonics(l, (x, y, z), basis=basis, normalization=normalization)
        for m, e in zip(range(-l, l + 1), ys):
            for (a, b, c), coeff in sorted(sympy.Poly(e, x, y, z).terms()):
                re, im = coeff.as_real_imag()
                with mpmath.workdps(100):
                    r, i = (_round_mpf(mpmath.mpf(sympy.N(t, 100)), dtype) if t != 0 else 0.0 for t in (re, im))
                idx.append((l, m, a, b, c))
                val.append((r, i) if basis == "complex" else r)
    meta = {
        "kind": "sh", "lmax": lmax, "basis": basis, "normalization": normalization, "dtype": np.dtype(dtype).name,
        "method": "exact", "accuracy": "rounded once from 100-digit values of the exact coefficients",
        "conventions": CONVENTIONS, "index": ["l", "m", "a", "b", "c"],
        "value": ["re", "im"] if basis == "complex" else ["value"],
    }
    return LookupTable(np.asarray(idx, np.int32).reshape(-1, 5), np.asarray(val, dtype), meta)
