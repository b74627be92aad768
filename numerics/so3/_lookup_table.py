"""The exportable lookup table of SO(3) numbers and the argument checks its builders share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpinError
from nntheory.numerics._rounding import float_format

__all__ = ["CONVENTIONS", "DEFAULT_MAX_BYTES", "LookupTable"]

RECURSION_FLOOR = 1e-14  # entries of recursion tables below this are dropped (absolute accuracy)

#: the default memory limit of the table builders and of ``wigner_d_matrix`` (2 GiB)
DEFAULT_MAX_BYTES = 2 * 1024**3
#: entries of a table of degree lmax are at most ``coef * (lmax + 1) ** power`` (measured ratios to
#: (lmax+1)^5 for cg: real 0.66-0.79 at lmax 4-12, complex 0.45 at lmax 12 and 32; wigner-d sum (2l+1)^2
#: < 1.4 (lmax+1)^3; sh 848 entries at lmax 10); bytes per entry while built: index + value, twice
_GROWTH = {"cg": (1.0, 5), "cg-complex": (0.5, 5), "wigner-d": (1.5, 3), "sh": (1.0, 3)}
_BYTES_PER_ENTRY = {"cg": 64, "cg-complex": 64, "wigner-d": 40, "sh": 56}


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
        """Number of stored (nonzero) entries."""
        return len(self.value)

    def dense(self, l1: int, l2: int, L: int) -> np.ndarray:
        """The dense ``(2l1+1, 2l2+1, 2L+1)`` block of one triple (CG tables).

        Returns:
            The block (zeros where the table has no entry).
        Raises:
            SpinError: if this is not a CG table.
        """
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


def check_table_bytes(kind: str, lmax: int, max_bytes, where: str, lmin: int = 0) -> None:
    """Refuse a table whose estimated memory exceeds ``max_bytes`` before anything is allocated.

    ``kind``: ``"cg"``, ``"cg-complex"``, ``"wigner-d"`` or ``"sh"``; for CG tables with ``lmin > 0``
    the entries are also bounded by ``(lmax - lmin + 1)^3 (2 lmax + 1)^2``. Raises :class:`SpinError`
    naming ``lmax``, the estimate in bytes, the limit and the largest ``lmax`` that fits.
    """
    max_bytes = check_int(max_bytes, "max_bytes", lo=1, where=where, error=SpinError)
    coef, power = _GROWTH[kind]
    per = _BYTES_PER_ENTRY[kind]
    entries = coef * float(lmax + 1) ** power
    if kind.startswith("cg"):
        entries = min(entries, float(lmax - lmin + 1) ** 3 * float(2 * lmax + 1) ** 2)
    need = entries * per
    if need <= max_bytes:
        return
    fits = max(int((max_bytes / (coef * per)) ** (1 / power)) - 1, -1)
    hint = ", build it in pieces with lmin=..." if kind.startswith("cg") else ""
    raise SpinError(f"{where}: lmax={lmax} needs about {need:.3g} bytes, more than max_bytes={max_bytes} "
                    f"({max_bytes / 2**30:.3g} GiB); use lmax <= {fits}{hint} or pass a larger max_bytes.")


def check_lmax(lmax, where: str) -> int:
    """``lmax`` as an int >= 0, or :class:`SpinError`."""
    return check_int(lmax, "lmax", lo=0, where=where, error=SpinError)


def check_choice(value, name: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`SpinError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise SpinError(f"{name} must be {options}, got {value!r}")


def dtype_bits(dtype) -> tuple[int, int]:
    """``(mantissa bits, least exponent)`` of float32/float64, or :class:`SpinError`."""
    return float_format(dtype, error=SpinError)
