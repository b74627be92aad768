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
"""

from __future__ import annotations

import functools
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
    shift = 1e-14 * jnp.trace(M) / R + jnp.finfo(M.dtype).tiny  # tiny: an all-zero Gram (dead ReLU rows) gives T ~ 0
    return jnp.linalg.cholesky(M + shift * jnp.eye(R, dtype=M.dtype))


def _pinv_psd(G):
    """Pseudo-inverse of a small symmetric PSD matrix (eigenvalues below ``10 m eps max`` dropped)."""
    lam, U = jnp.linalg.eigh(G)
    keep = lam > lam[-1] * G.shape[0] * jnp.finfo(G.dtype).eps * 10
    inv = jnp.where(keep, 1.0 / jnp.where(keep, lam, 1.0), 0.0)
    return (U * inv[None, :]) @ U.T


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
    keys = jax.random.split(key, 3 * L)
    acts, zs, Gs = [X], [], []
    for l in range(L):
        h = acts[l]
        G = spec.C_b + spec.C_W / h.shape[1] * (h @ h.T)
        zl = _psd_factor(G) @ jax.random.normal(keys[3 * l], (m, n), dt)
        Gs.append(G)
        zs.append(zl)
        acts.append(sig(zl))
    NTK = _ntk_projected(keys, acts, zs, Gs, dsig, spec) if spec.ntk_neurons else jnp.zeros((L, m, m), dt)
    return (*_layer_summaries(zs, pairs, four_point), NTK, jnp.stack(Gs))


def _ntk_projected(keys, acts, zs, Gs, dsig, spec: EnsembleSpec):
    """Mean over neurons ``i < k`` of the empirical NTK at every layer, by one backward sweep of all start
    layers at once through conditionally drawn weights (see :func:`_one_network_projected`)."""
    n, L, k = spec.width, spec.depth, spec.ntk_neurons
    m = zs[0].shape[0]
    dt = zs[0].dtype
    tot = [None] * L
    old = None  # (R, n): rows backpropagated to the output of the current layer, start layers L-1 .. l+1
    for l in range(L - 1, -1, -1):
        h = acts[l]
        n_in = h.shape[1]
        new = jnp.broadcast_to(jnp.eye(n, dtype=dt)[:k][:, None, :], (k, m, n)).reshape(k * m, n)
        D = new if old is None else jnp.concatenate([old, new])
        blocks = D.shape[0] // (k * m)  # start layers L-1 .. l
        Dr = D.reshape(blocks, k, m, n)
        dd = jnp.einsum("sian,sibn->siab", Dr, Dr)
        contrib = spec.lambda_b * dd + spec.lambda_W / n_in * dd * (h @ h.T)[None, None]
        for j in range(blocks):
            s = L - 1 - j
            tot[s] = contrib[j] if tot[s] is None else tot[s] + contrib[j]
        if l == 0:
            break
        At = jnp.concatenate([jnp.ones((m, 1), dt), h], axis=1)  # (m, n_in + 1): A~^T
        cvec = jnp.concatenate([jnp.full((1,), spec.C_b, dt), jnp.full((n_in,), spec.C_W / n_in, dt)])
        AtC = At * cvec[None, :]
        Gp = _pinv_psd(Gs[l])
        mean = (D @ zs[l].T) @ Gp @ AtC  # (R, n_in + 1)
        kx, kp = keys[3 * l + 1], keys[3 * l + 2]
        Xi_k = jax.random.normal(kx, (k, n_in + 1), dt) * jnp.sqrt(cvec)[None, :]
        noise_new = jnp.broadcast_to(Xi_k[:, None, :], (k, m, n_in + 1)).reshape(k * m, n_in + 1)
        if old is None:
            noise = noise_new
        else:
            R = old.shape[0]
            rest = old[:, k:]
            if 2 * R < n - k:
                Psi = jax.random.normal(kp, (R, n_in + 1), dt) * jnp.sqrt(cvec)[None, :]
                far = _gram_factor(rest @ rest.T) @ Psi
            else:
                far = rest @ (jax.random.normal(kp, (n - k, n_in + 1), dt) * jnp.sqrt(cvec)[None, :])
            noise = jnp.concatenate([old[:, :k] @ Xi_k + far, noise_new])
        noise = noise - ((noise @ At.T) @ Gp) @ AtC  # the constraint's directions projected out
        DW = (mean + noise)[:, 1:]  # drop the bias column: (R, n_in)
        old = (DW.reshape(blocks, k, m, n_in) * dsig(zs[l - 1])[None, None]).reshape(blocks * k * m, n_in)
    return jnp.stack([t.mean(0) for t in tot])


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
