"""Hypothesis strategies and assertion helpers for property-based tests of equivariant code.

Import these in your own tests::

    from hypothesis import given
    from nntheory.testing import rotations, assert_equivariant

    @given(rotations())
    def test_my_layer_is_equivariant(R):
        assert_equivariant(my_layer, rep_in=[1, 2], rep_out=[0, 1], rotation=R)

Representations (``rep_in``/``rep_out``) are given as an integer ``l`` (the real irrep of degree
``l`` in nntheory's real basis), a list of them (direct sum, blocks concatenated in order), or a
callable ``rotation -> matrix``. Rotations are :class:`Rotation` Euler angles (ZYZ, active), the
convention of :mod:`nntheory.theory`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np
from hypothesis import strategies as st

from nntheory.errors import SpecError

__all__ = [
    "Rotation",
    "assert_equivariant",
    "coupling_tuples",
    "irreps",
    "representation_matrix",
    "rotations",
    "spins",
]


class Rotation(NamedTuple):
    """Euler angles (ZYZ, active): ``R = R_z(alpha) R_y(beta) R_z(gamma)``."""

    alpha: float
    beta: float
    gamma: float

    def matrix(self) -> np.ndarray:
        """The 3x3 rotation matrix ``R_z(alpha) R_y(beta) R_z(gamma)`` (float64)."""

        def rz(t):
            return np.array([[math.cos(t), -math.sin(t), 0.0], [math.sin(t), math.cos(t), 0.0], [0.0, 0.0, 1.0]])

        def ry(t):
            return np.array([[math.cos(t), 0.0, math.sin(t)], [0.0, 1.0, 0.0], [-math.sin(t), 0.0, math.cos(t)]])

        return rz(self.alpha) @ ry(self.beta) @ rz(self.gamma)


@st.composite
def rotations(draw, *, max_angle: float | None = None) -> Rotation:
    """Haar-distributed rotations (alpha, gamma uniform, cos(beta) uniform).

    ``max_angle``: restrict to rotations near the identity (all three angles within it), useful
    for high-order checks whose conditioning degrades with the angle.
    """
    if max_angle is None:
        alpha = draw(st.floats(0.0, 2 * math.pi, allow_nan=False))
        gamma = draw(st.floats(0.0, 2 * math.pi, allow_nan=False))
        u = draw(st.floats(-1.0, 1.0, allow_nan=False))
        return Rotation(alpha, math.acos(u), gamma)
    a = st.floats(-max_angle, max_angle, allow_nan=False)
    return Rotation(draw(a), abs(draw(a)), draw(a))


def spins(max_j: int | Fraction = 4, *, half_integers: bool = True) -> st.SearchStrategy[Fraction]:
    """Spins ``j`` in ``[0, max_j]`` as :class:`fractions.Fraction` (half-integers if allowed)."""
    top = int(2 * Fraction(max_j))
    step = 1 if half_integers else 2
    return st.sampled_from([Fraction(t, 2) for t in range(0, top + 1, step)])


def irreps(lmax: int = 4) -> st.SearchStrategy[int]:
    """Degrees ``l`` of real SO(3) irreps, ``0..lmax``."""
    return st.integers(0, lmax)


@st.composite
def coupling_tuples(draw, max_j: int | Fraction = 4, *, half_integers: bool = True):
    """Valid ``(j1, m1, j2, m2, J, M)`` (Fractions): triangle rule, ``M = m1 + m2``, ``|m| <= j``,
    ``J`` an allowed coupling; half-integers included unless ``half_integers=False``."""
    j1 = draw(spins(max_j, half_integers=half_integers))
    j2 = draw(spins(max_j, half_integers=half_integers))
    Js = [abs(j1 - j2) + k for k in range(int(j1 + j2 - abs(j1 - j2)) + 1)]
    J = draw(st.sampled_from(Js))
    m1 = draw(st.sampled_from([-j1 + k for k in range(int(2 * j1) + 1)]))
    m2s = [-j2 + k for k in range(int(2 * j2) + 1) if abs(m1 - j2 + k) <= J]
    m2 = draw(st.sampled_from(m2s))
    return j1, m1, j2, m2, J, m1 + m2


_REAL_D = []


def _real_D():
    """The jitted real Wigner D (built on first use, so importing this module stays light)."""
    if not _REAL_D:
        import jax

        from nntheory.numerics import wigner_D_real_matrix

        _REAL_D.append(jax.jit(wigner_D_real_matrix, static_argnums=0))
    return _REAL_D[0]


def representation_matrix(rep, rotation: Rotation) -> np.ndarray:
    """The matrix of ``rep`` (int ``l``, list of ints, or callable) at ``rotation`` (real basis)."""
    if callable(rep):
        return np.asarray(rep(rotation))
    ls = [rep] if isinstance(rep, (int, np.integer)) else list(rep)
    blocks = [np.asarray(_real_D()(int(l), *rotation)) for l in ls]
    n = sum(b.shape[0] for b in blocks)
    out = np.zeros((n, n))
    i = 0
    for b in blocks:
        k = b.shape[0]
        out[i : i + k, i : i + k] = b
        i += k
    return out


def assert_equivariant(f: Callable, rep_in, rep_out, *, rotation: Rotation | None = None, x=None,
                       atol: float = 1e-10, rtol: float = 1e-10, seed: int = 0) -> None:
    """Assert ``f(D_in(R) x) == D_out(R) f(x)`` (to ``atol + rtol |f(x)|``).

    ``x``: an input of shape ``(..., dim_in)``; by default a standard normal batch of 4 drawn with
    ``seed``. ``rotation``: default a Haar-random one drawn with ``seed``.

    Raises:
        AssertionError: with the largest deviation and where it occurred (a test failure, by design).
        SpecError: if ``x`` or ``f(x)`` does not match the dimension of ``rep_in`` / ``rep_out``.
    """
    rng = np.random.default_rng(seed)
    if rotation is None:
        rotation = Rotation(rng.uniform(0, 2 * math.pi), math.acos(rng.uniform(-1, 1)), rng.uniform(0, 2 * math.pi))
    Din = representation_matrix(rep_in, rotation)
    Dout = representation_matrix(rep_out, rotation)
    if x is None:
        x = rng.standard_normal((4, Din.shape[0]))
    x = np.asarray(x)
    if x.shape[-1] != Din.shape[0]:
        raise SpecError(f"assert_equivariant: x has last dimension {x.shape[-1]}, rep_in has dimension {Din.shape[0]}")
    lhs = np.asarray(f(x @ Din.T))
    fx = np.asarray(f(x))
    if fx.shape[-1] != Dout.shape[0]:
        raise SpecError(f"assert_equivariant: f(x) has last dimension {fx.shape[-1]}, rep_out has dimension {Dout.shape[0]}")
    rhs = fx @ Dout.T
    err = np.abs(lhs - rhs)
    tol = atol + rtol * np.abs(rhs)
    if not np.all(err <= tol):
        k = np.unravel_index(np.argmax(err - tol), err.shape)
        raise AssertionError(
            f"not equivariant: |f(D_in x) - D_out f(x)| = {err[k]:.3e} > tolerance {tol[k]:.3e} at index {k} "
            f"for rotation {tuple(round(a, 6) for a in rotation)}"
        )
