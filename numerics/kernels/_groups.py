r"""Finite groups acting on network inputs and outputs, data augmentation and group-averaged kernels.

A :class:`FiniteGroup` holds, for each element :math:`g`, an orthogonal matrix :math:`R(g)` acting on
flattened inputs and a matrix :math:`\rho(g)` acting on outputs (trivial for invariant targets), with
element 0 the identity. Constructors build them exactly: pixel permutations for rotations of square
images by multiples of 90° (the only rotations that map a pixel grid onto itself), reflections,
rotations :math:`C_n` of point sets in the plane, and permutations of items.

For a kernel that is invariant under a simultaneous orthogonal transformation of both inputs (every
MLP kernel: it only depends on :math:`x\cdot x'`, :math:`|x|`, :math:`|x'|`), full data augmentation
of the training set (``augment``) is the same as training on the original data with the
group-averaged kernel (``average_kernel``, Gerken & Kessel 2024):

.. math:: \bar K(x, x') = \frac{1}{|G|}\sum_{g\in G} K(x, g x')\,\rho(g)

(a ``k x k`` matrix-valued kernel; a scalar one for invariant targets, :math:`\rho = 1`), and the resulting NTK predictions are
invariant/equivariant at all training times, on and off the data manifold.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations as _perms
from math import factorial
from typing import Callable

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import GroupError

__all__ = [
    "FiniteGroup",
    "GroupError",
    "image_dihedral",
    "image_reflections",
    "image_rotations",
    "item_permutations",
    "point_rotations",
]


@dataclass(frozen=True, eq=False)
class FiniteGroup:
    """A finite group given by its input representation ``R (|G|, d, d)`` and output representation ``rho (|G|, k, k)``."""

    name: str
    R: np.ndarray
    rho: np.ndarray
    table: np.ndarray  # multiplication table: table[g, h] = index of g h

    @property
    def order(self) -> int:
        """The number of elements |G|."""
        return self.R.shape[0]

    @property
    def input_dim(self) -> int:
        """The dimension of the inputs the group acts on."""
        return self.R.shape[1]

    @property
    def output_dim(self) -> int:
        """The dimension of the output representation rho."""
        return self.rho.shape[1]

    @property
    def invariant(self) -> bool:
        """True when every ``rho(g)`` is the identity (invariant targets)."""
        return bool(np.all(self.rho == np.eye(self.output_dim)))

    def _x(self, x, name="x") -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.input_dim:
            raise GroupError(f"{self.name}: {name} must have shape (N, {self.input_dim}) (flattened inputs), got {np.shape(x)}.")
        return arr

    def act(self, g: int, x) -> np.ndarray:
        """``g x`` for each row of ``x``."""
        if not 0 <= int(g) < self.order:
            raise GroupError(f"{self.name}: element index g must be in [0, {self.order - 1}], got {g}.")
        return self._x(x) @ self.R[int(g)].T

    def orbit(self, x) -> np.ndarray:
        """All transformed copies, shape ``(|G|, N, d)``."""
        return np.einsum("gij,nj->gni", self.R, self._x(x))

    def augment(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Full augmentation: ``(g x_i, rho(g) y_i)`` for all ``g`` and ``i`` (group-major order)."""
        X = self.orbit(x)
        Y = np.asarray(y, dtype=np.float64)
        Y2 = Y[:, None] if Y.ndim == 1 else Y
        if Y2.ndim != 2 or Y2.shape[0] != X.shape[1] or (not self.invariant and Y2.shape[1] != self.output_dim):
            want = "N, any k" if self.invariant else f"N, {self.output_dim}"
            raise GroupError(f"{self.name}: y must have shape ({want}) with N = {X.shape[1]}, got {Y.shape}.")
        if self.invariant:  # invariant targets: every output column is copied unchanged
            Yg = np.broadcast_to(Y2, (self.order, *Y2.shape)).reshape(-1, Y2.shape[1])
        else:
            Yg = np.einsum("gij,nj->gni", self.rho, Y2).reshape(-1, self.output_dim)
        return X.reshape(-1, self.input_dim), (Yg[:, 0] if Y.ndim == 1 else Yg)

    def average_kernel(self, kernel: Callable, x1, x2=None) -> np.ndarray:
        r"""Group-averaged kernel :math:`\frac1{|G|}\sum_g K(x_1, g x_2)`, ``(N1, N2)``; with a non-trivial
        output representation :math:`\frac1{|G|}\sum_g K(x_1, g x_2)\rho(g)`, ``(N1, N2, k, k)``."""
        a = self._x(x1, "x1")
        b = a if x2 is None else self._x(x2, "x2")
        total = None
        for g in range(self.order):
            Kg = np.asarray(kernel(a, b @ self.R[g].T), dtype=np.float64)
            term = Kg if self.invariant else Kg[:, :, None, None] * self.rho[g]
            total = term if total is None else total + term
        return total / self.order

    def equivariance_error(self, f: Callable, x) -> np.ndarray:
        r"""Per input, :math:`\max_g \lVert f(gx) - \rho(g) f(x)\rVert_2`; ``f`` maps ``(N, d)`` to ``(N, k)`` or ``(N,)``."""
        X = self._x(x)
        f0 = np.asarray(f(X), dtype=np.float64).reshape(X.shape[0], -1)
        err = np.zeros(X.shape[0])
        for g in range(1, self.order):
            fg = np.asarray(f(X @ self.R[g].T), dtype=np.float64).reshape(X.shape[0], -1)
            target = f0 if self.invariant else f0 @ self.rho[g].T
            err = np.maximum(err, np.linalg.norm(fg - target, axis=1))
        return err

    def __repr__(self) -> str:
        return f"FiniteGroup({self.name!r}, order={self.order}, input_dim={self.input_dim}, output_dim={self.output_dim})"


def _table(mats: np.ndarray, name: str, tol: float = 1e-12) -> np.ndarray:
    n = mats.shape[0]
    flat = mats.reshape(n, -1)
    table = np.empty((n, n), dtype=np.int64)
    for g in range(n):
        prod = np.einsum("ij,hjk->hik", mats[g], mats).reshape(n, -1)
        dist = np.max(np.abs(prod[:, None, :] - flat[None, :, :]), axis=2)
        idx = np.argmin(dist, axis=1)
        if np.any(dist[np.arange(n), idx] > tol):
            raise GroupError(f"{name}: the matrices are not closed under multiplication (not a group).")
        table[g] = idx
    return table


def from_matrices(name: str, R, rho=None) -> FiniteGroup:
    """A group from its input matrices (orthogonal, closed under products, ``R[0] = 1``) and an output representation.

    Returns:
        The :class:`FiniteGroup` named ``name`` with input representation ``R (|G|, d, d)``, output representation
        ``rho (|G|, k, k)`` (trivial ``1 x 1`` when ``rho`` is ``None``) and its multiplication table.

    Raises:
        GroupError: wrong shapes, ``R[0]`` not the identity, non-orthogonal or non-closed ``R``, or a ``rho``
            that is not a representation compatible with ``R``.
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 3 or R.shape[1] != R.shape[2] or R.shape[0] < 1:
        raise GroupError(f"{name}: R must have shape (|G|, d, d), got {R.shape}.")
    d = R.shape[1]
    if np.max(np.abs(R[0] - np.eye(d))) > 1e-12:
        raise GroupError(f"{name}: R[0] must be the identity.")
    orth = np.max(np.abs(np.einsum("gji,gjk->gik", R, R) - np.eye(d)))
    if orth > 1e-12:
        raise GroupError(f"{name}: every R(g) must be orthogonal (max |R^T R - 1| = {orth:.2g}).")
    table = _table(R, name)
    rho = np.broadcast_to(np.eye(1), (R.shape[0], 1, 1)).copy() if rho is None else np.asarray(rho, dtype=np.float64)
    if rho.ndim != 3 or rho.shape[0] != R.shape[0] or rho.shape[1] != rho.shape[2]:
        raise GroupError(f"{name}: rho must have shape ({R.shape[0]}, k, k), got {rho.shape}.")
    hom = np.max(np.abs(np.einsum("gij,hjk->ghik", rho, rho) - rho[table]))
    if hom > 1e-12:
        raise GroupError(f"{name}: rho is not a representation compatible with R (max |rho(g)rho(h) - rho(gh)| = {hom:.2g}).")
    return FiniteGroup(name, R, rho, table)


def _perm_matrices(perms: list[np.ndarray]) -> np.ndarray:
    d = len(perms[0])
    out = np.zeros((len(perms), d, d))
    for g, p in enumerate(perms):
        out[g, np.arange(d), p] = 1.0  # (R x)_i = x_{p(i)}
    return out


def _grid_index(height: int, width: int, channels: int) -> np.ndarray:
    for nm, v in (("height", height), ("width", width), ("channels", channels)):
        check_int(v, nm, lo=1, where="image group", error=GroupError)
    return np.arange(height * width * channels).reshape(height, width, channels)


def image_rotations(height: int, width: int, n: int = 4, channels: int = 1, *, output_rep=None) -> FiniteGroup:
    """Rotations ``C_n`` of ``(height, width, channels)`` images (flattened row-major) about their centre.

    Only ``n`` in {1, 2, 4} map a square pixel grid onto itself (``n = 4`` needs ``height == width``);
    other angles move pixel centres off the grid and raise :class:`GroupError`.

    Returns:
        A :class:`FiniteGroup` of ``n`` pixel permutations (element ``k``: rotation by ``k * 360/n`` degrees,
        ``np.rot90`` convention), acting on inputs of dimension ``height * width * channels``; output
        representation ``output_rep`` (default trivial).
    """
    idx = _grid_index(height, width, channels)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n not in (1, 2, 4):
        raise GroupError(
            f"image_rotations: a rotation by 360/n degrees (n = {n!r}) is not a symmetry of the pixel grid; "
            "only n in {1, 2, 4} (multiples of 90 degrees) map pixels onto pixels."
        )
    if n == 4 and height != width:
        raise GroupError(f"image_rotations: a rotation by 90 degrees maps a {height}x{width} grid onto a {width}x{height} one; n = 4 needs a square image.")
    step = 4 // n
    perms = [np.rot90(idx, k=k * step, axes=(0, 1)).ravel() for k in range(n)]
    return from_matrices(f"C{n} rotations of {height}x{width} images", _perm_matrices(perms), output_rep)


def image_reflections(height: int, width: int, channels: int = 1) -> FiniteGroup:
    """The reflection ``x -> -x`` of the horizontal pixel coordinate (left-right flip), as ``Z_2``.

    Returns:
        A :class:`FiniteGroup` of order 2 (identity, left-right flip) of pixel permutations on inputs of
        dimension ``height * width * channels``, with trivial output representation.
    """
    idx = _grid_index(height, width, channels)
    perms = [idx.ravel(), idx[:, ::-1].ravel()]
    return from_matrices(f"left-right reflections of {height}x{width} images", _perm_matrices(perms))


def image_dihedral(height: int, channels: int = 1) -> FiniteGroup:
    """The dihedral group ``D_4`` (rotations by 90 degrees and reflections) of square images.

    Returns:
        A :class:`FiniteGroup` of order 8 (elements 0-3 the rotations, 4-7 the rotations after a left-right
        flip) of pixel permutations on inputs of dimension ``height**2 * channels``, trivial output representation.
    """
    idx = _grid_index(height, height, channels)
    perms = []
    for flip in (False, True):
        base = idx[:, ::-1] if flip else idx
        perms += [np.rot90(base, k=k, axes=(0, 1)).ravel() for k in range(4)]
    return from_matrices(f"D4 of {height}x{height} images", _perm_matrices(perms))


def point_rotations(n: int, n_points: int, *, equivariant_output: bool = False) -> FiniteGroup:
    r"""Rotations ``C_n`` of sets of ``n_points`` points in the plane (inputs flattened ``(n_points, 2)``).

    With ``equivariant_output`` the output is a plane vector rotated along (``rho(g) = R_2(2 pi g/n)``).

    Returns:
        A :class:`FiniteGroup` of order ``n`` (element ``g``: rotation by ``2 pi g/n`` of every point) on inputs of
        dimension ``2 * n_points``; output representation the ``2 x 2`` rotations or trivial.
    """
    for nm, v in (("n", n), ("n_points", n_points)):
        check_int(v, nm, lo=1, where="point_rotations", error=GroupError)
    R2 = []
    for k in range(n):
        # exact values where they exist, so that products close to round-off
        c, s = _cos_sin(k, n)
        R2.append(np.array([[c, -s], [s, c]]))
    R = np.stack([np.kron(np.eye(n_points), r) for r in R2])
    rho = np.stack(R2) if equivariant_output else None
    return from_matrices(f"C{n} rotations of {n_points} plane points", R, rho)


def _cos_sin(k: int, n: int) -> tuple[float, float]:
    a = 2 * np.pi * k / n
    if (4 * k) % n == 0:
        q = (4 * k) // n % 4
        return [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)][q]
    return float(np.cos(a)), float(np.sin(a))


def item_permutations(n_items: int, item_dim: int = 1, *, cyclic: bool = False) -> FiniteGroup:
    """The symmetric group ``S_k`` (or the cyclic shifts ``C_k``) permuting ``n_items`` items of ``item_dim`` features.

    Returns:
        A :class:`FiniteGroup` of order ``n_items!`` (or ``n_items`` when ``cyclic``) of permutations of the items
        of inputs of dimension ``n_items * item_dim``, with trivial output representation.
    """
    check_int(n_items, "n_items", lo=1, where="item_permutations", error=GroupError)
    if not cyclic and n_items > 7:
        raise GroupError(f"item_permutations: S_{n_items} has {factorial(n_items)} elements; use cyclic=True or n_items <= 7.")
    idx = np.arange(n_items * item_dim).reshape(n_items, item_dim)
    orders = [np.roll(np.arange(n_items), k) for k in range(n_items)] if cyclic else [np.array(p) for p in _perms(range(n_items))]
    perms = [idx[p].ravel() for p in orders]
    return from_matrices(f"{'C' if cyclic else 'S'}{n_items} permutations of {n_items} items", _perm_matrices(perms))
