r"""The ensemble-mean prediction of a finite-width network after ``T`` steps of gradient descent, to order ``1/n``.

Setting (PDLT ch. 11 and ∞; learning-rate factors as in :mod:`nntheory.theory.finite_width._ntk`): an MLP of depth
``L`` with hidden widths ``n`` and ``n_out`` outputs, trained by full-batch gradient descent
``theta <- theta - eta Lambda grad L`` on ``L = 1/2 sum_{j, alpha} (z_{j;alpha} - y_{j;alpha})^2`` over the training
inputs ``alpha``; the prediction is read at every input (training and test) after ``T`` steps. The mean is over
initialisations; the targets are fixed.

**Dynamics at order 1/n.** Flatten ``I = (neuron i, input a)``; ``eps_K = z_K - y_K`` on training entries, 0 elsewhere;
``g_I = Lambda grad z_I``; ``S_{IJK} = d^2 z_I[g_J, g_K]`` (the second-derivative piece of the dNTK),
``ddI_{IJKL} = d^3 z_I[g_J, g_K, g_L]``, ``ddII_{IJKL} = d^2 z_I[g_K, Lambda d^2 z_J[g_L]]`` (PDLT's ddNTKs, the
definitions of :mod:`nntheory.theory.finite_width._ntk`). With ``delta = -eta sum_K g_K eps_K`` the Taylor expansion of
one step is exactly (each line to the order that matters at ``1/n``; fourth derivatives and products of two dNTKs are
``O(1/n^2)``)::

    z'_I      = z_I - eta H_IK eps_K + eta^2/2 S_IKL eps_K eps_L - eta^3/6 ddI_IKLM eps_K eps_L eps_M
    H'_IJ     = H_IJ - eta (S_IJK + S_JIK) eps_K + eta^2 [ddI_IJKL/2 + ddI_JIKL/2 + ddII_IJKL] eps_K eps_L
    S'_IJK    = S_IJK - eta (ddI_IJKL + ddII_IJKL + ddII_IKJL) eps_L
    ddI, ddII   constant

(sums over repeated indices). Call ``F(z0, H0, S0, ddI, ddII)`` the prediction ``z_T`` of this map.

**The mean.** At initialisation (``t = 1/n``, ``n = n_{L-1}``; the tensors at layer ``L`` from
:func:`~nntheory.theory.finite_width._ntk.ntk_recursion`): ``z0`` is Gaussian with covariance ``d_ij K_ab`` (``K1`` and
``V`` enter only at ``O(t^2)`` here); ``E[H] = d_ij (Theta + t Theta1)``; ``Cov(H, H) = t (A, B)``; ``E[S z] = t (P, Q)``;
``E[ddI] = t R``, ``E[ddII] = t (S, T, U)``; ``E[S] = 0`` and every odd moment vanish by the sign symmetry of each
output neuron. Expanding ``F`` about ``(z0, Theta, 0, 0, 0)``: ``F`` is linear in ``z0`` except through the dNTK and
ddNTK, so (nearly-Gaussian linear response, ``E[S g(z)] = sum_J E[S z_J] E[d_J g]``)::

    E[z_T] = F(0; Theta)                                              (m0: kernel regression with Theta, T steps)
           + t [ d/dt F(0; Theta + t Theta1)                          ("Theta1")
               + 1/2 sum Cov1(H_IJ, H_KL) d^2F/dH_IJ dH_KL            ("NTK variance": A, B)
               + sum E1[S_IJK z_L] d^2F/dS_IJK dz0_L                  ("dNTK": P, Q)
               + d/dt (F(0; ddNTK = t E1) + 1/2 sum K_IJ d^2F/dz0_I dz0_J) ]   ("ddNTK": R, S, T, U)
           + O(1/n^2)

with every derivative at ``z0 = 0, H = Theta, S = 0``, computed by JAX automatic differentiation of the map above (no
hand expansion), ``E1``, ``Cov1`` the ``1/n`` coefficients. The first two ``1/n`` parts are the mean of the model
*linearised at initialisation* (its NTK frozen at its random initial value), the last two the effect of the NTK
moving during training; :mod:`nntheory.validation.finite_width._ntk_training` measures them separately.

Accuracy: ``O(1/n^2)`` in the width at fixed ``eta`` and ``T`` (the stated assumptions are PDLT's: connected
correlators beyond those listed are ``O(1/n^2)``); the tensors are computed by the compiled recursions (float64).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.numerics._compile import require_float64

__all__ = ["TrainedMeanPrediction", "trained_mean_prediction"]

#: the parts of the 1/n coefficient, in order
PARTS = ("Theta1", "NTK variance", "dNTK", "ddNTK")
#: flattened output-input size N = n_out * n_inputs above which the expansion is refused: its forward-mode
#: derivatives hold N^2 tangents of the N^3 dNTK state, about 80 N^5 bytes (2.8 GB peak measured at N = 32, 48 s)
MAX_FLAT = 32


@dataclass(frozen=True)
class TrainedMeanPrediction:
    """``E[z_T] = m0 + m1 / n + O(1/n^2)`` at every input; arrays ``(n_inputs, n_out)``.

    Fields:
        m0: the infinite-width mean (``T`` steps of kernel gradient descent with ``Theta``).
        m1: the ``1/n`` coefficient (``n = n_{L-1}``), the sum of ``parts``.
        parts: ``{"Theta1", "NTK variance", "dNTK", "ddNTK"}`` -> ``(n_inputs, n_out)``.
        linearised: ``parts["Theta1"] + parts["NTK variance"]``: the ``1/n`` coefficient of the mean of the model
            linearised at its (random) initialisation.
        moving: ``parts["dNTK"] + parts["ddNTK"]``: the ``1/n`` coefficient of the mean of (trained - linearised).
        eta, steps, n_train: the training settings.
        theta: the infinite-width NTK ``Theta`` on the inputs, ``(n_inputs, n_inputs)``.
    """

    m0: np.ndarray
    m1: np.ndarray
    parts: dict
    linearised: np.ndarray
    moving: np.ndarray
    eta: float
    steps: int
    n_train: int
    theta: np.ndarray


def _dynamics(eta: float, steps: int, y: jax.Array, mask: jax.Array):
    """``F(z0, H0, S0, ddI, ddII) -> z_T`` (flattened ``N``), the order-``1/n`` map of the module docstring
    (``ddI``, ``ddII`` are constants of the loop, closed over rather than carried)."""

    def F(z0, H0, S0, ddI, ddII):
        def step(carry, _):
            z, H, S = carry
            e = (z - y) * mask
            z_new = (z - eta * H @ e + 0.5 * eta**2 * jnp.einsum("IKL,K,L->I", S, e, e)
                     - eta**3 / 6.0 * jnp.einsum("IKLM,K,L,M->I", ddI, e, e, e))
            Se = jnp.einsum("IJK,K->IJ", S, e)
            ddIe = jnp.einsum("IJKL,K,L->IJ", ddI, e, e)
            H_new = H - eta * (Se + Se.T) + eta**2 * (0.5 * (ddIe + ddIe.T) + jnp.einsum("IJKL,K,L->IJ", ddII, e, e))
            ddIIe = jnp.einsum("IJKL,L->IJK", ddII, e)
            S_new = S - eta * (jnp.einsum("IJKL,L->IJK", ddI, e) + ddIIe + ddIIe.transpose(0, 2, 1))
            return (z_new, H_new, S_new), None

        return jax.lax.scan(step, (z0, H0, S0), None, length=steps)[0][0]

    return F


def _structures(s: int, th: dict):
    """The neuron-index structures (flattened ``I = i * m + a``) of the order-``1/n`` moments."""
    d = np.eye(s)
    m = th["Theta"].shape[0]
    N = s * m

    def flat(x, k):
        return x.reshape((N,) * k)

    Hbar = flat(np.einsum("ij,ab->iajb", d, th["Theta"]), 2)
    H1 = flat(np.einsum("ij,ab->iajb", d, th["Theta1"]), 2)
    Kz = flat(np.einsum("ij,ab->iajb", d, th["K"]), 2)
    A, B = th["A"], th["B"]  # A[a1,a2,a3,a4] = A_(a1a2)(a3a4); B[a1,a3,a2,a4]
    cov = (np.einsum("pq,rt,abce->paqbrcte", d, d, A)
           + np.einsum("pr,qt,acbe->paqbrcte", d, d, B)
           + np.einsum("pt,qr,aebc->paqbrcte", d, d, B))
    P, Q = th["P"], th["Q"]  # E[S_{i0i1i2;d0d1d2} z_{i3;d3}] = d01 d23 P_0123 + d02 d13 P_0213 + d03 d12 Q_0123
    csz = (np.einsum("pq,rt,abce->paqbrcte", d, d, P)
           + np.einsum("pr,qt,acbe->paqbrcte", d, d, P)
           + np.einsum("pt,qr,abce->paqbrcte", d, d, Q))
    R = th["R"]  # E[ddI_{i0..i3}] = d01 d23 R_0123 + d02 d13 R_0213 + d03 d12 R_0312
    ddI = (np.einsum("pq,rt,abce->paqbrcte", d, d, R)
           + np.einsum("pr,qt,acbe->paqbrcte", d, d, R)
           + np.einsum("pt,qr,aebc->paqbrcte", d, d, R))
    ddII = (np.einsum("pq,rt,abce->paqbrcte", d, d, th["S"])
            + np.einsum("pr,qt,abce->paqbrcte", d, d, th["T"])
            + np.einsum("pt,qr,abce->paqbrcte", d, d, th["U"]))
    return Hbar, H1, Kz, flat(cov, 4), flat(csz, 4), flat(ddI, 4), flat(ddII, 4)


@lru_cache(maxsize=16)
def _compiled(act, m: int):
    """The compiled NTK-sector recursion with the dNTK and ddNTK for ``m`` inputs (built once per activation)."""
    from nntheory.numerics.finite_width._recursions import compile_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    return compile_recursion(ntk_recursion(act, m, dntk=True, ddntk=True))


@partial(jax.jit, static_argnums=(0, 1))
def _expansion(eta, steps, Hbar, H1, Kz, cov, csz, ddI1, ddII1, y, mask):
    """``m0`` and the four ``1/n`` parts (flattened), by forward-mode automatic differentiation of the Taylor map.

    The quadratic forms are taken along eigenvectors (``1/2 sum Cov . d^2F = 1/2 sum_r w_r D^2F[v_r, v_r]``) and the
    mixed dNTK term along the columns of ``E[S z]``: no Hessian is formed; memory ``O(N^5)`` bytes (``N^2`` tangents of
    the ``N^3`` state).
    """
    F = _dynamics(eta, steps, y, mask)
    N = y.shape[0]
    z0 = jnp.zeros(N, y.dtype)
    S0 = jnp.zeros((N,) * 3, y.dtype)
    D0 = jnp.zeros((N,) * 4, y.dtype)

    def second(f, x, v):  # D^2 f(x)[v, v]
        return jax.jvp(lambda x1: jax.jvp(f, (x1,), (v,))[1], (x,), (v,))[1]

    m0 = F(z0, Hbar, S0, D0, D0)
    theta1 = jax.jvp(lambda t: F(z0, Hbar + t * H1, S0, D0, D0), (0.0,), (1.0,))[1]
    w, V = jnp.linalg.eigh(cov.reshape(N * N, N * N))
    dH2 = jax.vmap(lambda v: second(lambda H: F(z0, H, S0, D0, D0), Hbar, v.reshape(N, N)), in_axes=1)(V)  # (N^2, N)
    variance = 0.5 * w @ dH2

    def mixed(L):  # sum_IJK E1[S_IJK z_L] d^2 F / dS_IJK dz_L
        e = jnp.zeros(N, y.dtype).at[L].set(1.0)
        return jax.jvp(lambda z: jax.jvp(lambda S: F(z, Hbar, S, D0, D0), (S0,), (csz[..., L],))[1], (z0,), (e,))[1]

    dntk = jax.vmap(mixed)(jnp.arange(N)).sum(0)
    wk, U = jnp.linalg.eigh(Kz)

    def with_dd(t):
        def f(z):
            return F(z, Hbar, S0, t * ddI1, t * ddII1)

        dz2 = jax.vmap(lambda u: second(f, z0, u), in_axes=1)(U)  # (N, N)
        return f(z0) + 0.5 * wk @ dz2

    ddntk = jax.jvp(with_dd, (0.0,), (1.0,))[1]
    return m0, theta1, variance, dntk, ddntk


def trained_mean_prediction(act, inputs: np.ndarray, targets: np.ndarray, *, n_train: int, depth: int, n_out: int,
                            C_W: float, C_b: float, eta: float, steps: int, lambda_W: float = 1.0,
                            lambda_b: float = 1.0) -> TrainedMeanPrediction:
    r"""The ensemble-mean prediction after ``steps`` steps of MSE gradient descent, ``m0 + m1/n`` (module docstring).

    Args:
        act: a smooth activation (the dNTK and ddNTK need ``sigma''`` and ``sigma'''``).
        inputs: ``(n_inputs, n_0)``; the first ``n_train`` rows are the training inputs, the rest test inputs.
        targets: ``(n_train, n_out)`` targets.
        n_train: number of training inputs (``1 <= n_train <= n_inputs``).
        depth: layers ``L >= 2`` (``L - 1`` hidden layers of width ``n``, then ``n_out`` outputs).
        n_out: output neurons.
        C_W, C_b: initialisation variances.
        eta: the learning rate (``> 0``).
        steps: gradient-descent steps ``T >= 1``.
        lambda_W, lambda_b: learning-rate factors (``lambda_W / n_{l-1}`` on weights, ``lambda_b`` on biases).

    Returns:
        :class:`TrainedMeanPrediction` (arrays ``(n_inputs, n_out)``).

    Raises:
        SpecError: an argument out of range (named); ``n_out * n_inputs > 32`` (about ``80 N^5`` bytes); float32
            JAX; a non-finite result (``eta`` too large for the kernel: the infinite-width dynamics diverge).

    Example:
        >>> pred = trained_mean_prediction(activation("tanh"), X, Y, n_train=1, depth=3, n_out=2, C_W=1.0, C_b=0.0,
        ...                                eta=0.2, steps=10)   # doctest: +SKIP
        >>> pred.m0 + pred.m1 / 128      # the mean prediction of width-128 networks   # doctest: +SKIP
    """
    where = "trained_mean_prediction"
    require_float64(where)
    check_int(depth, "depth", lo=2, where=where)
    check_int(n_out, "n_out", lo=1, where=where)
    check_int(steps, "steps", lo=1, hi=100_000, where=where)
    check_real(eta, "eta", lo=0, lo_open=True, where=where)
    check_real(C_W, "C_W", lo=0, lo_open=True, where=where)
    check_real(C_b, "C_b", lo=0, where=where)
    check_real(lambda_W, "lambda_W", lo=0, where=where)
    check_real(lambda_b, "lambda_b", lo=0, where=where)
    X = np.asarray(inputs, dtype=float)
    Y = np.asarray(targets, dtype=float)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise SpecError(f"{where}: inputs must be a finite (n_inputs, n_0) array, got shape {X.shape}.")
    m = X.shape[0]
    if X.shape[1] < 1 or m < 1:
        raise SpecError(f"{where}: inputs must have at least one row and one column, got shape {X.shape}.")
    K1 = C_b + C_W * (X @ X.T) / X.shape[1]
    ev = np.linalg.eigvalsh(K1)
    if ev.min() <= 1e-12 * max(ev.max(), 1e-300):
        raise SpecError(f"{where}: inputs: the first-layer kernel C_b + C_W x.x'/n_0 is singular (smallest eigenvalue "
                        f"{ev.min():.3g}): inputs linearly dependent or zero with C_b = 0; use distinct, independent inputs "
                        "or C_b > 0.")
    check_int(n_train, "n_train", lo=1, hi=m, where=where)
    if Y.shape != (n_train, n_out) or not np.all(np.isfinite(Y)):
        raise SpecError(f"{where}: targets must be a finite (n_train, n_out) = {(n_train, n_out)} array, got {Y.shape}.")
    N = n_out * m
    if N > MAX_FLAT:
        raise SpecError(f"{where}: n_out * n_inputs = {N} > {MAX_FLAT}: the expansion needs about 80 N^5 bytes "
                        f"({80 * N**5 / 2**30:.1f} GiB); use fewer outputs or inputs.")
    out = _compiled(act, m)(X @ X.T / X.shape[1], depth=depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W,
                            lambda_b=lambda_b)
    th = {k: np.asarray(v)[-1] for k, v in out.items()}
    y = np.zeros((n_out, m))
    y[:, :n_train] = Y.T
    mask = np.zeros((n_out, m))
    mask[:, :n_train] = 1.0
    m0, *vals = _expansion(float(eta), int(steps), *(jnp.asarray(x) for x in _structures(n_out, th)),
                           jnp.asarray(y.ravel()), jnp.asarray(mask.ravel()))
    parts = {name: np.asarray(v).reshape(n_out, m).T for name, v in zip(PARTS, vals)}
    m0 = np.asarray(m0).reshape(n_out, m).T
    m1 = sum(parts.values())
    if not (np.all(np.isfinite(m0)) and np.all(np.isfinite(m1))):
        raise SpecError(f"{where}: non-finite prediction: eta = {eta} is too large for the kernel (the infinite-width "
                        "dynamics diverge) or the recursion overflowed; lower eta, C_W or the input scale.")
    return TrainedMeanPrediction(m0=m0, m1=m1, parts=parts, linearised=parts["Theta1"] + parts["NTK variance"],
                                 moving=parts["dNTK"] + parts["ddNTK"], eta=float(eta), steps=int(steps),
                                 n_train=int(n_train), theta=th["Theta"])
