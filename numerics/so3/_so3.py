r"""SO(3) numerics: correctly rounded tables from the exact values, fast stable float recursions,
Wigner d/D and real spherical harmonics in JAX, and an equivariant tensor product.

Conventions are those of :mod:`nntheory.theory` (Condon–Shortley, ZYZ active, ``m`` ascending,
real tesseral basis); see ``nntheory.theory.so3._so3``.

Two routes to Clebsch–Gordan tables:

* ``method="exact"``: every entry from the exact integer route, rounded once (nearest, ties to
  even) to float64 or float32, at any ``l``; exact zeros stay zeros. Cost grows like ``L^5`` entries
  times a big-integer Racah sum, fine to ``L ~ 16``.
* ``method="recursion"``: the Schulten–Gordon three-term recursion in one ``m`` (float64, numpy,
  vectorised over every column of a table at once), run from both ends into the classically
  allowed region and matched there. Each 3j symbol is computed once, for its canonical arrangement
  ``a <= b <= c`` with the ``m`` of the largest spin fixed (the well-conditioned direction), and
  the table is filled through the permutation and mirror symmetries. Absolute error a few ulp of 1
  (measured max 3.3e-16 to ``L = 12`` against the correctly rounded tables, 6.9e-16 at
  ``l = 98..100``); entries much smaller than 1 lose relative accuracy. Use it for large ``L``.

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
from nntheory.theory.so3._su2 import ExactValue, _cg_from_doubled, _square_free_split, _factorial, _sqrt_factorial_ratio, _threej, two_j

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
    canon = _canonical_3j(lmin, lmax) if method == "recursion" else None
    for l1 in range(lmin, lmax + 1):
        if method == "recursion":
            i, v = _recursion_rows(l1, lmin, lmax, basis, normalization, canon)
            idx.append(i)
            val.append(v.astype(dtype, copy=False))
            continue
        for l2 in range(lmin, lmax + 1):
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
        else "float64 Schulten-Gordon recursion: absolute error a few ulp of 1 before rounding to dtype; |entries| < 1e-14 dropped",
        "conventions": CONVENTIONS,
        "index": ["l1", "m1", "l2", "m2", "L", "M"],
    }
    index = np.concatenate(idx).astype(np.int32, copy=False) if idx else np.zeros((0, 6), np.int32)
    value = np.concatenate(val).astype(dtype, copy=False) if val else np.zeros(0, dtype)
    return LookupTable(index, value, meta)


def cg_blocks(lmax: int, **kw) -> dict[tuple[int, int, int], np.ndarray]:
    """Dense blocks ``{(l1, l2, L): C}`` for every allowed triple up to ``lmax`` (see :func:`cg_table`)."""
    t = cg_table(lmax, **kw)
    triples = sorted({(int(r[0]), int(r[2]), int(r[4])) for r in t.index})
    return {k: t.dense(*k) for k in triples}


@lru_cache(maxsize=1 << 18)
def _to_float_cached(v: ExactValue, bits: int, emin: int) -> float:
    """Correct rounding, shared by the entries a symmetry class has in common."""
    return v.to_float(bits, emin)


def _exact_block(l1: int, l2: int, L: int, basis: str, normalization: str, dtype) -> np.ndarray:
    out = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * L + 1))
    exact = _exact_complex_values(l1, l2, L, normalization)
    if basis == "complex":
        bits, emin = _dtype_bits(dtype)
        for (m1, m2, M), v in exact.items():
            out[m1 + l1, m2 + l2, M + L] = _to_float_cached(v, bits, emin)
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


def _sg_columns(a: int, lmax: int):
    """Canonical 3j symbols ``(a b c; ma mb mc)`` with ``a <= b <= c <= lmax`` for one ``a``, by the
    Schulten–Gordon three-term recursion in ``ma`` at fixed ``mc`` (the ``m`` of the largest spin).

    Returns ``(T, colbase)``: ``T`` has ``2a+1`` rows (``ma + a``) and two halves of ``ncol`` columns:
    ``T[ma + a, colbase[b, c] + M]`` is ``(a b c; ma, M - ma, -M)`` for ``M >= 0`` and
    ``T[ma + a, ncol + colbase[b, c] + M]`` is ``(a b c; ma, -M - ma, M)`` (0 where ``mb`` is out of
    range).

    With ``mb = M - ma`` the eigenvalue equation of
    ``J^2 = J1^2 + J2^2 + 2 J1z J2z + J1+ J2- + J1- J2+`` for ``<a ma b mb|c M>`` is the symmetric
    recursion ``C(ma) f(ma-1) + D(ma) f(ma) + C(ma+1) f(ma+1) = 0`` with
    ``D = a(a+1) + b(b+1) - c(c+1) + 2 ma mb`` and ``C(ma) = sqrt((a-ma+1)(a+ma)(b+M-ma+1)(b-M+ma))``.
    It runs forwards from the lowest valid ``ma`` and backwards from the highest, each only to the
    middle of the classically allowed region (where ``|D| < C(ma) + C(ma+1)``; where there is none,
    the point closest to it); the two are matched by least squares on two adjacent points,
    normalised (``sum f^2 = 1``) and signed so that the entry at the highest valid ``ma`` is
    positive (Condon–Shortley). In the forbidden regions each direction follows the growing
    solution. Fixing the ``m`` of the largest spin keeps the runs short and the recursion well
    conditioned: with the smallest spin fixed instead, errors grow like ``l^2 / L`` ulp (measured
    7e-15 at ``<12 12 12 -12|1 0>``). Columns are rescaled by powers of two, so nothing overflows.
    """
    cols_b, cols_c, cols_M, colbase = [], [], [], np.full((lmax + 1, lmax + 1), -1, np.int64)
    n = 0
    for b in range(a, lmax + 1):
        for c in range(b, min(a + b, lmax) + 1):
            colbase[b, c] = n
            cols_b.append(np.full(c + 1, b))
            cols_c.append(np.full(c + 1, c))
            cols_M.append(np.arange(c + 1))
            n += c + 1
    nrow = 2 * a + 1
    if n == 0:
        return np.zeros((nrow, 0)), colbase
    b = np.concatenate(cols_b).astype(float)
    c = np.concatenate(cols_c).astype(float)
    M = np.concatenate(cols_M).astype(float)
    ma = np.arange(-a, a + 1, dtype=float)[:, None]  # rows
    lo = np.maximum(-a, M - b)
    hi = np.minimum(a, M + b)
    D = a * (a + 1) + b * (b + 1) - c * (c + 1) + 2 * ma * (M - ma)
    # C[r] couples rows r-1 and r; one extra row so that C[r + 1] exists for the last row
    mm = np.arange(-a, a + 2, dtype=float)[:, None]
    C = np.sqrt(np.maximum((a - mm + 1) * (a + mm), 0) * np.maximum((b + M - mm + 1) * (b - M + mm), 0))
    inside = (ma >= lo) & (ma <= hi)
    # matching row: middle of the allowed rows (in [lo, hi - 1]); else where |D| - C - C' is least
    excess = np.where(inside & (ma < hi), np.abs(D) - C[:-1] - C[1:], np.inf)
    allowed = excess < 0
    first = np.argmax(allowed, axis=0)
    last = nrow - 1 - np.argmax(allowed[::-1], axis=0)
    mid = np.where(allowed.any(axis=0), (first + last) // 2, np.argmin(excess, axis=0))
    rlo, rhi = (lo + a).astype(int), (hi + a).astype(int)
    mc = np.clip(mid, rlo, np.maximum(rhi - 1, rlo))
    rows = np.arange(nrow)[:, None]
    col = np.arange(n)
    F = np.zeros((nrow, n))
    B = np.zeros((nrow, n))
    F[rlo, col] = 1.0
    B[rhi, col] = 1.0
    with np.errstate(divide="ignore"):
        Cinv = np.where(C > 0, 1.0 / C, 0.0)
    fwd = Cinv[1:] * ((rows + 1 <= mc + 1) & (rows + 1 <= rhi))  # produces row r+1 from rows r, r-1
    bwd = Cinv[:-1] * ((rows - 1 >= mc) & (rows - 1 >= rlo))  # produces row r-1 from rows r, r+1
    big = 2.0**600
    for r in range(nrow - 1):
        prev = C[r] * F[r - 1] if r > 0 else 0.0
        new = -(D[r] * F[r] + prev) * fwd[r]
        F[r + 1] = np.where(rlo == r + 1, F[r + 1], new)  # keep the starting 1
        if np.abs(new).max(initial=0) > big:
            F[:, np.abs(F[r + 1]) > big] *= 2.0**-600
    for r in range(nrow - 1, 0, -1):
        nxt = C[r + 1] * B[r + 1] if r + 1 < nrow else 0.0
        new = -(D[r] * B[r] + nxt) * bwd[r]
        B[r - 1] = np.where(rhi == r - 1, B[r - 1], new)
        if np.abs(new).max(initial=0) > big:
            B[:, np.abs(B[r - 1]) > big] *= 2.0**-600
    nxt = np.minimum(mc + 1, nrow - 1)
    f0, f1, b0, b1 = F[mc, col], F[nxt, col], B[mc, col], B[nxt, col]
    single = rlo == rhi
    scale = np.where(single, 1.0, (f0 * b0 + f1 * b1) / np.where(single, 1.0, b0 * b0 + b1 * b1))
    G = np.where(rows <= mc, F, scale * B) * inside
    G /= np.sqrt(np.einsum("ij,ij->j", G, G))
    G *= np.sign(G[rhi, col])  # <a ma b mb|c M>
    # 3j: (a b c; ma mb -M) = (-1)^(a-b+M) <a ma b mb|c M> / sqrt(2c+1); mirror:
    # (a b c; -ma -mb M) = (-1)^(a+b+c) (a b c; ma mb -M), stored with the rows reversed
    T = G * (np.where((a - b + M) % 2 == 1, -1.0, 1.0) / np.sqrt(2 * c + 1))
    mirror = T[::-1] * np.where((a + b + c) % 2 == 1, -1.0, 1.0)
    return np.concatenate([T, mirror], axis=1), colbase


def _canonical_3j(lmin: int, lmax: int):
    """All canonical blocks of :func:`_sg_columns` in one flat array, with per-``a`` offsets."""
    parts, info, off = [], {}, 0
    for a in range(lmin, lmax + 1):
        T, colbase = _sg_columns(a, lmax)
        info[a] = (off, T.shape[1] // 2, colbase)  # ncol: width of one half
        parts.append(T.ravel())
        off += T.size
    return np.concatenate(parts), info


def _recursion_rows(l1: int, lmin: int, lmax: int, basis: str, normalization: str, canon):
    """COO rows ``(l1, m1, l2, m2, L, M)`` (int32) and values of one ``l1`` from the canonical 3j
    symbols, in the order of the exact route: ``l2``, ``L``, ``m1``, ``m2`` ascending."""
    flat, info = canon
    nrow = 2 * l1 + 1
    # triples (l2, L) in order; their canonical (a <= b <= c) arrangement
    tri = [(l2, L) for l2 in range(lmin, lmax + 1) for L in range(max(abs(l1 - l2), lmin), min(l1 + l2, lmax) + 1)]
    if not tri:
        return np.zeros((0, 6), np.int32), np.zeros(0)
    t_l2, t_L = (np.array(x, dtype=np.int32) for x in zip(*tri))
    spins = np.stack([np.full(len(tri), l1, np.int32), t_l2, t_L])
    perm = np.argsort(spins, axis=0, kind="stable")  # positions of a, b, c among (l1, l2, L)
    ia, ib, ic = perm
    odd = ((ib - ia) % 3) != 1  # (ia, ib, ic) not a cyclic rotation of (0, 1, 2)
    sa, sb, sc = np.take_along_axis(spins, perm, axis=0)
    t_off = np.array([info[int(x)][0] for x in sa], np.int64)
    t_ncol = np.array([info[int(x)][1] for x in sa], np.int64)
    t_col = np.array([info[int(x)][2][y, z] for x, y, z in zip(sa, sb, sc)], np.int64)
    t_base = t_off + sa.astype(np.int64) * 2 * t_ncol + t_col  # flat index of ma = 0, |mc| = 0
    # 3j (l1 l2 L; m1 m2 m3) -> the requested normalisation, per triple: odd permutations give
    # (-1)^(l1+l2+L); cg = (-1)^(l1-l2-m3) sqrt(2L+1) 3j, unit = (-1)^(l1-l2-m3) 3j
    fac = np.where(odd & ((l1 + t_l2 + t_L) % 2 == 1), -1.0, 1.0)
    if normalization != "3j":
        fac = fac * np.where((l1 - t_l2) % 2 == 1, -1.0, 1.0)
        if normalization == "cg":
            fac = fac * np.sqrt(2 * t_L + 1.0)
    # segments (triple, m1), each a contiguous range of M, in output order
    seg_t = np.repeat(np.arange(len(tri)), nrow)
    seg_m1 = np.tile(np.arange(-l1, l1 + 1, dtype=np.int32), len(tri))
    seg_l2, seg_L = t_l2[seg_t], t_L[seg_t]
    Mlo = np.maximum(-seg_L, seg_m1 - seg_l2)
    cnt = np.maximum(np.minimum(seg_L, seg_m1 + seg_l2) - Mlo + 1, 0)
    total = int(cnt.sum())
    M = np.repeat(Mlo - (np.cumsum(cnt, dtype=np.int32) - cnt), cnt) + np.arange(total, dtype=np.int32)
    m1 = np.repeat(seg_m1, cnt)
    et = np.repeat(seg_t, cnt)
    m2 = M - m1
    ms = (m1, m2, -M)
    ma = np.choose(ia[et], ms)
    mc = np.choose(ic[et], ms)
    pos = t_base[et] + ma.astype(np.int64) * (2 * t_ncol[et]) + np.abs(mc) + np.where(mc > 0, t_ncol[et], 0)
    v = flat[pos] * fac[et]
    if normalization == "3j":
        M = -M  # stored at m3
    else:
        v = np.where(M % 2 == 1, -v, v)  # the (-1)^(-m3) = (-1)^M part of the phase
    l2, L = t_l2[et], t_L[et]
    if basis == "real":
        l2, L, m1, m2, M, v = _coo_to_real(l1, l2, L, m1, m2, M, v, invariant=normalization == "3j")
    keep = np.abs(v) >= _RECURSION_FLOOR  # below the absolute accuracy: indistinguishable from 0
    index = np.empty((int(keep.sum()), 6), np.int32)
    index[:, 0] = l1
    for k, arr in ((1, m1), (2, l2), (3, m2), (4, L), (5, M)):
        index[:, k] = arr[keep]
    return index, v[keep]


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
    """Transform complex-basis COO entries (one ``l1``; arrays ``l2, L, m1, m2, M``) to the real basis
    (see module docstring), aggregating equal real indices; sorted by ``(l2, L, a, b, c)``."""
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
    L2 = np.broadcast_to(l2[:, None, None, None], shape)
    nz = coef != 0
    A, B, C, LL, L2, coef = A[nz], B[nz], C[nz], LL[nz], L2[nz], coef[nz]
    hb, hc = int(np.max(l2, initial=0)), int(np.max(L, initial=0))
    key = (((L2 * (hc + 1) + LL) * (2 * l1 + 1) + (A + l1)) * (2 * hb + 1) + (B + hb)) * (2 * hc + 1) + (C + hc)
    uniq, inv = np.unique(key, return_inverse=True)
    re = np.bincount(inv, weights=coef.real, minlength=len(uniq))
    first = np.zeros(len(uniq), int)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    return L2[first], LL[first], A[first], B[first], C[first], re


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

    from nntheory.theory.so3._so3 import spherical_harmonics

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
