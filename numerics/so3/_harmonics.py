"""Real spherical harmonics in JAX (stable normalised Legendre recursion) and exact SH polynomial tables."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

from nntheory.errors import SpinError
from nntheory.numerics._rounding import round_mpf
from nntheory.numerics.so3._lookup_table import (CONVENTIONS, DEFAULT_MAX_BYTES, LookupTable, check_choice, check_lmax,
                                                 check_table_bytes, dtype_bits)

__all__ = ["real_spherical_harmonics", "sh_table"]


def real_spherical_harmonics(lmax: int, points, *, normalization: str = "integral") -> jax.Array:
    r"""Real spherical harmonics ``Y_{l m}`` for ``l = 0..lmax`` at a batch of points, in JAX.

    ``points``: array ``(..., 3)``, normalised to the unit sphere first. Returns ``(..., (lmax+1)^2)``,
    ``l`` blocks in order and ``m`` ascending within a block (the real basis of the module
    docstring). ``normalization``: ``"integral"`` (orthonormal), ``"component"``
    (``sum_m Y_m^2 = 2l+1``) or ``"norm"`` (``= 1``). Stable normalised Legendre recursion; float64
    accuracy ~1e-15 relative to the block norm at any ``l``.

    Returns:
        Array ``(..., (lmax+1)^2)``.
    Raises:
        SpinError: for a bad ``lmax``, ``normalization`` or ``points`` shape.
    """
    check_choice(normalization, "normalization", ("integral", "component", "norm"))
    lmax = check_lmax(lmax, "real_spherical_harmonics")
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
    P = _normalized_legendre(lmax, z)
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


def _normalized_legendre(lmax: int, z) -> dict:
    """Normalised associated Legendre functions (derivative form) ``Pbar[(l, m)]``, ``0 <= m <= l <= lmax``,
    by the stable three-term recursion in ``l``."""
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
    return P


def sh_table(lmax: int, *, basis: str = "real", normalization: str = "component", dtype="float64",
             max_bytes: int = DEFAULT_MAX_BYTES) -> LookupTable:
    r"""Spherical harmonics as homogeneous polynomials: COO index ``(l, m, a, b, c)`` for the
    coefficient of ``x^a y^b z^c`` in ``Y_{l m}`` (valid on the unit sphere; harmonic everywhere).

    Coefficients come from the exact sympy polynomials of ``theory.spherical_harmonics`` and are
    evaluated at 100 digits before one rounding (so correctly rounded unless a value lies within
    ~1e-90 of a rounding boundary). Complex basis: ``value`` has columns ``(re, im)``. sympy's
    polynomial algebra makes this slow beyond ``lmax ~ 20``.

    Args:
        lmax: largest degree (>= 0).
        basis: ``"real"`` or ``"complex"``.
        normalization: ``"integral"``, ``"component"`` or ``"norm"``.
        dtype: ``"float64"`` or ``"float32"``.
        max_bytes: memory limit (default 2 GiB), checked against an estimate (``~56 (lmax+1)^3``
            bytes) before anything is built.
    Returns:
        A :class:`LookupTable` of kind ``"sh"`` (index ``(l, m, a, b, c)``).
    Raises:
        SpinError: for a bad ``lmax``, ``basis``, ``normalization`` or ``dtype``, or a table estimated
            above ``max_bytes``.
    """
    import sympy

    from nntheory.theory.so3._so3 import spherical_harmonics

    lmax = check_lmax(lmax, "sh_table")
    dtype_bits(dtype)
    check_table_bytes("sh", lmax, max_bytes, "sh_table")
    x, y, z = sympy.symbols("x y z", real=True)
    idx, val = [], []
    for l in range(lmax + 1):
        ys = spherical_harmonics(l, (x, y, z), basis=basis, normalization=normalization)
        for m, e in zip(range(-l, l + 1), ys):
            for (a, b, c), coeff in sorted(sympy.Poly(e, x, y, z).terms()):
                re, im = coeff.as_real_imag()
                with mpmath.workdps(100):
                    r, i = (round_mpf(mpmath.mpf(sympy.N(t, 100)), dtype) if t != 0 else 0.0 for t in (re, im))
                idx.append((l, m, a, b, c))
                val.append((r, i) if basis == "complex" else r)
    meta = {
        "kind": "sh", "lmax": lmax, "basis": basis, "normalization": normalization, "dtype": np.dtype(dtype).name,
        "method": "exact", "accuracy": "rounded once from 100-digit values of the exact coefficients",
        "conventions": CONVENTIONS, "index": ["l", "m", "a", "b", "c"],
        "value": ["re", "im"] if basis == "complex" else ["value"],
    }
    return LookupTable(np.asarray(idx, np.int32).reshape(-1, 5), np.asarray(val, dtype), meta)
