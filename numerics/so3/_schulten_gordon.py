"""Clebsch–Gordan tables in float64 by the Schulten–Gordon three-term recursion, vectorised.

The recursion in one ``m`` runs in numpy over every column of a table at once, from both ends
into the classically allowed region, and is matched there. Each 3j symbol is computed once, for
its canonical arrangement ``a <= b <= c`` with the ``m`` of the largest spin fixed (the
well-conditioned direction); the table is filled through the permutation and mirror symmetries.
Absolute error a few ulp of 1 (measured max 3.3e-16 to ``L = 12`` against the correctly rounded
tables, 1.8e-16 over all 17.6M nonzero 3j symbols with ``l <= 32``, 6.9e-16 at ``l = 98..100``);
entries much smaller than 1 lose relative accuracy.

Filling is a gather per ``l1``: the output rows come in segments (a triple and ``m1``; ``m2`` runs),
along which the canonical position is piecewise linear, so positions are a running sum of steps;
for 3j tables the canonical array is stored as ``[U, -U]`` in a layout where the position is
linear along the whole segment and the sign is part of it (:func:`_signed_layout`). Rows to drop
(zeros) cut their segments, and the index rows are each segment's head plus the row number,
written in cache-sized chunks.
"""

from __future__ import annotations

import numpy as np

from nntheory.numerics.so3._basis import _conj_u_rows
from nntheory.numerics.so3._lookup_table import RECURSION_FLOOR

__all__: list[str] = []


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
    b, c, M, colbase = _sg_layout(a, lmax)
    nrow = 2 * a + 1
    if len(M) == 0:
        return np.zeros((nrow, 0)), colbase
    ma = np.arange(-a, a + 1, dtype=float)[:, None]  # rows
    lo = np.maximum(-a, M - b)
    hi = np.minimum(a, M + b)
    D = a * (a + 1) + b * (b + 1) - c * (c + 1) + 2 * ma * (M - ma)
    # C[r] couples rows r-1 and r; one extra row so that C[r + 1] exists for the last row
    mm = np.arange(-a, a + 2, dtype=float)[:, None]
    C = np.sqrt(np.maximum((a - mm + 1) * (a + mm), 0) * np.maximum((b + M - mm + 1) * (b - M + mm), 0))
    inside = (ma >= lo) & (ma <= hi)
    rlo, rhi = (lo + a).astype(int), (hi + a).astype(int)
    mc = _sg_match_rows(D, C, inside & (ma < hi), rlo, rhi)
    F, B = _sg_runs(D, C, rlo, rhi, mc)
    G = _sg_join(F, B, rlo, rhi, mc, inside)  # <a ma b mb|c M>
    # 3j: (a b c; ma mb -M) = (-1)^(a-b+M) <a ma b mb|c M> / sqrt(2c+1); mirror:
    # (a b c; -ma -mb M) = (-1)^(a+b+c) (a b c; ma mb -M), stored with the rows reversed
    T = G * (np.where((a - b + M) % 2 == 1, -1.0, 1.0) / np.sqrt(2 * c + 1))
    mirror = T[::-1] * np.where((a + b + c) % 2 == 1, -1.0, 1.0)
    return np.concatenate([T, mirror], axis=1), colbase


def _sg_layout(a: int, lmax: int):
    """Columns ``(b, c, M)`` (float arrays) of the canonical block of ``a`` and ``colbase[b, c]``."""
    cols_b, cols_c, cols_M, colbase = [], [], [], np.full((lmax + 1, lmax + 1), -1, np.int64)
    n = 0
    for b in range(a, lmax + 1):
        for c in range(b, min(a + b, lmax) + 1):
            colbase[b, c] = n
            cols_b.append(np.full(c + 1, b))
            cols_c.append(np.full(c + 1, c))
            cols_M.append(np.arange(c + 1))
            n += c + 1
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0), colbase
    cat = (np.concatenate(x).astype(float) for x in (cols_b, cols_c, cols_M))
    return (*cat, colbase)


def _sg_match_rows(D, C, inner, rlo, rhi):
    """Matching row per column: middle of the allowed rows (in ``[lo, hi - 1]``); where there are
    none, the row where ``|D| - C - C'`` is least; clipped to ``[rlo, max(rhi - 1, rlo)]``."""
    nrow = D.shape[0]
    excess = np.where(inner, np.abs(D) - C[:-1] - C[1:], np.inf)
    allowed = excess < 0
    first = np.argmax(allowed, axis=0)
    last = nrow - 1 - np.argmax(allowed[::-1], axis=0)
    mid = np.where(allowed.any(axis=0), (first + last) // 2, np.argmin(excess, axis=0))
    return np.clip(mid, rlo, np.maximum(rhi - 1, rlo))


def _sg_runs(D, C, rlo, rhi, mc):
    """The forward run ``F`` (from ``rlo`` up to ``mc + 1``) and backward run ``B`` (from ``rhi`` down
    to ``mc``), each started at 1 and rescaled by ``2^-600`` whenever a column passes ``2^600``."""
    nrow, n = D.shape
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
    return F, B


def _sg_join(F, B, rlo, rhi, mc, inside):
    """Match ``B`` to ``F`` by least squares on rows ``mc, mc + 1``, normalise each column and sign it
    so that the entry at ``rhi`` is positive (Condon–Shortley)."""
    nrow, n = F.shape
    rows = np.arange(nrow)[:, None]
    col = np.arange(n)
    nxt = np.minimum(mc + 1, nrow - 1)
    f0, f1, b0, b1 = F[mc, col], F[nxt, col], B[mc, col], B[nxt, col]
    single = rlo == rhi
    scale = np.where(single, 1.0, (f0 * b0 + f1 * b1) / np.where(single, 1.0, b0 * b0 + b1 * b1))
    G = np.where(rows <= mc, F, scale * B) * inside
    G /= np.sqrt(np.einsum("ij,ij->j", G, G))
    G *= np.sign(G[rhi, col])
    return G


def _signed_layout(flat, info, floor: float):
    """``([U, -U], info2)`` from the canonical array of :func:`_canonical_3j`: per block ``a`` the
    symbol ``(a b c; ma, mb, mc)`` at ``off2 + (colbase2[b, c] + c + mc) (2a+1) + ma + a`` (all
    ``mc = -c..c`` of a pair ``(b, c)`` together, ``ma`` fastest), so a position is linear in
    ``(ma, mc)``; entries below ``floor`` are set to 0; ``info2[a] = (off2, width, colbase2)``."""
    blocks, info2, off2 = [], {}, 0
    for a, (off, ncol, colbase) in info.items():
        _, c, M, _ = _sg_layout(a, int(colbase.shape[0]) - 1)
        c, M = c.astype(np.int64), M.astype(np.int64)
        pair = np.cumsum(M == 0) - 1  # pair number of each column
        start2 = 2 * (np.arange(ncol) - M) - pair  # new start of the column's pair
        width = 2 * ncol - (int(pair[-1]) + 1 if ncol else 0)
        colbase2 = np.full(colbase.shape, -1, np.int64)
        colbase2[colbase >= 0] = start2[M == 0]  # pairs in row-major (b, c) order, as in _sg_layout
        info2[a] = (off2, width, colbase2)
        blocks.append((a, off, ncol, c, M, start2, off2, width))
        off2 += width * (2 * a + 1)
    out = np.empty(2 * off2)
    for a, off, ncol, c, M, start2, o2, width in blocks:
        nrow = 2 * a + 1
        T = flat[off:off + nrow * 2 * ncol].reshape(nrow, 2 * ncol)
        U = out[o2:o2 + width * nrow].reshape(width, nrow)
        U[start2 + c - M] = T[:, :ncol].T  # mc = -M
        up = M > 0
        U[(start2 + c + M)[up]] = T[:, ncol:][:, up].T  # mc = +M
    head = out[:off2]
    head[np.abs(head) < floor] = 0.0
    np.negative(head, out=out[off2:])
    return out, info2


def _canonical_3j(lmin: int, lmax: int):
    """All canonical blocks of :func:`_sg_columns` in one flat array, with per-``a`` offsets."""
    parts, info, off = [], {}, 0
    for a in range(lmin, lmax + 1):
        T, colbase = _sg_columns(a, lmax)
        info[a] = (off, T.shape[1] // 2, colbase)  # ncol: width of one half
        parts.append(T.ravel())
        off += T.size
    return np.concatenate(parts), info


def _recursion_rows(l1: int, lmin: int, lmax: int, basis: str, normalization: str, canon, *, exact: bool = False):
    """COO rows ``(l1, m1, l2, m2, L, M)`` (int32) and values of one ``l1`` from the canonical 3j
    symbols, in the order of the exact route: ``l2``, ``L``, ``m1``, ``m2`` ascending.

    ``exact=True``: ``canon`` holds correctly rounded values (:mod:`._exact_columns`; for ``"cg"`` one
    row per position of ``L``, the ``sqrt(2L+1)`` already in), only exact zeros are dropped, and the
    complex basis only."""
    flat, info = canon
    tri = [(l2, L) for l2 in range(lmin, lmax + 1) for L in range(max(abs(l1 - l2), lmin), min(l1 + l2, lmax) + 1)]
    if not tri:
        return np.zeros((0, 6), np.int32), np.zeros(0)
    t_l2, t_L = (np.array(x, dtype=np.int32) for x in zip(*tri))
    ia, ic, t_base, t_ncol, fac, pL = _triple_lookup(l1, t_l2, t_L, info, normalization, exact=exact)
    if basis == "complex":
        plan = _complex_plan(l1, t_l2, t_L, normalization, flat, exact, ia, ic, t_base, t_ncol, fac, pL)
        index, value = np.empty((plan["total"], 6), np.int32), np.empty(plan["total"])
        n = _complex_fill(plan, index, value)
        return index[:n], value[:n]
    m1, M, et = _entries(l1, t_l2, t_L)
    m2 = M - m1
    ms = (m1, m2, -M)
    ma = np.choose(ia[et], ms)
    mc = np.choose(ic[et], ms)
    pos = t_base[et] + ma.astype(np.int64) * (2 * t_ncol[et]) + np.abs(mc) + np.where(mc > 0, t_ncol[et], 0)
    if exact:
        v = flat[pL[et] if normalization == "cg" else 0, pos] * fac[et]
    else:
        v = flat[pos] * fac[et]
    if normalization == "3j":
        M = -M  # stored at m3
    else:
        v = np.where(M % 2 == 1, -v, v)  # the (-1)^(-m3) = (-1)^M part of the phase
    l2, L = t_l2[et], t_L[et]
    if basis == "real":
        l2, L, m1, m2, M, v = _coo_to_real(l1, l2, L, m1, m2, M, v, invariant=normalization == "3j")
    keep = (v != 0) if exact else np.abs(v) >= RECURSION_FLOOR  # recursion: below its accuracy is 0
    index = np.empty((int(keep.sum()), 6), np.int32)
    index[:, 0] = l1
    for k, arr in ((1, m1), (2, l2), (3, m2), (4, L), (5, M)):
        index[:, k] = arr[keep]
    return index, v[keep]


def _complex_plan(l1, t_l2, t_L, normalization, flat, exact, ia, ic, t_base, t_ncol, fac, pL, *, signed=False) -> dict:
    """The segments ``(triple, m1)`` of one ``l1`` in the complex basis (each a run of consecutive
    ``M``) with their row heads and the linear form of their canonical positions; ``"total"`` is
    the number of rows before exact (or sub-accuracy) zeros are dropped.

    ``signed=True`` (3j normalisation, recursion only): ``flat`` is ``[U, -U]`` with ``U`` the
    canonical symbols in the layout of :func:`_signed_layout` (position linear in ``(ma, mc)``, so
    linear in ``r`` along a segment, and the rows of one segment a few hundred bytes apart), and
    each segment's sign (``fac``, +-1) is folded into its positions: values are a single gather."""
    nrow = 2 * l1 + 1
    seg_t = np.repeat(np.arange(len(t_l2), dtype=np.int32), nrow)
    seg_m1 = np.tile(np.arange(-l1, l1 + 1, dtype=np.int32), len(t_l2))
    seg_l2, seg_L = t_l2[seg_t], t_L[seg_t]
    Mlo = np.maximum(-seg_L, seg_m1 - seg_l2)
    cnt = np.maximum(np.minimum(seg_L, seg_m1 + seg_l2) - Mlo + 1, 0)
    nz = cnt > 0
    seg_t, seg_m1, seg_l2, seg_L, Mlo, cnt = (x[nz] for x in (seg_t, seg_m1, seg_l2, seg_L, Mlo, cnt))
    three_j = normalization == "3j"
    head = np.stack([np.full_like(seg_m1, l1), seg_m1, seg_l2, Mlo - seg_m1, seg_L, -Mlo if three_j else Mlo], axis=1)
    # (m1, m2, m3) = (m1, Mlo - m1 + r, -Mlo - r): value and slope in r of the entries at ia, ic
    heads = np.stack([seg_m1, Mlo - seg_m1, -Mlo])
    slopes = np.array([0, 1, -1], np.int32)
    sa, sc = ia[seg_t], ic[seg_t]
    ma0, mc0 = np.take_along_axis(heads, sa[None], 0)[0], np.take_along_axis(heads, sc[None], 0)[0]
    ncol = t_ncol[seg_t]
    itype = np.int32 if flat.shape[-1] < 2**31 else np.int64
    f = fac[seg_t]
    if not three_j:  # the (-1)^(-m3) = (-1)^M part of the phase, M = Mlo + r (the r part in the fill)
        f = np.where(Mlo % 2 == 1, -f, f)
    signed = bool(signed and three_j and not exact)
    if signed:  # position ma + (2a+1) mc from t_base; negative segments read the negated copy
        w = (2 * np.minimum(np.minimum(l1, seg_l2), seg_L) + 1).astype(np.int64)
        p0 = t_base[seg_t] + ma0 + w * mc0 + np.where(f < 0, flat.shape[-1] // 2, 0)
        dp = slopes[sa] + w * slopes[sc]  # the whole slope in r
    else:
        p0 = t_base[seg_t] + ma0.astype(np.int64) * (2 * ncol)
        dp = slopes[sa] * (2 * ncol)
    return {
        "total": int(cnt.sum()), "cnt": cnt, "head": head, "three_j": three_j, "exact": exact, "flat": flat,
        "p0": p0.astype(itype), "signed": signed, "dp": dp.astype(itype), "mc0": mc0, "dc": slopes[sc],
        "ncol": ncol.astype(itype),
        "f": f, "row": pL[seg_t] if exact and normalization == "cg" else None,
    }


def _complex_values(plan: dict) -> tuple:
    """The kept values of a :func:`_complex_plan` and its segments cut at the dropped rows:
    ``(value, head, cnt, start, step)``, ``value`` float64 of the kept rows in order.

    Values are one gather from the canonical array, plus the sign and scale unless
    ``plan["signed"]``; the few rows to drop (exact zeros, or entries below the recursion's
    accuracy) then cut their segments, so that :func:`_write_index` writes the index once, already
    compacted."""
    total, cnt = plan["total"], plan["cnt"]
    value = np.empty(total)
    pos = _positions(plan, total)
    flat = plan["flat"]
    start = np.cumsum(cnt, dtype=np.int64) - cnt
    if plan["signed"]:
        np.take(flat, pos, out=value, mode="clip")  # "clip": unbuffered
    else:
        which = np.repeat(np.arange(len(cnt), dtype=np.int32), cnt)  # segment of each row
        if not plan["exact"]:
            np.take(flat, pos, out=value, mode="clip")
        elif plan["row"] is not None:
            value[:] = flat[plan["row"][which], pos]
        else:
            np.take(flat[0], pos, out=value, mode="clip")
        value *= plan["f"][which]
        if not plan["three_j"]:
            r = np.arange(total, dtype=np.int64) - start[which]
            value[r % 2 == 1] *= -1.0
            del r
        del which
    del pos
    if plan["exact"] or plan["signed"]:  # signed: entries below the accuracy are already 0 in flat
        bad = np.flatnonzero(value == 0)
    else:
        bad = np.flatnonzero(np.abs(value) < RECURSION_FLOOR)  # recursion: below its accuracy is 0
    head, step = plan["head"], -1 if plan["three_j"] else 1  # M column: stored at m3 = -M for 3j
    if len(bad):
        _squeeze(value, bad)
        head, cnt, start = _cut_segments(head, cnt, start, bad, step, total)
    return value[: total - len(bad)], head, cnt, start, step


def _complex_fill(plan: dict, index: np.ndarray, value: np.ndarray) -> int:
    """Write the rows of a :func:`_complex_plan` that are kept into the front of ``index`` /
    ``value`` (room for ``plan["total"]`` rows); return how many were kept. Each row of the index is
    its segment's head plus ``(0, 0, 0, r, 0, -+r)``."""
    kept, head, cnt, start, step = _complex_values(plan)
    n = len(kept)
    value[:n] = kept
    _write_index(head, cnt, start, index[:n], step)
    return n


def _fill_all(plans: list, index: np.ndarray, value: np.ndarray, workers: int) -> int:
    """:func:`_complex_fill` of every plan, one after the other into ``index`` / ``value``; with
    ``workers > 1`` the plans' values are computed and their rows written on a thread pool (numpy
    releases the GIL in the gathers and copies), the writes at offsets known once the plans
    before are done, in plan order; returns the number of rows written. Same rows as serial."""
    if workers <= 1 or len(plans) <= 1:
        n = 0
        for p in plans:
            n += _complex_fill(p, index[n:], value[n:])
        return n
    from concurrent.futures import ThreadPoolExecutor

    def write(kept, head, cnt, start, step, off):
        value[off:off + len(kept)] = kept
        _write_index(head, cnt, start, index[off:off + len(kept)], step)

    n, writes, ahead = 0, [], []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        todo = iter(plans)
        for p in todo:  # values run at most `workers` plans ahead of the writes: bounded scratch
            ahead.append(pool.submit(_complex_values, p))
            if len(ahead) == workers:
                break
        while ahead:
            kept, head, cnt, start, step = ahead.pop(0).result()  # in plan order
            writes.append(pool.submit(write, kept, head, cnt, start, step, n))
            n += len(kept)
            nxt = next(todo, None)
            if nxt is not None:
                ahead.append(pool.submit(_complex_values, nxt))
        for w in writes:
            w.result()
    return n


def _squeeze(value: np.ndarray, bad: np.ndarray) -> None:
    """Remove the rows ``bad`` (sorted) from ``value``, keeping the order: the kept rows end up in
    ``value[:len(value) - len(bad)]``. Few bad rows: the runs between them are moved down one by one
    (one pass over the data); many: a boolean mask."""
    total = len(value)
    if 64 * len(bad) > total:
        keep = np.ones(total, bool)
        keep[bad] = False
        value[: total - len(bad)] = value[keep]
        return
    dst = int(bad[0])
    for lo, hi in zip((bad[:-1] + 1).tolist(), bad[1:].tolist()):
        value[dst:dst + hi - lo] = value[lo:hi]
        dst += hi - lo
    lo = int(bad[-1]) + 1
    value[dst:dst + total - lo] = value[lo:]


def _cut_segments(head, cnt, start, bad, step: int, total: int):
    """Segments ``(head, cnt)`` with the rows ``bad`` (sorted row numbers) removed: each bad row
    cuts its segment; returns the new heads, counts and (compacted) start rows."""
    cuts = np.sort(np.concatenate([start, bad, bad + 1]))
    cuts = cuts[np.append(cuts[1:] != cuts[:-1], True) & (cuts < total)]  # sorted, unique
    ends = np.append(cuts[1:], total)
    keep = np.ones(len(cuts), bool)
    keep[np.searchsorted(cuts, bad)] = False  # the one-row pieces that are bad rows
    ps, pe = cuts[keep], ends[keep]
    seg = np.searchsorted(start, ps, side="right") - 1
    off = (ps - start[seg]).astype(head.dtype)
    head = head[seg]
    head[:, 3] += off
    head[:, 5] += step * off
    cnt = (pe - ps).astype(cnt.dtype)
    return head, cnt, np.cumsum(cnt, dtype=np.int64) - cnt


def _write_index(head, cnt, start, index, step: int, chunk: int = 1 << 15) -> None:
    """``index[k] = head[s] + (0, 0, 0, r, 0, step r)`` for row ``k = start[s] + r`` of segment ``s``:
    the heads shifted back by their start rows are gathered and the row number added, in chunks
    of ``chunk`` rows that stay in cache between the two passes."""
    n = len(index)
    if n >= 2**31 - chunk:  # row numbers past int32: one int64 pass
        full = head.astype(np.int64)[np.repeat(np.arange(len(cnt)), cnt)]
        rows = np.arange(n, dtype=np.int64) - np.repeat(start, cnt)
        full[:, 3] += rows
        full[:, 5] += step * rows
        index[:] = full
        return
    shifted = head.astype(np.int32)
    shifted[:, 3] -= start.astype(np.int32)
    shifted[:, 5] -= step * start.astype(np.int32)
    which = np.repeat(np.arange(len(cnt), dtype=np.int32), cnt)
    ramp = np.zeros((min(chunk, n), 6), np.int32)  # (0, 0, 0, k, 0, step k)
    ramp[:, 3] = np.arange(len(ramp), dtype=np.int32)
    ramp[:, 5] = step * ramp[:, 3]
    unit = np.array([0, 0, 0, 1, 0, step], np.int32)
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        out = index[s:e]
        np.take(shifted, which[s:e], axis=0, out=out, mode="clip")  # "clip": unbuffered
        np.add(out, ramp[: e - s], out=out)
        if s:
            np.add(out, s * unit, out=out)
def _position_steps(plan: dict, total: int) -> np.ndarray:
    """Canonical positions of all rows: ``p0 + dp r + |mc| + (mc > 0) ncol`` with ``mc = mc0 + dc r``,
    which is linear in ``r`` on each side of ``mc = 0``; each segment is cut there and the positions
    are a cumulative sum of per-piece slopes (two passes over the rows instead of a dozen); this
    returns the steps, whose running sum is the positions."""
    cnt, mc0, dc = plan["cnt"], plan["mc0"].astype(np.int64), plan["dc"].astype(np.int64)
    p0, dp, ncol = (plan[k].astype(np.int64) for k in ("p0", "dp", "ncol"))
    # length of the first piece: rows with the same side of mc = 0 as r = 0
    first_pos = mc0 > 0
    cut = np.where(dc == 0, cnt, np.where(dc > 0, np.where(first_pos, cnt, -mc0 + 1), np.where(first_pos, mc0, cnt)))
    n1 = np.clip(cut, 0, cnt)
    n2 = cnt - n1

    def start(m0, side):  # position at the piece's first row and its slope
        return p0 + np.abs(m0) + np.where(side, ncol, 0), dp + np.where(side, dc, -dc)

    s1, d1 = start(mc0, first_pos)
    m2 = mc0 + dc * n1
    s2, d2 = start(m2, m2 > 0)
    s2 = s2 + dp * n1
    lens = np.stack([n1, n2], axis=1).ravel()
    starts = np.stack([s1, s2], axis=1).ravel()
    slopes = np.stack([d1, d2], axis=1).ravel()
    keep = lens > 0
    lens, starts, slopes = lens[keep], starts[keep], slopes[keep]
    itype = plan["p0"].dtype
    delta = np.repeat(slopes.astype(itype), lens)
    first = np.cumsum(lens) - lens
    prev_last = np.concatenate([[0], (starts + slopes * (lens - 1))[:-1]])
    delta[first] = (starts - prev_last).astype(itype)
    return delta


def _positions(plan: dict, total: int) -> np.ndarray:
    """Canonical positions of all rows of a :func:`_complex_plan` (the running sum of
    :func:`_position_steps`, or of the per-segment slopes of a signed plan, whose positions are
    linear along each segment)."""
    itype = plan["p0"].dtype
    if not plan["signed"]:
        return np.cumsum(_position_steps(plan, total), dtype=itype)
    cnt, p0, slope = plan["cnt"], plan["p0"].astype(np.int64), plan["dp"].astype(np.int64)
    delta = np.repeat(slope.astype(itype), cnt)
    first = np.cumsum(cnt, dtype=np.int64) - cnt
    prev_last = np.concatenate([[0], (p0 + slope * (cnt - 1))[:-1]])
    delta[first] = (p0 - prev_last).astype(itype)
    return np.cumsum(delta, dtype=itype)


def _complex_rows_plan(l1: int, lmin: int, lmax: int, normalization: str, canon, exact: bool, *,
                       signed: bool = False) -> dict | None:
    """:func:`_complex_plan` of one ``l1`` (``None`` if it has no triple); ``signed``: ``canon``'s
    flat array is ``[canonical, -canonical]`` (see :func:`_complex_plan`)."""
    flat, info = canon
    tri = [(l2, L) for l2 in range(lmin, lmax + 1) for L in range(max(abs(l1 - l2), lmin), min(l1 + l2, lmax) + 1)]
    if not tri:
        return None
    t_l2, t_L = (np.array(x, dtype=np.int32) for x in zip(*tri))
    lookup = _triple_lookup(l1, t_l2, t_L, info, normalization, exact=exact, transposed=signed)
    return _complex_plan(l1, t_l2, t_L, normalization, flat, exact, *lookup, signed=signed)


def _triple_lookup(l1: int, t_l2, t_L, info, normalization: str, *, exact: bool = False, transposed: bool = False):
    """Per triple ``(l1, l2, L)``: positions ``ia, ic`` of the smallest and largest spin, the flat
    index of ``ma = 0, |mc| = 0`` in the canonical block, its half width, the sign/scale factor
    (without ``sqrt(2L+1)`` if ``exact``) and the sorted position of ``L``."""
    spins = np.stack([np.full(len(t_l2), l1, np.int32), t_l2, t_L])
    perm = np.argsort(spins, axis=0, kind="stable")  # positions of a, b, c among (l1, l2, L)
    ia, ib, ic = perm
    odd = ((ib - ia) % 3) != 1  # (ia, ib, ic) not a cyclic rotation of (0, 1, 2)
    sa, sb, sc = np.take_along_axis(spins, perm, axis=0)
    t_off = np.array([info[int(x)][0] for x in sa], np.int64)
    t_ncol = np.array([info[int(x)][1] for x in sa], np.int64)
    t_col = np.array([info[int(x)][2][y, z] for x, y, z in zip(sa, sb, sc)], np.int64)
    if transposed:  # _signed_layout: flat index of ma = 0, mc = 0
        t_base = t_off + (t_col + sc) * (2 * sa.astype(np.int64) + 1) + sa
    else:
        t_base = t_off + sa.astype(np.int64) * 2 * t_ncol + t_col  # flat index of ma = 0, |mc| = 0
    # 3j (l1 l2 L; m1 m2 m3) -> the requested normalisation, per triple: odd permutations give
    # (-1)^(l1+l2+L); cg = (-1)^(l1-l2-m3) sqrt(2L+1) 3j, unit = (-1)^(l1-l2-m3) 3j
    fac = np.where(odd & ((l1 + t_l2 + t_L) % 2 == 1), -1.0, 1.0)
    if normalization != "3j":
        fac = fac * np.where((l1 - t_l2) % 2 == 1, -1.0, 1.0)
        if normalization == "cg" and not exact:
            fac = fac * np.sqrt(2 * t_L + 1.0)
    pL = np.where(ia == 2, 0, np.where(ib == 2, 1, 2))
    return ia, ic, t_base, t_ncol, fac, pL


def _entries(l1: int, t_l2, t_L):
    """``(m1, M, triple)`` of every allowed entry, in output order: segments ``(triple, m1)``, each a
    contiguous range of ``M``."""
    nrow = 2 * l1 + 1
    seg_t = np.repeat(np.arange(len(t_l2)), nrow)
    seg_m1 = np.tile(np.arange(-l1, l1 + 1, dtype=np.int32), len(t_l2))
    seg_l2, seg_L = t_l2[seg_t], t_L[seg_t]
    Mlo = np.maximum(-seg_L, seg_m1 - seg_l2)
    cnt = np.maximum(np.minimum(seg_L, seg_m1 + seg_l2) - Mlo + 1, 0)
    total = int(cnt.sum())
    M = np.repeat(Mlo - (np.cumsum(cnt, dtype=np.int32) - cnt), cnt) + np.arange(total, dtype=np.int32)
    return np.repeat(seg_m1, cnt), M, np.repeat(seg_t, cnt)


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
