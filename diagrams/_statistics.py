"""Names of the finite-width statistics ``S(m, k)`` of the diagram expansion.

``S(m, k)`` is the coefficient of ``n^-k`` in the ``m``-th cumulant of a layer's stochastic kernel
``G``: ``K = S(1,0)``, ``K1 = S(1,1)``, ``V = S(2,1)`` (PDLT's kernel, NLO kernel and four-point
vertex), ``U6 = S(3,2)`` (the six-point vertex), ``W = S(4,3)``; any other as ``kappa<m>_<k>``.

Names are exact (case-sensitive). The six-point vertex is ``U6`` (``U6_3`` at order ``1/n^3``), not ``U``:
``U`` is PDLT's ddNTK tensor (chapter 11, ``nntheory recursions --statistics U``). The old names ``U`` and
``U3`` of the six-point vertex are refused with a message pointing to ``U6`` and ``U6_3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nntheory.errors import SpecError

__all__ = ["DiagramStatistic", "parse_statistic", "resolve_statistic", "statistic_name"]

#: the families by name: the cumulant order m of the kernel
FAMILIES = {"K": 1, "V": 2, "U6": 3, "W": 4}

_NAMES = {(1, 0): "K", (1, 1): "K1", (1, 2): "K2", (1, 3): "K3", (2, 1): "V", (2, 2): "V2", (2, 3): "V3",
          (3, 2): "U6", (3, 3): "U6_3", (4, 3): "W"}
#: names the six-point vertex had before ``U`` became the ddNTK tensor: refused, with the new name
_RENAMED = {"U": "U6", "U3": "U6_3"}
_DESCRIPTIONS = {1: "kernel <z z> = sum_k K_k / n^k", 2: "four-point vertex: Cov(G, G) = sum_k V_k / n^k",
                 3: "six-point vertex: kappa_3(G) = U6/n^2 + U6_3/n^3 + ...", 4: "eight-point vertex: kappa_4(G)"}


def statistic_name(m: int, k: int) -> str:
    """PDLT-style name of ``S(m, k)``: ``K, K1, K2, V, V2, U6, U6_3, W``, else ``kappa{m}_{k}``.

    Args:
        m: the cumulant order of the kernel.
        k: the power of ``1/n``.

    Returns:
        The name, a str (e.g. ``"V"`` for ``(2, 1)``, ``"kappa5_4"`` for ``(5, 4)``);
        :func:`parse_statistic` maps it back to ``(m, k)``.
    """
    return _NAMES.get((m, k), f"kappa{m}_{k}")


def _kmin(m: int) -> int:
    return 0 if m == 1 else m - 1


def parse_statistic(name: str) -> tuple[int, int]:
    """``(m, k)`` from a statistic name (``"V"``, ``"U6"``, ``"K2"``, ``"kappa5_4"``).

    Args:
        name: a PDLT-style name (``K``, ``K1``, ``K2``, ``K3``, ``V``, ``V2``, ``V3``, ``U6``, ``U6_3``, ``W``)
            or ``kappa<m>_<k>``.

    Returns:
        ``(m, k)``, two ints: the cumulant order ``m`` of the kernel and the power ``k`` of ``1/n``.

    Raises:
        SpecError: for an unknown name, or ``kappa<m>_<k>`` with ``m < 1`` or ``k`` below the statistic's
            first order (``k >= m - 1``; ``k >= 0`` for ``m = 1``); for the old six-point names ``U``, ``U3``.
    """
    _refuse_renamed(name)
    inv = {v: k for k, v in _NAMES.items()}
    if name in inv:
        return inv[name]
    mt = re.fullmatch(r"kappa(\d+)_(\d+)", str(name))
    if mt:
        m, k = int(mt.group(1)), int(mt.group(2))
        if m >= 1 and k >= _kmin(m):
            return m, k
        raise SpecError(f"statistic {name!r}: kappa_m(G) starts at order 1/n^{_kmin(max(m, 1))}; need m >= 1 and k >= {_kmin(max(m, 1))}.")
    raise SpecError(f"statistic must be one of {sorted(inv)} or 'kappa<m>_<k>' (m-th cumulant of the kernel at 1/n^k), got {name!r}.")


def _refuse_renamed(name) -> None:
    if name in _RENAMED:
        raise SpecError(f"statistic {name!r}: the six-point vertex is now {_RENAMED[name]!r} ('U' is PDLT's ddNTK "
                        f"tensor, see nntheory recursions --statistics); use {_RENAMED[name]!r}.")


@dataclass(frozen=True)
class DiagramStatistic:
    """``S(m, k)``: the coefficient of ``n^-k`` in the ``m``-th cumulant of the stochastic kernel."""

    m: int
    k: int

    @property
    def name(self) -> str:
        return statistic_name(self.m, self.k)


def resolve_statistic(name: str, order: int | None = None) -> tuple[int, int]:
    """``(m, k)`` from a family and an order (``'V', 2`` -> ``(2, 2)``) or an exact name (``'V2'``, ``'kappa5_4'``).

    Args:
        name: a family (``K``, ``V``, ``U6``, ``W``, ``kappa<m>``) or an exact statistic name.
        order: the power ``k`` of ``1/n``; required with a family, optional (and checked) with an exact name.
    Returns:
        ``(m, k)``.
    Raises:
        SpecError: for an unknown name, a missing or inconsistent order.

    Example:
        >>> resolve_statistic("V", 2)
        (2, 2)
        >>> resolve_statistic("K1")
        (1, 1)
    """
    if order is not None and (isinstance(order, bool) or order < 0):
        raise SpecError(f"--order: must be an int >= 0, got {order}.")
    _refuse_renamed(name)
    fam = FAMILIES.get(name)
    if fam is None and name.startswith("kappa") and name[5:].isdigit():
        fam = int(name[5:])
    if fam is not None:
        if order is None:
            raise SpecError(f"--order: required with the statistic family {name!r} (the power of 1/n).")
        kmin = _kmin(fam)
        if order < kmin:
            raise SpecError(f"--order: {name} (the cumulant kappa_{fam} of the kernel) starts at order {kmin}, got {order}.")
        return fam, order
    m, k = parse_statistic(name)
    if order is not None and order != k:
        raise SpecError(f"--order: {name} is the coefficient of 1/n^{k}; got --order {order}.")
    return m, k
