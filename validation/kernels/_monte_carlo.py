r"""Monte Carlo NNGP and NTK of finite-width MLPs from per-layer contractions, at matmul speed.

Networks are the PDLT MLPs of :mod:`nntheory.validation._networks` with ``depth = L`` layers, the read-out
included, as :class:`~nntheory.numerics.MLPKernel`: widths ``(n_0, n, ..., n, out_dim)``,
:math:`W^{(l)} \sim \mathcal N(0, C_W/n_{l-1})`, :math:`b^{(l)} \sim \mathcal N(0, C_b)`. Per network:

* NNGP: the conditional kernel of the read-out,
  :math:`\hat G_{ab} = C_b + \frac{C_W}{n_{L-1}}\sigma^{(L-1)}_a\!\cdot\sigma^{(L-1)}_b` (the exact covariance of
  :math:`z^{(L)}` given the last hidden layer; ``x·x'/n_0`` scaled the same way when ``L = 1``). Its mean over
  networks is :math:`E[z^{(L)}_{i;a} z^{(L)}_{i;b}]`, the quantity neural-tangents' ``monte_carlo_kernel_fn``
  averages as :math:`f(x_a) f(x_b)`, with :math:`O(1/n)` instead of :math:`O(1)` variance per network;
* NTK: the empirical NTK of the read-out neurons, averaged over them,
  :math:`\hat\Theta_{ab} = \frac1{n_L}\sum_i\sum_l\big[\lambda_b\,\delta^{(l)}_{i;a}\!\cdot\delta^{(l)}_{i;b}
  + \frac{\lambda_W}{n_{l-1}}(\delta^{(l)}_{i;a}\!\cdot\delta^{(l)}_{i;b})(\sigma^{(l-1)}_a\!\cdot\sigma^{(l-1)}_b)\big]`
  with :math:`\delta^{(l)}_{i;a} = \partial z^{(L)}_{i;a}/\partial z^{(l)}_a` by one backward pass
  (``out_dim * m`` vectors of width ``n`` per layer: no parameter Jacobians, no neuron x neuron tensors).
  This is PDLT's :math:`\Theta^{(L)}_{ii;ab}` (README: learning-rate factors ``lambda_b``, ``lambda_W/n_{l-1}``).

Sampling (``method="projected"``, the default) draws only what the m inputs can see. Given the layer input
:math:`h = R^T Q^T` (thin QR, ``Q`` of ``m`` orthonormal columns), :math:`W = WQQ^T + W(1 - QQ^T)` splits into
independent Gaussian parts: :math:`WQ = \sqrt{C_W/n}\,\Xi` (``n x m`` normals) gives the forward pass
:math:`z = hW^T + b = \sqrt{C_W/n}\,R^T\Xi^T + b` exactly, and the backward product with the rest,
:math:`\delta W(1 - QQ^T)`, is matrix-normal with row covariance :math:`\delta\delta^T`: with :math:`\delta^T = Q'R'`
it is :math:`\sqrt{C_W/n}\,R'^T H (1 - QQ^T)` for fresh normals ``H``. The joint law of all preactivations and
backward vectors, hence of the kernels, is exactly that of explicit weights, from ``O(n m)`` instead of ``n^2``
normals per layer (random numbers dominate the cost of explicit weights on CPUs). A layer is projected only when
that draws fewer numbers; ``method="weights"`` draws every weight (one normal block per layer and chunk of
networks) and is the reference: :func:`network_kernels` computes the same contraction for given weights.

Accuracy. Means and standard errors over networks are accumulated in float64 (chunks merged exactly).
``dtype="float32"`` runs the networks in single precision: its rounding scale is taken as
:math:`\epsilon_{32} = (L + 1)\,n_{\max}\,2^{-24}` relative (a worst-case dot-product bound summed over layers),
and the result is refused (``SpecError``) unless :math:`\epsilon_{32}|\text{value}| \le` its standard error for
every entry, so float32 round-off stays below one standard error; otherwise use float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation._networks import activation_fns, mlp_forward

__all__ = ["MonteCarloKernels", "monte_carlo_kernels"]

_METHODS = ("projected", "weights")
_DTYPES = ("float64", "float32")
_CHUNK_BYTES = 256 * 2**20  # working memory per compiled chunk of networks


@dataclass(frozen=True)
class MonteCarloKernels:
    """Monte Carlo NNGP and NTK of finite-width MLPs: means over networks and their standard errors.

    ``nngp``, ``nngp_se``, ``ntk``, ``ntk_se`` are float64 ``(m, m)`` arrays (see the module docstring for the
    per-network estimators); ``n_nets`` networks of ``depth`` layers, hidden width ``width``, run in ``dtype``
    with ``method``.
    """

    nngp: np.ndarray
    nngp_se: np.ndarray
    ntk: np.ndarray
    ntk_se: np.ndarray
    n_nets: int
    depth: int
    width: int
    dtype: str
    method: str


def network_kernels(params: Sequence[tuple[jax.Array, jax.Array]], inputs: jax.Array, sig: Callable, dsig: Callable, *,
                    lambda_W: float = 1.0, lambda_b: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """Empirical NNGP and NTK of one MLP with given PDLT weights, by per-layer contractions.

    Args:
        params: ``[(W, b), ...]`` as :func:`~nntheory.validation._networks.pdlt_mlp_params`, ``W (n_l, n_{l-1})``.
        inputs: ``(m, n_0)`` inputs.
        sig, dsig: the activation and its derivative (elementwise).
        lambda_W, lambda_b: the NTK learning-rate factors (weights get ``lambda_W / n_{l-1}``).

    Returns:
        ``(nngp, ntk)``, ``(m, m)`` each: ``z^(L) z^(L)^T / n_L`` and the NTK of the read-out neurons averaged over them.
    """
    zs, hs = mlp_forward(params, inputs, sig)
    out, m = zs[-1].shape[1], inputs.shape[0]
    delta = jnp.broadcast_to(jnp.eye(out, dtype=zs[-1].dtype)[:, None, :], (out, m, out))
    ntk = jnp.zeros((m, m), zs[-1].dtype)
    for l in range(len(params) - 1, -1, -1):
        ntk = ntk + _layer_term(delta, hs[l], lambda_W, lambda_b)
        if l > 0:
            delta = (delta @ params[l][0]) * dsig(zs[l - 1])[None]
    return zs[-1] @ zs[-1].T / out, ntk / out


def _layer_term(delta, h, lambda_W, lambda_b):
    """lambda_b D + lambda_W / n_{l-1} D * (h h^T), D_ab = sum_i delta_{i;a} . delta_{i;b}."""
    D = jnp.einsum("ian,ibn->ab", delta, delta)
    return D * (lambda_b + lambda_W / h.shape[1] * (h @ h.T))


@dataclass(frozen=True)
class _Plan:
    """Static description of the sampled networks (hashable: a jit-compiled function per plan)."""

    sizes: tuple[int, ...]
    C_W: float
    C_b: float
    lambda_W: float
    lambda_b: float
    projected: tuple[bool, ...]  # per layer: draw W Q and the backward product instead of W


def _plan(sizes, m, C_W, C_b, lambda_W, lambda_b, method) -> _Plan:
    proj = []
    out = sizes[-1]
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        back = out * m * n_in if l > 1 else 0  # the backward product needs min(out m, n_l) x n_{l-1} normals
        proj.append(method == "projected" and m < n_in and n_out * m + back < n_out * n_in)
    return _Plan(tuple(sizes), C_W, C_b, lambda_W, lambda_b, tuple(proj))


def _one_network(key, X, plan: _Plan, sig, dsig):
    """(G_hat, Theta_hat) of one network drawn from ``key`` (module docstring)."""
    L, m, dt = len(plan.sizes) - 1, X.shape[0], X.dtype
    keys = jax.random.split(key, 3 * L)
    h, hs, zs, saved = X, [X], [], []
    for l in range(L):
        n_in, n_out = plan.sizes[l], plan.sizes[l + 1]
        s = math.sqrt(plan.C_W / n_in)
        b = math.sqrt(plan.C_b) * jax.random.normal(keys[3 * l + 1], (n_out,), dt)
        if plan.projected[l]:
            Q, R = _thin_qr(h.T)  # h = R^T Q^T
            Xi = jax.random.normal(keys[3 * l], (n_out, m), dt)
            z = s * (R.T @ Xi.T) + b
            saved.append((Q, Xi))
        else:
            W = s * jax.random.normal(keys[3 * l], (n_out, n_in), dt)
            z = h @ W.T + b
            saved.append(W)
        zs.append(z)
        if l < L - 1:
            h = sig(z)
            hs.append(h)
    G = plan.C_b + plan.C_W / hs[-1].shape[1] * (hs[-1] @ hs[-1].T)
    return G, _backward(keys, hs, zs, saved, plan, dsig)


def _backward(keys, hs, zs, saved, plan: _Plan, dsig):
    L, out, m = len(plan.sizes) - 1, plan.sizes[-1], hs[0].shape[0]
    dt = hs[0].dtype
    delta = jnp.broadcast_to(jnp.eye(out, dtype=dt)[:, None, :], (out, m, out)).reshape(out * m, out)
    ntk = jnp.zeros((m, m), dt)
    for l in range(L - 1, -1, -1):
        ntk = ntk + _layer_term(delta.reshape(out, m, -1), hs[l], plan.lambda_W, plan.lambda_b)
        if l == 0:
            break
        if plan.projected[l]:
            back = _projected_back(delta, saved[l], keys[3 * l + 2], math.sqrt(plan.C_W / plan.sizes[l]))
        else:
            back = delta @ saved[l]
        delta = (back.reshape(out, m, -1) * dsig(zs[l - 1])[None]).reshape(out * m, -1)
    return ntk / out


def _projected_back(delta, saved, key, s):
    """delta W for W = s Xi Q^T + W (1 - Q Q^T), the second part drawn given delta (module docstring)."""
    Q, Xi = saved
    Qd, Rd = _thin_qr(delta.T)  # delta = Rd^T Qd^T
    H = jax.random.normal(key, (Rd.shape[0], Q.shape[0]), delta.dtype)
    return s * ((delta @ Xi - Rd.T @ (H @ Q)) @ Q.T + Rd.T @ H)


def _thin_qr(A):
    """Householder thin QR of a tall ``(n, k)`` matrix, ``k <= n``: ``A = Q R``, ``Q`` with orthonormal columns.

    Plain array operations in a ``k``-step loop (no LAPACK custom call: it batches under ``vmap`` on every backend,
    and rank deficiency is harmless: an exactly zero sub-column gives the identity reflector).
    """
    n, k = A.shape
    if k > n:
        raise SpecError(f"_thin_qr: needs a tall matrix, got shape {A.shape}.")
    rows = jnp.arange(n)

    def step(j, carry):
        A, V, beta = carry
        v = jnp.where(rows >= j, A[:, j], 0)
        norm = jnp.sqrt(v @ v)
        alpha = -jnp.where(A[j, j] < 0, -1.0, 1.0).astype(A.dtype) * norm
        v = v - alpha * (rows == j)
        vv = v @ v
        b = jnp.where(vv > 0, 2 / jnp.where(vv > 0, vv, 1), 0)
        A = A - (b * v)[:, None] * (v @ A)[None, :]
        return A, V.at[:, j].set(v), beta.at[j].set(b)

    A, V, beta = jax.lax.fori_loop(0, k, step, (A, jnp.zeros_like(A), jnp.zeros((k,), A.dtype)))

    def back(i, Q):
        j = k - 1 - i
        return Q - (beta[j] * V[:, j])[:, None] * (V[:, j] @ Q)[None, :]

    Q = jax.lax.fori_loop(0, k, back, jnp.eye(n, k, dtype=A.dtype))
    return Q, jnp.triu(A[:k])


def _merge(acc, x):
    """Chan's exact merge of (count, mean, M2) with a chunk of per-network values (float64)."""
    x = np.asarray(x, np.float64)
    nb, mb = x.shape[0], x.mean(0)
    m2b = ((x - mb) ** 2).sum(0)
    if acc is None:
        return nb, mb, m2b
    na, ma, m2a = acc
    n = na + nb
    d = mb - ma
    return n, ma + d * nb / n, m2a + m2b + d * d * na * nb / n


def _chunk_size(plan: _Plan, m, itemsize, n_nets, chunk):
    """Networks per chunk (default: about ``_CHUNK_BYTES``) and the working bytes of one network."""
    sizes, out = plan.sizes, plan.sizes[-1]
    weights = sum(3 * m * (a + b) if p else a * b for a, b, p in zip(sizes, sizes[1:], plan.projected))
    per_net = itemsize * (weights + len(sizes) * (6 * out * m + 4 * m) * max(sizes))
    if chunk is None:
        chunk = max(1, min(n_nets, _CHUNK_BYTES // per_net))
    return chunk, per_net


def monte_carlo_kernels(
    activation: Activation,
    inputs,
    *,
    depth: int,
    width: int,
    C_W: float,
    C_b: float,
    key: jax.Array,
    n_nets: int,
    lambda_W: float = 1.0,
    lambda_b: float = 1.0,
    out_dim: int = 1,
    dtype: str = "float64",
    method: str = "projected",
    chunk: int | None = None,
) -> MonteCarloKernels:
    """Mean NNGP and NTK of ``n_nets`` random finite-width MLPs, with standard errors (module docstring).

    Args:
        activation: the activation.
        inputs: ``(m, n_0)`` finite inputs.
        depth: number of layers ``L >= 1``, the read-out included (as :class:`~nntheory.numerics.MLPKernel`).
        width: hidden width ``n >= 1`` (``depth - 1`` hidden layers).
        C_W, C_b: PDLT initialisation variances (``C_W > 0``, ``C_b >= 0``).
        key: JAX random key (its implementation, e.g. ``jax.random.key(0, impl="rbg")``, is the generator);
            network ``i`` uses ``jax.random.split(key, n_nets)[i]``.
        n_nets: number of networks (``>= 2``).
        lambda_W, lambda_b: NTK learning-rate factors (``>= 0``).
        out_dim: read-out width; the kernels are averaged over its neurons.
        dtype: ``"float64"`` (needs ``jax_enable_x64``) or ``"float32"`` (refused when its round-off could reach
            one standard error).
        method: ``"projected"`` (default, exact in law, fewer random numbers) or ``"weights"`` (explicit weights).
        chunk: networks per compiled batch (default: about 256 MB of working memory).

    Returns:
        :class:`MonteCarloKernels`.

    Raises:
        SpecError: bad arguments, float64 without x64, or float32 whose round-off is not below the standard error.
    """
    where = "monte_carlo_kernels"
    X = _check_inputs(inputs, where)
    depth = check_int(depth, "depth", lo=1, where=where)
    width = check_int(width, "width", lo=1, where=where)
    out_dim = check_int(out_dim, "out_dim", lo=1, where=where)
    n_nets = check_int(n_nets, "n_nets", lo=2, where=where)
    C_W = check_real(C_W, "C_W", lo=0, lo_open=True, where=where)
    C_b, lambda_W, lambda_b = (check_real(v, k, lo=0, where=where) for v, k in
                               ((C_b, "C_b"), (lambda_W, "lambda_W"), (lambda_b, "lambda_b")))
    if method not in _METHODS:
        raise SpecError(f"{where}: method must be one of {_METHODS}, got {method!r}.")
    if dtype not in _DTYPES:
        raise SpecError(f"{where}: dtype must be one of {_DTYPES}, got {dtype!r}.")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise SpecError(f"{where}: dtype='float64' needs jax.config.update('jax_enable_x64', True) first "
                        "(or pass dtype='float32').")
    m = X.shape[0]
    sizes = (X.shape[1],) + (width,) * (depth - 1) + (out_dim,)
    plan = _plan(sizes, m, C_W, C_b, lambda_W, lambda_b, method)
    jdt = jnp.dtype(dtype)
    chunk, per_net = _chunk_size(plan, m, jdt.itemsize, n_nets, chunk)
    check_int(chunk, "chunk", lo=1, where=where)
    if chunk * per_net > 8 * 2**30:
        raise SpecError(f"{where}: a chunk of {chunk} networks needs about {chunk * per_net / 2**30:.1f} GB; "
                        "pass a smaller chunk (or fewer inputs / a smaller width).")
    run = _compiled(plan, activation, m)
    Xd = jnp.asarray(X, jdt)
    keys = jax.random.split(key, n_nets)
    chunk = -(-n_nets // -(-n_nets // chunk))  # as many chunks, of balanced sizes (<= chunk)
    accG = accT = None
    for start in range(0, n_nets, chunk):
        kc = keys[start:start + chunk]
        k = kc.shape[0]
        if k < chunk:  # pad the last chunk (its extra networks are dropped): one compiled shape
            kc = jnp.concatenate([kc, keys[: chunk - k]])
        G, T = run(kc, Xd)
        accG, accT = _merge(accG, np.asarray(G)[:k]), _merge(accT, np.asarray(T)[:k])
    return _result(accG, accT, plan, width, dtype, method, where)


_CACHE: dict = {}


def _compiled(plan: _Plan, activation: Activation, m: int):
    """jit(vmap(_one_network)) for a plan (cached: repeated calls do not recompile)."""
    k = (plan, activation, m)
    if k not in _CACHE:
        sig, dsig = activation_fns(activation)
        _CACHE[k] = jax.jit(jax.vmap(lambda kk, X: _one_network(kk, X, plan, sig, dsig), in_axes=(0, None)))
    return _CACHE[k]


def _check_inputs(inputs, where):
    X = np.asarray(inputs, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise SpecError(f"{where}: inputs must be a non-empty (n_inputs, n_0) array, got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise SpecError(f"{where}: inputs must be finite.")
    return X


def _result(accG, accT, plan: _Plan, width, dtype, method, where) -> MonteCarloKernels:
    N = accG[0]
    vals = []
    for _, mean, m2 in (accG, accT):
        se = np.sqrt(m2 / (N - 1) / N)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(se))):
            raise SpecError(f"{where}: non-finite kernels ({dtype}); the activation overflowed at this depth/scale.")
        vals += [mean, se]
    if dtype == "float32":
        eps = (len(plan.sizes)) * max(plan.sizes) * 2.0**-24
        worst = max(float(np.max(eps * np.abs(v) - s)) for v, s in ((vals[0], vals[1]), (vals[2], vals[3])))
        if worst > 0:
            raise SpecError(f"{where}: float32 round-off (relative scale {eps:.2g}) could exceed the standard error "
                            f"of {N} networks; pass dtype='float64'.")
    return MonteCarloKernels(*vals, n_nets=N, depth=len(plan.sizes) - 1, width=width, dtype=dtype, method=method)
