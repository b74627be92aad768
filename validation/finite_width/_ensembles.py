r"""Monte Carlo ensembles of real fully connected networks at initialization (PDLT conventions).

For each network we record, at every layer :math:`l`, per-network summaries from which every
statistic is estimated with standard errors over independent networks:

* ``S2[a, b]``: :math:`\frac1n\sum_i z_{i;a} z_{i;b}` (estimates :math:`K + K^{\{1\}}/n`);
* ``C4[p, q]``: cross-neuron :math:`\frac{1}{n(n-1)}\sum_{i\ne j} z_{i;p} z_{j;q}` for input pairs
  :math:`p, q` (:math:`z_{i;p} = z_{i;a}z_{i;b}`), from which :math:`V` comes (``i != j``; the
  single-neuron fourth cumulant is a different object, :math:`3V/n`);
* ``M4[a]``: :math:`\frac1n\sum_i z_{i;a}^4` (single-neuron kurtosis);
* ``G[a, b]``: the stochastic kernel of the layer,
  :math:`\hat G_{ab} = C_b + \frac{C_W}{n_{l-1}} \sigma(z^{(l-1)}_a)\cdot\sigma(z^{(l-1)}_b)`, the
  exact conditional covariance of its preactivations: its cumulants over networks are the
  kernel cumulants ``S(m, k)`` of :mod:`nntheory.diagrams` (no neuron sampling noise);
* ``NTK[a, b]``: the empirical NTK :math:`\hat\Theta_{ii;ab}` averaged over a few neurons :math:`i`,
  from exact backpropagated Jacobian contractions
  :math:`\sum_k [\lambda_b\,\delta^{(k)}_a\!\cdot\delta^{(k)}_b + \frac{\lambda_W}{n_{k-1}}
  (\delta^{(k)}_a\!\cdot\delta^{(k)}_b)(\sigma^{(k-1)}_a\!\cdot\sigma^{(k-1)}_b)]`.

Networks are sampled in chunks (memory stays bounded), vmapped within a chunk; with several devices
the chunk is sharded over them (``jax.sharding``), which is how ensembles scale past one device.

Random numbers. Network ``i`` is keyed by ``jax.random.split(key, n_nets)[i]``. The explicit sampler draws
its weights with ``jax.random.normal`` under that key (threefry by default). The projected (default) sampler
draws float64 normals from Philox-4x32-10 bits (Random123, through ``jax.random`` with ``impl="philox4x32"``,
keyed by 64 bits of the network's key) and a Box-Muller transform with 52-bit uniforms
(:class:`_Normals`): the same Gaussian law up to its far tail (radii stop at ``sqrt(-2 log 2^-52) = 8.5``: a
normal pair beyond it has probability ``2^-52``, 2e-16 per pair), about 2x faster to draw on CPU.
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation._networks import activation_fns, mlp_forward, pdlt_mlp_params

__all__ = ["EnsembleSpec", "EnsembleSummaries", "activation_fns", "sample_ensemble"]


@dataclass(frozen=True)
class EnsembleSpec:
    """What to sample: ``depth`` layers of width ``width`` (all layers, including the last).

    ``depth`` is the PDLT number of layers :math:`L` (preactivations :math:`z^{(1)}..z^{(L)}`), as in
    :class:`~nntheory.numerics.MLPKernel`. Networks are the PDLT MLPs of :mod:`nntheory.validation._networks`
    (``W ~ N(0, C_W/n_{l-1})``, ``b ~ N(0, C_b)``); ``lambda_W``, ``lambda_b`` are the NTK learning-rate factors
    and ``ntk_neurons`` the neurons the empirical NTK averages over (0 skips it).

    Raises:
        SpecError: non-integer or too small ``depth``/``width``, ``C_W <= 0`` or ``C_b < 0``.
    """

    activation: Activation
    depth: int
    width: int
    C_W: float
    C_b: float
    lambda_W: float = 1.0
    lambda_b: float = 1.0
    ntk_neurons: int = 4  # 0 skips the NTK (cheaper when only kernel statistics are needed)

    def __post_init__(self) -> None:
        check_int(self.depth, "depth", lo=1, where="EnsembleSpec")
        check_int(self.width, "width", lo=2, where="EnsembleSpec")
        check_int(self.ntk_neurons, "ntk_neurons", lo=0, where="EnsembleSpec")
        check_real(self.C_W, "C_W", lo=0, lo_open=True, where="EnsembleSpec")
        check_real(self.C_b, "C_b", lo=0, where="EnsembleSpec")


@dataclass(frozen=True)
class EnsembleSummaries:
    """Per-network summaries, leading axis = network: ``S2 (N,L,m,m)``, ``C4 (N,L,P,P)``, ``M4 (N,L,m)``,
    ``NTK (N,L,m,m)``, ``G (N,L,m,m)``; ``pairs`` lists the input pairs ``p = (a <= b)``. ``C4`` is ``None`` when
    :func:`sample_ensemble` ran with ``four_point=False``."""

    spec: EnsembleSpec
    inputs: np.ndarray
    S2: np.ndarray
    C4: np.ndarray | None
    M4: np.ndarray
    NTK: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    G: np.ndarray | None = None

    @property
    def n_nets(self) -> int:
        """The number of networks."""
        return self.S2.shape[0]


def _one_network(key, X, spec: EnsembleSpec, sig, dsig, pairs, four_point=True):
    n, L = spec.width, spec.depth
    m, n0 = X.shape
    params = pdlt_mlp_params(key, (n0,) + (n,) * L, spec.C_W, spec.C_b, X.dtype)
    zs, acts = mlp_forward(params, X, sig)
    Ws = [W for W, _ in params]
    Gs = [spec.C_b + spec.C_W / h.shape[1] * (h @ h.T) for h in acts[:L]]
    NTK = [_ntk_diag(l, Ws, zs, acts, dsig, spec) if spec.ntk_neurons else jnp.zeros((m, m), X.dtype) for l in range(L)]
    return (*_layer_summaries(zs, pairs, four_point), jnp.stack(NTK), jnp.stack(Gs))


def _layer_summaries(zs, pairs, four_point: bool):
    """``S2, C4, M4`` of every layer's preactivations ``zs[l]`` ``(m, n)`` (see the module docstring)."""
    n = zs[0].shape[1]
    pa, pb = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    S2, C4, M4 = [], [], []
    for zl in zs:
        S2.append(zl @ zl.T / n)
        if four_point:
            A = zl[pa] * zl[pb]  # (P, n)
            s = A.sum(1)
            C4.append((s[:, None] * s[None, :] - A @ A.T) / (n * (n - 1)))
        M4.append(jnp.mean(zl**4, axis=1))
    C4 = jnp.stack(C4) if four_point else jnp.zeros((len(zs), 0, 0), zs[0].dtype)
    return jnp.stack(S2), C4, jnp.stack(M4)


def _ntk_diag(l, Ws, zs, acts, dsig, spec):
    """Mean over neurons i < ntk_neurons of Theta_hat_{ii;ab} at layer l (0-based), by backprop."""
    k = spec.ntk_neurons
    n = spec.width
    m = zs[l].shape[0]
    delta = jnp.broadcast_to(jnp.eye(n, dtype=zs[l].dtype)[:k][:, None, :], (k, m, n))  # (k, m, n)
    total = jnp.zeros((k, m, m), zs[l].dtype)
    for layer in range(l, -1, -1):
        dd = jnp.einsum("kan,kbn->kab", delta, delta)
        aa = acts[layer] @ acts[layer].T  # activations feeding this layer (x for the first)
        total = total + spec.lambda_b * dd + spec.lambda_W / acts[layer].shape[1] * dd * aa
        if layer > 0:
            delta = jnp.einsum("kan,nj->kaj", delta, Ws[layer]) * dsig(zs[layer - 1])[None]
    return total.mean(0)


def _psd_factor(M):
    """``T`` with ``T T^T = M`` for a symmetric positive semi-definite ``M`` (round-off negatives clipped)."""
    lam, U = jnp.linalg.eigh(M)
    return U * jnp.sqrt(jnp.clip(lam, 0.0, None))[None, :]


def _gram_factor(M):
    """Lower ``T`` with ``T T^T = M + eps tr(M) I / R`` (``eps = 1e-14``) for a Gram matrix ``M``, by
    Cholesky: ~30x cheaper than :func:`_psd_factor` at ``R ~ 70``; the shift, which keeps singular
    Grams (linear layers, equal rows, all-zero rows) factorable, changes the drawn covariance by ``1e-14`` relative."""
    R = M.shape[0]
    shift = 1e-14 * jnp.diagonal(M).sum() / R + jnp.finfo(M.dtype).tiny  # tiny: an all-zero Gram (dead ReLU rows) gives T ~ 0
    return jnp.linalg.cholesky(M + shift * jnp.eye(R, dtype=M.dtype))


def _pinv_psd(G):
    """Pseudo-inverse of a small symmetric PSD matrix (eigenvalues below ``10 m eps max`` dropped)."""
    lam, U = jnp.linalg.eigh(G)
    keep = lam > lam[-1] * G.shape[0] * jnp.finfo(G.dtype).eps * 10
    inv = jnp.where(keep, 1.0 / jnp.where(keep, lam, 1.0), 0.0)
    return (U * inv[None, :]) @ U.T


def _far_projected(R: int, n: int, k: int) -> bool:
    """Whether the far rows' matrix normal is drawn through the Gram factor (``2 R < n - k``) or explicitly."""
    return 2 * R < n - k


_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # fdlibm's split of log(2)


def _log_unit(u):
    """``log(u)`` for float64 ``u`` in ``(0, 1]``: exponent split, then ``2 atanh(s)``, ``s = (m-1)/(m+1)``,
    ``|s| <= 0.1716``, to the ``s^21`` term (truncation < 3e-17 relative); measured within 2.2 ulp of numpy."""
    b = jax.lax.bitcast_convert_type(u, jnp.uint64)
    e = (b >> 52).astype(jnp.int64) - 1023
    m = jax.lax.bitcast_convert_type((b & jnp.uint64(0x000FFFFFFFFFFFFF)) | jnp.uint64(0x3FF0000000000000), jnp.float64)
    big = m > np.sqrt(2.0)
    m = jnp.where(big, 0.5 * m, m)
    ef = (e + big).astype(jnp.float64)
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = 2.0 / 21
    for j in range(9, -1, -1):
        p = p * s2 + 2.0 / (2 * j + 1)
    return ef * _LN2_HI + (s * p + ef * _LN2_LO)


def _cos_2pi(v):
    """``cos(2 pi v)`` for float64 ``v`` in ``[-1, 1]``: ``-sin(2 pi w)``, ``w = |v - round(v)| - 1/4`` in
    ``[-1/4, 1/4]`` (exact), Taylor to ``x^21`` (truncation < 1e-18); measured within 7e-16 of numpy."""
    w = jnp.abs(v - jnp.round(v)) - 0.25
    x = w * (2 * np.pi)
    x2 = x * x
    p = -1.0 / math.factorial(21)
    for j in range(9, -1, -1):
        p = p * x2 + (-1) ** j / math.factorial(2 * j + 1)
    return -x * p


def _box_muller(bits):
    """float64 standard normals from ``bits (2, ...)`` uint64, by Box-Muller: ``sqrt(-2 log u1) (cos, sin)(2 pi u2)``
    with 52-bit uniforms ``u1`` in ``(0, 1]`` (radii up to 8.5) and ``u2`` in ``[0, 1)``; same shape as ``bits``.

    The transcendentals are :func:`_log_unit` and :func:`_cos_2pi` (within 2.2 ulp and 7e-16 of numpy): XLA's
    CPU ``log`` and ``cos`` take 3x and 10x longer, and its ``erf_inv`` (what ``jax.random.normal`` uses) makes
    the whole draw about 1.6x slower."""
    one = jnp.uint64(0x3FF0000000000000)
    u1 = 2.0 - jax.lax.bitcast_convert_type((bits[0] >> 12) | one, jnp.float64)  # (0, 1]
    u2 = jax.lax.bitcast_convert_type((bits[1] >> 12) | one, jnp.float64) - 1.0  # [0, 1)
    r = jnp.sqrt(-2.0 * _log_unit(u1))
    shift = jnp.array([0.0, 0.25]).reshape((2,) + (1,) * u2.ndim)  # cos(2 pi (u - 1/4)) = sin(2 pi u)
    return r[None] * _cos_2pi(u2[None] - shift)


class _Normals:
    """Standard normals for one network, one block per call of :meth:`take`.

    Bits: Philox-4x32-10 (Salmon et al. 2011, Random123; ``jax.random`` with ``impl="philox4x32"``),
    counter-based like JAX's default threefry (vmapped and sharded draws stay per-network) and about 3x
    faster on CPU; keyed by 64 bits drawn from the network's key, block ``j`` by ``fold_in(key, j)``.
    Normals: float64 by :func:`_box_muller` (the two normals of a pair fill the two halves of the block's
    leading axis, so the block needs no reshuffling), other dtypes by ``jax.random.normal``.
    Together about 2x faster on CPU than ``jax.random.normal`` with threefry keys (benchmarks/ensembles.py).
    """

    def __init__(self, key, dtype):
        self.key = jax.random.wrap_key_data(jax.random.bits(key, (2,), jnp.uint32), impl="philox4x32")
        self.dtype = dtype
        self.blocks = 0

    def take(self, shape) -> jax.Array:
        """A new block of i.i.d. standard normals of ``shape`` (at least 1-d)."""
        key = jax.random.fold_in(self.key, self.blocks)
        self.blocks += 1
        if self.dtype != jnp.float64:
            return jax.random.normal(key, shape, self.dtype)
        a, rest = shape[0], tuple(shape[1:])
        half = (a + 1) // 2
        z = _box_muller(jax.random.bits(key, (2, half) + rest, jnp.uint64))
        return z.reshape((2 * half,) + rest)[:a]


def _one_network_projected(key, X, spec: EnsembleSpec, sig, dsig, pairs, four_point=True):
    r""":func:`_one_network` with the same law and without drawing the weight matrices.

    Forward: given layer ``l``, the rows of :math:`z^{(l+1)}` are i.i.d. :math:`\mathcal N(0, \hat G)` with the
    layer's stochastic kernel :math:`\hat G = C_b + \tfrac{C_W}{n} \sigma\sigma^T` (``m x m``), so
    :math:`z^{(l+1)} = S \xi` with :math:`S S^T = \hat G` and ``n x m`` normals: exact, not an approximation.

    NTK: the backpropagated rows :math:`\delta W` need the weights *given* the preactivations they produced.
    Row ``i`` of :math:`\tilde W = (b, W)` with prior :math:`\mathcal N(0, C)`, ``C = diag(C_b, C_W/n)``, given
    :math:`\tilde W_i \tilde A = z_i` (:math:`\tilde A = (1; \sigma)`), is
    :math:`z_i^T \hat G^+ \tilde A^T C + \xi_i^T P`, :math:`P = I - \tilde A \hat G^+ \tilde A^T C`,
    :math:`\xi_i \sim \mathcal N(0, C)`. The rows ``i < k`` where backprop starts are drawn so; for a stack ``D``
    of ``R`` backpropagated rows (every start layer above, every input) the rows ``i >= k`` enter only through
    :math:`D_{\ge k} \Xi_{\ge k}`, a matrix normal with row covariance :math:`D_{\ge k} D_{\ge k}^T`, drawn as
    :math:`T \Psi` (:math:`T T^T = D_{\ge k} D_{\ge k}^T`, ``R x (n + 1)`` normals) while ``R < (n - k) / 2``, else
    explicitly. Layers are conditionally independent given the preactivations, so this is the exact law.
    """
    n, L = spec.width, spec.depth
    m, n0 = X.shape
    dt = X.dtype
    xi = _Normals(key, dt)
    acts, zs, Gs = [X], [], []
    for l in range(L):
        h = acts[l]
        G = spec.C_b + spec.C_W / h.shape[1] * (h @ h.T)
        zl = _psd_factor(G) @ xi.take((m, n))
        Gs.append(G)
        zs.append(zl)
        acts.append(sig(zl))
    NTK = _ntk_projected(xi, acts, zs, Gs, dsig, spec) if spec.ntk_neurons else jnp.zeros((L, m, m), dt)
    return (*_layer_summaries(zs, pairs, four_point), NTK, jnp.stack(Gs))


def _ntk_projected(xi, acts, zs, Gs, dsig, spec: EnsembleSpec):
    r"""Mean over neurons ``i < k`` of the empirical NTK at every layer, by one backward sweep of all start
    layers at once through conditionally drawn weights (see :func:`_one_network_projected`).

    Rows started at layer ``l`` are the unit vectors :math:`e_i`, so their product with :math:`\tilde W` is the
    conditionally drawn row :math:`\tilde W_i` itself and their contraction :math:`\delta\cdot\delta` is 1: they
    are never stored as rows. The constraint projection :math:`v P = v - (v \tilde A) \hat G^+ \tilde A^T C` is
    applied to the mean and the noise together, ``(z-part - noise A~) M1 + noise`` with ``M1 = G^+ A~^T C``."""
    n, L, k = spec.width, spec.depth, spec.ntk_neurons
    m = zs[0].shape[0]
    dt = zs[0].dtype
    tot = [None] * L  # per start layer: sum over the k neurons of Theta_ii, (m, m)
    old = None  # (R, n): rows backpropagated to the output of the current layer, start layers L-1 .. l+1
    for l in range(L - 1, -1, -1):
        h = acts[l]
        n_in = h.shape[1]
        hh = h @ h.T
        tot[l] = k * (spec.lambda_b + spec.lambda_W / n_in * hh)  # the rows started here: delta . delta = 1
        if old is not None:
            blocks = old.shape[0] // (k * m)  # start layers L-1 .. l+1
            Dr = old.reshape(blocks, k, m, n)
            if m <= 4:  # sum_i delta_ia . delta_ib per block as a fused multiply-reduce (tiny batched dots are slow)
                dd = (Dr[:, :, :, None, :] * Dr[:, :, None, :, :]).sum(axis=(1, 4))
            else:
                dd = jnp.einsum("sian,sibn->sab", Dr, Dr)
            contrib = spec.lambda_b * dd + spec.lambda_W / n_in * dd * hh[None]
            for j in range(blocks):
                tot[L - 1 - j] = tot[L - 1 - j] + contrib[j]
        if l == 0:
            break
        At = jnp.concatenate([jnp.ones((m, 1), dt), h], axis=1)  # (m, n_in + 1): A~^T
        cvec = jnp.concatenate([jnp.full((1,), spec.C_b, dt), jnp.full((n_in,), spec.C_W / n_in, dt)])
        M1 = _pinv_psd(Gs[l]) @ (At * cvec[None, :])  # (m, n_in + 1)
        zl = zs[l]
        Xi_k = xi.take((k, n_in + 1)) * jnp.sqrt(cvec)[None, :]
        Wk = (zl[:, :k].T - Xi_k @ At.T) @ M1 + Xi_k  # rows i < k of W~ given z: (k, n_in + 1)
        dsig_prev = dsig(zs[l - 1])  # (m, n_in)
        new = (Wk[:, None, 1:] * dsig_prev[None]).reshape(k * m, n_in)
        if old is None:
            old = new
            continue
        R = old.shape[0]
        rest = old[:, k:]
        if _far_projected(R, n, k):
            Psi = xi.take((R, n_in + 1)) * jnp.sqrt(cvec)[None, :]
            far = _gram_factor(rest @ rest.T) @ Psi
        else:
            far = rest @ (xi.take((n - k, n_in + 1)) * jnp.sqrt(cvec)[None, :])
        DW = old[:, :k] @ Wk + (rest @ zl[:, k:].T - far @ At.T) @ M1 + far  # (R, n_in + 1)
        nxt = (DW[:, 1:].reshape(R // m, m, n_in) * dsig_prev[None]).reshape(R, n_in)
        old = jnp.concatenate([nxt, new])
    return jnp.stack(tot) / k


@functools.lru_cache(maxsize=32)
def _batched(spec: EnsembleSpec, pairs, four_point: bool, sampler: str):
    """The jitted, vmapped per-network function, built once per spec (later calls skip the compilation)."""
    one = _one_network_projected if sampler == "projected" else _one_network
    sig, dsig = activation_fns(spec.activation)
    return jax.jit(jax.vmap(lambda k, X: one(k, X, spec, sig, dsig, pairs, four_point), in_axes=(0, None)))


def _auto_chunk(spec: EnsembleSpec, n_inputs: int) -> int:
    """Networks per compiled batch so that one layer's backpropagated rows (``ntk_neurons x n_inputs x depth``
    rows of ``width`` floats per network) take about 2.5 MB, a cache's worth; between 8 and 256.

    Args:
        spec: what is sampled.
        n_inputs: the number of inputs ``m``.

    Returns:
        The chunk, an int.
    """
    rows = max(spec.ntk_neurons * n_inputs * spec.depth, n_inputs)
    return int(min(256, max(8, 2_500_000 // (8 * rows * spec.width))))


def sample_ensemble(
    spec: EnsembleSpec,
    inputs: np.ndarray,
    *,
    key: jax.Array,
    n_nets: int,
    chunk: int | None = None,
    progress: bool = False,
    four_point: bool = True,
    sampler: str = "projected",
) -> EnsembleSummaries:
    """Sample ``n_nets`` networks and return their per-network summaries (float64 if x64 is on).

    Args:
        spec: what to sample.
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key; network ``i`` uses ``jax.random.split(key, n_nets)[i]``.
        n_nets: number of networks (``>= 2``).
        chunk: networks per compiled batch; ``None``: :func:`_auto_chunk` (a batch whose backprop rows fit in
            cache: 16-24 networks at width 256 with the NTK, 256 without; measured 1.6x faster than 256).
        progress: report progress on stderr.
        four_point: record the cross-neuron four-point summaries ``C4`` (``P x P`` per layer and network,
            ``P = m (m + 1) / 2`` input pairs); ``False`` skips them (``C4`` is then ``None`` and
            :func:`~nntheory.validation.estimate_statistics` has no ``"V"``), for callers that need kernels only.
        sampler: ``"projected"`` (default): each layer's preactivations drawn from their exact conditional law
            given the layer below (``n x m`` normals), and the weights the NTK backpropagates through drawn
            given those preactivations (see :func:`_one_network_projected`), the same joint law as drawing
            every weight; ``"explicit"``: every weight matrix drawn (``n^2`` normals per layer; a cross-check).
            The two use different generators (see the module docstring): the same law, not the same numbers.

    Returns:
        :class:`EnsembleSummaries`.

    Raises:
        SpecError: inputs not 2-d, ``n_nets < 2``, ``chunk < 1`` or an unknown ``sampler``.
    """
    X = jnp.asarray(inputs)
    if X.ndim != 2:
        raise SpecError(f"sample_ensemble: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    check_int(n_nets, "n_nets", lo=2, where="sample_ensemble")
    if chunk is None:
        chunk = _auto_chunk(spec, X.shape[0])
    check_int(chunk, "chunk", lo=1, where="sample_ensemble")
    if sampler not in ("projected", "explicit"):
        raise SpecError(f"sample_ensemble: sampler must be 'projected' or 'explicit', got {sampler!r}.")
    m = X.shape[0]
    pairs = tuple((a, b) for a in range(m) for b in range(a, m))
    compiled = _batched(spec, pairs, four_point, sampler)
    batched = lambda keys: compiled(keys, X)  # noqa: E731
    devices = jax.devices()
    sharding = None
    if len(devices) > 1 and chunk % len(devices) == 0:
        mesh = jax.sharding.Mesh(np.array(devices), ("nets",))
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("nets"))
    keys = jax.random.split(key, n_nets)
    parts, pending = [], None
    for start in range(0, n_nets, chunk):
        kc = keys[start : start + chunk]
        if sharding is not None and kc.shape[0] == chunk:
            kc = jax.device_put(kc, sharding)
        out = batched(kc)  # dispatched asynchronously: the previous chunk is copied while this one runs
        if pending is not None:
            parts.append(jax.tree_util.tree_map(np.asarray, pending))
        pending = out
        if progress:
            done = min(start + chunk, n_nets)
            print(f"\r  {spec.activation.name} n={spec.width}: {done}/{n_nets} networks", end="", file=sys.stderr, flush=True)
    parts.append(jax.tree_util.tree_map(np.asarray, pending))
    if progress:
        print(file=sys.stderr)
    S2, C4, M4, NTK, G = (np.concatenate([p[i] for p in parts]) for i in range(5))
    return EnsembleSummaries(spec, np.asarray(inputs), S2, C4 if four_point else None, M4, NTK, pairs, G)
