r"""Infinite-width NNGP and NTK kernels of MLPs, for many inputs at once.

The layer map of the two-input ``{K, Theta}`` recursion (see :mod:`nntheory.theory.finite_width._recursions`) acts
entry by entry on kernel matrices:

.. math::
    K'_{ab} = C_b + C_W\,\langle\sigma_a\sigma_b\rangle_K, \qquad
    \Theta'_{ab} = \lambda_b + \lambda_W\,\langle\sigma_a\sigma_b\rangle_K
        + C_W\,\langle\sigma'_a\sigma'_b\rangle_K\,\Theta_{ab},

where each expectation only needs :math:`K_{aa}, K_{ab}, K_{bb}`. The two dual functions
:math:`(K_{aa}, K_{ab}, K_{bb}) \mapsto (\langle\sigma\sigma\rangle, \langle\sigma'\sigma'\rangle)` and
their diagonal versions are taken from the symbolic recursion and compiled through the one seam
(:func:`~nntheory.numerics.compile_expr`): closed forms for ReLU-like (arc-cosine), erf (arcsine) and
polynomial activations, Gaussian quadrature otherwise (tanh, GELU, ...).

Parameterisation (PDLT, the default): ``depth`` counts the preactivation layers :math:`z^{(1)}..z^{(L)}`
(``depth = 1`` is the linear model); :math:`K^{(1)} = C_b + C_W X`, :math:`\Theta^{(1)} = \lambda_b +
\lambda_W X`, :math:`X_{ab} = x_a\cdot x_b/n_0`. The NTK is that of gradient descent with per-layer
learning rates :math:`\lambda_W/n_{l-1}` (weights) and :math:`\lambda_b` (biases) on
:math:`W \sim \mathcal N(0, C_W/n_{l-1})`, i.e. PDLT eq. (8.12).

neural-tangents' ``stax.serial(Dense(W_std, b_std), act, ..., Dense(1, W_std, b_std))`` in its
default NTK parameterisation (:math:`z = \tfrac{\sigma_W}{\sqrt{n}} W x + \sigma_b b`,
:math:`W, b \sim \mathcal N(0, 1)` trained with a common learning rate) with ``depth`` nonlinearities
is the PDLT network with ``depth + 1`` layers, :math:`C_W = \lambda_W = \sigma_W^2` and
:math:`C_b = \lambda_b = \sigma_b^2` (:meth:`MLPKernel.neural_tangents`). Its first layer uses
:math:`x\cdot x'/n_0` too, so the inputs enter identically.

Accuracy: closed-form activations agree with the independent arc-cosine / arcsine formulas to
round-off (tests assert 1e-12 relative). Quadrature activations (tanh, GELU, SiLU, ...) under the default
rule run layer by layer over chunks of input pairs (:mod:`nntheory.numerics.kernels._graded`): exact GELU
by closed forms, other smooth activations by Mehler's series with a stated remainder in layers whose
variances are at most 6 (the graded two-dimensional rule otherwise): 1e-10
relative or better (measured ~1e-14 per expectation) for variances in [1e-30, 1e12] and every correlation,
memory bounded at any number of inputs; a kernel leaving that range is refused naming the layer. With
an explicit ``QuadratureConfig("panels")`` or ``.hermite(q)`` the fixed-window rules of
:mod:`nntheory.numerics._quadrature` apply (variances up to 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import sympy

from nntheory._checks import check_int
from nntheory.errors import KernelError, SpecError
from nntheory.numerics._compile import compile_expr
from nntheory.numerics._quadrature import QuadratureConfig
from nntheory.numerics.kernels._graded import check_result_size, graded_kernels
from nntheory.theory._activations import Activation, activation as _activation
from nntheory.theory._gaussian import GaussianExpectation, kernel_symbols

__all__ = ["Kernels", "MLPKernel", "dual_functions"]


@dataclass(frozen=True)
class DualFunctions:
    """Compiled ``<σσ>`` and ``<σ'σ'>`` of one activation, elementwise on arrays."""

    diag: Callable  # K_aa -> (<σ_a²>, <σ'_a²>)
    cross: Callable  # (K_aa, K_ab, K_bb) -> (<σ_aσ_b>, <σ'_aσ'_b>)
    exact: bool  # closed forms (no quadrature)


@lru_cache(maxsize=32)
def dual_functions(act: Activation, quadrature: QuadratureConfig = QuadratureConfig()) -> DualFunctions:
    """The elementwise dual functions of ``act``, compiled once per activation and quadrature.

    Returns:
        :class:`DualFunctions`: ``cross(K_aa, K_ab, K_bb)`` and ``diag(K_aa)``, each returning the pair
        ``(<σσ>, <σ'σ'>)`` elementwise, and ``exact`` (closed forms, no quadrature).
    """
    from nntheory.theory.finite_width._recursions import _two_point

    K2 = kernel_symbols(2, "K")
    K1 = kernel_symbols(1, "K")
    rho = sympy.Symbol("rho", real=True)
    # in the correlation rho = K12/sqrt(K11 K22): clipping rho to [-1, 1] keeps every closed form real
    to_rho = {K2[0, 1]: rho * sympy.sqrt(K2[0, 0]) * sympy.sqrt(K2[1, 1])}
    cross_exprs = [_two_point(act, K2, 0, 1, d).subs(to_rho) for d in (0, 1)]
    diag_exprs = [_two_point(act, K1, 0, 0, 0), _two_point(act, K1, 0, 0, 1)]
    exact = not any(e.has(GaussianExpectation) for e in cross_exprs + diag_exprs)
    cross1 = compile_expr(cross_exprs, [K2[0, 0], rho, K2[1, 1]], quadrature=quadrature)
    diag1 = compile_expr(diag_exprs, [K1[0, 0]], quadrature=quadrature)
    # A correlation within 16 ulp of +-1 is snapped to +-1 (identical inputs reached by different
    # roundings): sqrt(1 - rho^2) would otherwise turn 1 ulp into 1e-8 relative error. Quadrature
    # needs a Cholesky factor, so it stays a few ulp inside.
    eps = np.finfo(np.float64).eps
    edge = 1.0 if exact else 1.0 - 8 * eps

    def cross(k11, k12, k22):
        r = k12 / (jnp.sqrt(k11) * jnp.sqrt(k22))
        r = jnp.where(jnp.abs(r) >= 1 - 16 * eps, jnp.sign(r), r)
        r = jnp.clip(r, -edge, edge)
        shape = jnp.broadcast_shapes(jnp.shape(k11), jnp.shape(r), jnp.shape(k22))
        args = [jnp.broadcast_to(v, shape).ravel() for v in (k11, r, k22)]
        out = jax.vmap(cross1)(*args) if exact else _blocked(cross1, args, (1.0, 0.0, 1.0), _QUAD_BLOCK)
        return out[:, 0].reshape(shape), out[:, 1].reshape(shape)

    def diag(k):
        k = jnp.asarray(k)
        out = jax.vmap(diag1)(k.ravel()) if exact else _blocked(diag1, [k.ravel()], (1.0,), _QUAD_BLOCK)
        return out[:, 0].reshape(k.shape), out[:, 1].reshape(k.shape)

    return DualFunctions(diag, cross, exact)


#: entries per block when dual functions integrate by quadrature: a block's node arrays (about 6 arrays of the
#: 2-d rule's 241 x 401 nodes per entry) stay within 256 MiB, whatever the number of entries (e.g. the
#: spatial covariances of ConvKernel)
_QUAD_BLOCK = max(1, (256 * 1024**2) // (6 * 8 * 241 * 401))


def _blocked(fn, args, pad, block: int):
    """``vmap(fn)(*args)`` over flat ``args`` evaluated ``block`` entries at a time (``lax.map``), so the quadrature
    arrays of one block are all that is alive; the last block is padded with the harmless values ``pad``."""
    n = args[0].shape[0]
    if n <= block:
        return jax.vmap(fn)(*args)
    nb = -(-n // block)
    padded = [jnp.concatenate([a, jnp.full((nb * block - n,), p, a.dtype)]).reshape(nb, block) for a, p in zip(args, pad)]
    out = jax.lax.map(lambda xs: jax.vmap(fn)(*xs), padded)
    return out.reshape(nb * block, *out.shape[2:])[:n]


@dataclass(frozen=True)
class Kernels:
    """NNGP kernel ``nngp`` (:math:`K^{(L)}`) and NTK ``ntk`` (:math:`\\Theta^{(L)}`) between two input sets."""

    nngp: jax.Array
    ntk: jax.Array


def _finite(name: str, value: float, *, positive: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"MLPKernel: {name} must be a real number, got {value!r}.") from None
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise SpecError(f"MLPKernel: {name} must be {'> 0' if positive else '>= 0'} and finite, got {value!r}.")
    return v


@dataclass(frozen=True)
class MLPKernel:
    """Infinite-width kernels of a deep MLP (PDLT parameterisation; see the module docstring).

    ``depth`` is the number of layers ``L`` with weights, the read-out included (``depth = 1`` is the linear
    model); ``W ~ N(0, C_W / n_{l-1})``, ``b ~ N(0, C_b)``, learning rates ``lambda_W / n_{l-1}`` and
    ``lambda_b``. :meth:`neural_tangents` takes neural-tangents' ``W_std``, ``b_std`` and number of nonlinearities.

    Example:
        >>> import numpy as np
        >>> k = MLPKernel("relu", depth=3, C_W=2.0, C_b=0.0)
        >>> out = k(np.eye(2) * np.sqrt(2))       # two orthogonal inputs with |x|^2/n_0 = 1
        >>> np.round(np.asarray(out.nngp), 6).tolist()  # critical ReLU keeps K = C_W X on the diagonal
        [[2.0, 0.65...], [0.65..., 2.0]]
    """

    activation: Activation | str
    depth: int
    C_W: float
    C_b: float = 0.0
    lambda_W: float = 1.0
    lambda_b: float = 1.0
    quadrature: QuadratureConfig = field(default=QuadratureConfig(), compare=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", _activation(self.activation))
        object.__setattr__(self, "depth", check_int(self.depth, "depth", lo=1, where="MLPKernel (number of layers)"))
        object.__setattr__(self, "C_W", _finite("C_W", self.C_W, positive=True))
        for name in ("C_b", "lambda_W", "lambda_b"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))

    @classmethod
    def neural_tangents(cls, activation, *, W_std: float, b_std: float, depth: int, **kw) -> "MLPKernel":
        """neural-tangents' ``serial(Dense, act) * depth + Dense(1)`` in NTK parameterisation.

        ``depth`` counts the nonlinearities (``depth >= 0``); the returned PDLT kernel has ``depth + 1`` layers,
        ``C_W = lambda_W = W_std**2`` and ``C_b = lambda_b = b_std**2``.
        """
        depth = check_int(depth, "depth", lo=0, where="MLPKernel.neural_tangents (number of nonlinearities)")
        W2 = _finite("W_std", W_std, positive=True) ** 2
        b2 = _finite("b_std", b_std) ** 2
        return cls(activation, int(depth) + 1, W2, b2, W2, b2, **kw)

    def __call__(self, x1, x2=None, *, chunk: int = 1 << 22) -> Kernels:
        """Kernels between the rows of ``x1`` (N1, n_0) and of ``x2`` (N2, n_0; default ``x1``).

        Memory stays bounded: closed-form activations run in row blocks of about ``chunk`` entries;
        quadrature activations (tanh, GELU, ...) layer by layer over chunks of input pairs whose
        quadrature arrays take at most :data:`CHUNK_BYTES`. The ``N1 x N2`` results themselves
        (and a few arrays of their size) are checked against :data:`MAX_RESULT_BYTES` before anything
        is allocated.

        Raises:
            KernelError: inputs that are not finite ``(N, n_0)`` arrays with non-zero rows, different
                ``n_0``, results larger than :data:`MAX_RESULT_BYTES`, or a kernel outside the range
                where quadrature meets its stated accuracy (naming the layer).
        """
        a = _inputs("x1", x1)
        b = a if x2 is None else _inputs("x2", x2)
        if a.shape[1] != b.shape[1]:
            raise KernelError(
                f"MLPKernel: x1 and x2 must have the same input dimension n_0; got x1 with {a.shape[1]} and x2 with {b.shape[1]} columns."
            )
        _check_result_size(a.shape[0], b.shape[0])
        n0 = a.shape[1]
        d1 = jnp.sum(a * a, axis=1) / n0
        d2 = jnp.sum(b * b, axis=1) / n0
        if _graded(self):
            return _check_kernels(_graded_kernels(self, a @ b.T / n0, d1, d2, x2 is None))
        rows = max(1, min(a.shape[0], chunk // max(b.shape[0], 1)))
        nngp, ntk = [], []
        run = _kernel_block(self.activation, self.quadrature)
        hyper = jnp.asarray([self.C_W, self.C_b, self.lambda_W, self.lambda_b])
        for s in range(0, a.shape[0], rows):
            blk = a[s : s + rows]
            pad = rows - blk.shape[0]
            blk_p = jnp.pad(blk, ((0, pad), (0, 0)))
            db = jnp.pad(d1[s : s + rows], (0, pad), constant_values=1.0)
            k, t, k1, t1 = run(blk_p @ b.T / n0, db, d2, hyper, self.depth)
            nngp.append(k[: rows - pad])
            ntk.append(t[: rows - pad])
        K, T = jnp.concatenate(nngp), jnp.concatenate(ntk)
        if x2 is None:  # an input with itself: the single-input recursion, exactly
            _, _, k1, t1 = run(jnp.zeros((a.shape[0], 1)), d1, d1[:1], hyper, self.depth)
            i = jnp.arange(a.shape[0])
            K, T = K.at[i, i].set(k1), T.at[i, i].set(t1)
        return _check_kernels(Kernels(K, T))

    def from_gram(self, gram) -> Kernels:
        """Kernels of ``N`` inputs given their Gram matrix ``X_ab = x_a·x_b/n_0`` (symmetric PSD)."""
        X = jnp.asarray(np.asarray(gram, dtype=np.float64))
        if X.ndim != 2 or X.shape[0] != X.shape[1] or not bool(jnp.all(jnp.isfinite(X))):
            raise KernelError(f"MLPKernel.from_gram: gram must be a finite square matrix, got shape {X.shape}.")
        if not bool(jnp.allclose(X, X.T, rtol=1e-12, atol=0)):
            raise KernelError("MLPKernel.from_gram: gram must be symmetric.")
        ev = np.linalg.eigvalsh(np.asarray(X))
        if ev[0] < -1e-12 * max(abs(ev[-1]), 1e-300):
            raise KernelError(f"MLPKernel.from_gram: gram must be positive semi-definite; smallest eigenvalue {ev[0]:.3g}.")
        if np.any(np.diag(np.asarray(X)) <= 0):
            raise KernelError("MLPKernel.from_gram: every input needs |x|^2 > 0 (a zero input has no direction).")
        d = jnp.diag(X)
        _check_result_size(X.shape[0], X.shape[0])
        if _graded(self):
            return _check_kernels(_graded_kernels(self, X, d, d, True))
        hyper = jnp.asarray([self.C_W, self.C_b, self.lambda_W, self.lambda_b])
        k, t, k1, t1 = _kernel_block(self.activation, self.quadrature)(X, d, d, hyper, self.depth)
        i = jnp.arange(X.shape[0])
        return _check_kernels(Kernels(k.at[i, i].set(k1), t.at[i, i].set(t1)))


def _graded(kern: MLPKernel) -> bool:
    """Quadrature activations under the default rule take the chunked layer-by-layer route."""
    act = kern.activation
    return kern.quadrature.rule == "sinh" and act.is_smooth and not dual_functions(act, kern.quadrature).exact


def _graded_kernels(kern: MLPKernel, X12, d1, d2, symmetric: bool) -> Kernels:
    K, T = graded_kernels(kern, X12, d1, d2, symmetric)
    return Kernels(K, T)


def _check_result_size(n1: int, n2: int) -> None:
    check_result_size(n1, n2)


def _check_kernels(out: Kernels) -> Kernels:
    """No NaN or infinity leaves: an overflow (deep, off-critical networks) is an error."""
    for name, arr in (("NNGP kernel K", out.nngp), ("NTK Theta", out.ntk)):
        if not bool(jnp.all(jnp.isfinite(arr))):
            raise KernelError(
                f"MLPKernel: the {name} is not finite at the last layer (an overflow, or a kernel outside the range "
                "where Gaussian expectations are computed to their stated accuracy); use fewer layers, or C_W, C_b "
                "and inputs that keep the kernel in range."
            )
    return out


def _inputs(name: str, x) -> jax.Array:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.shape[0] == 0:
        raise KernelError(f"MLPKernel: {name} must be a non-empty (N, n_0) array of inputs, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise KernelError(f"MLPKernel: {name} contains NaN or infinite entries.")
    if np.any(np.sum(arr * arr, axis=1) == 0):
        raise KernelError(f"MLPKernel: {name} has an all-zero input row; kernels need |x| > 0 for every input.")
    return jnp.asarray(arr)


@lru_cache(maxsize=32)
def _kernel_block(act: Activation, quadrature: QuadratureConfig):
    """A jitted ``(X12, X11_diag, X22_diag, hyper, depth) -> (K, Theta)``; ``depth`` is dynamic (one compile)."""
    duals = dual_functions(act, quadrature)

    @partial(jax.jit)
    def run(X12, d1, d2, hyper, depth):
        C_W, C_b, lW, lb = hyper
        K12, T12 = C_b + C_W * X12, lb + lW * X12
        K1, T1 = C_b + C_W * d1, lb + lW * d1
        K2, T2 = C_b + C_W * d2, lb + lW * d2

        def layer(_, s):
            K12, T12, K1, T1, K2, T2 = s
            g12, gp12 = duals.cross(K1[:, None], K12, K2[None, :])
            g1, gp1 = duals.diag(K1)
            g2, gp2 = duals.diag(K2)
            return (
                C_b + C_W * g12, lb + lW * g12 + C_W * gp12 * T12,
                C_b + C_W * g1, lb + lW * g1 + C_W * gp1 * T1,
                C_b + C_W * g2, lb + lW * g2 + C_W * gp2 * T2,
            )

        out = jax.lax.fori_loop(0, depth - 1, layer, (K12, T12, K1, T1, K2, T2))
        return out[0], out[1], out[2], out[3]

    return run
