"""The exportable lookup table of SO(3) numbers and the argument checks its builders share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpinError
from nntheory.numerics._rounding import float_format

__all__ = ["CONVENTIONS", "LookupTable"]

RECURSION_FLOOR = 1e-14  # entries of recursion tables below this are dropped (absolute accuracy)


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
