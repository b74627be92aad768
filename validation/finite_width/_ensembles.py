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
    pa, pb = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    S2, C4, M4, NTK = [], [], [], []
    for l in range(L):
        zl = zs[l]
        S2.append(zl @ zl.T / n)
        if four_point:
            A = zl[pa] * zl[pb]  # (P, n)
            s = A.sum(1)
            C4.append((s[:, None] * s[None, :] - A @ A.T) / (n * (n - 1)))
        M4.append(jnp.mean(zl**4, axis=1))
        NTK.append(_ntk_diag(l, Ws, zs, acts, dsig, spec) if spec.ntk_neurons else jnp.zeros((m, m), X.dtype))
    C4 = jnp.stack(C4) if four_point else jnp.zeros((L, 0, 0), X.dtype)
    return jnp.stack(S2), C4, jnp.stack(M4), jnp.stack(NTK), jnp.stack(Gs)


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


def sample_ensemble(
    spec: EnsembleSpec,
    inputs: np.ndarray,
    *,
    key: jax.Array,
    n_nets: int,
    chunk: int = 256,
    progress: bool = False,
    four_point: bool = True,
) -> EnsembleSummaries:
    """Sample ``n_nets`` networks and return their per-network summaries (float64 if x64 is on).

    Args:
        spec: what to sample.
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key; network ``i`` uses ``jax.random.split(key, n_nets)[i]``.
        n_nets: number of networks (``>= 2``).
        chunk: networks per compiled batch.
        progress: report progress on stderr.
        four_point: record the cross-neuron four-point summaries ``C4`` (``P x P`` per layer and network,
            ``P = m (m + 1) / 2`` input pairs); ``False`` skips them (``C4`` is then ``None`` and
            :func:`~nntheory.validation.estimate_statistics` has no ``"V"``), for callers that need kernels only.

    Returns:
        :class:`EnsembleSummaries`.

    Raises:
        SpecError: inputs not 2-d, ``n_nets < 2`` or ``chunk < 1``.
    """
    X = jnp.asarray(inputs)
    if X.ndim != 2:
        raise SpecError(f"sample_ensemble: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    check_int(n_nets, "n_nets", lo=2, where="sample_ensemble")
    check_int(chunk, "chunk", lo=1, where="sample_ensemble")
    m = X.shape[0]
    pairs = tuple((a, b) for a in range(m) for b in range(a, m))
    sig, dsig = activation_fns(spec.activation)
    batched = jax.jit(jax.vmap(lambda k: _one_network(k, X, spec, sig, dsig, pairs, four_point)))
    devices = jax.devices()
    sharding = None
    if len(devices) > 1 and chunk % len(devices) == 0:
        mesh = jax.sharding.Mesh(np.array(devices), ("nets",))
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("nets"))
    keys = jax.random.split(key, n_nets)
    parts = []
    for start in range(0, n_nets, chunk):
        kc = keys[start : start + chunk]
        if sharding is not None and kc.shape[0] == chunk:
            kc = jax.device_put(kc, sharding)
        parts.append(jax.tree_util.tree_map(np.asarray, batched(kc)))
        if progress:
            done = min(start + chunk, n_nets)
            print(f"\r  {spec.activation.name} n={spec.width}: {done}/{n_nets} networks", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    S2, C4, M4, NTK, G = (np.concatenate([p[i] for p in parts]) for i in range(5))
    return EnsembleSummaries(spec, np.asarray(inputs), S2, C4 if four_point else None, M4, NTK, pairs, G)
