r"""Monte Carlo of the NTK sector: empirical NTK, dNTK and their cross-neuron moments, Gaussian or orthogonal weights.

Networks (PDLT conventions, :mod:`nntheory.validation._networks`): ``z^(1) = b + W x``,
``z^(l+1) = b + W sigma(z^(l))``, ``b ~ N(0, C_b)``, widths ``n_0`` (input dimension), ``n_1 .. n_L``.

* ``init="gaussian"``: ``W^(l) ~ N(0, C_W / n_{l-1})`` (the draws of :func:`pdlt_mlp_params`).
* ``init="orthogonal"``: ``W^(l) = sqrt(C_W) O`` with ``O`` Haar-orthogonal (:func:`haar_orthogonal`: QR of the
  same standard-normal draws with the sign fix ``R_jj > 0``) for every layer ``l >= 2``, which must be square
  (``n_l = n_{l-1}``; the last layer included). The first layer, ``n_1 x n_0``, is **Gaussian**,
  ``W^(1) ~ N(0, C_W / n_0)`` (a Haar matrix on the Stiefel manifold would need ``n_0 <= n_1`` and a
  convention for its scale; the Gaussian first layer needs neither). Non-square layers ``l >= 2`` are refused.

NTK with learning-rate factors ``lambda_b`` on biases and ``lambda_W / n_{l-1}`` on weights (PDLT eq. 8.12):
``H_{ij;ab} = sum_mu lambda_mu dz_{i;a}/dtheta_mu dz_{j;b}/dtheta_mu`` for neurons ``i, j`` of the last layer ``L``,
computed exactly per layer by backpropagating the derivatives of ``neurons`` chosen output neurons only
(``s x s`` blocks, no full Jacobian). The dNTK ``dH_{i0 i1 i2; a0 a1 a2} = sum_mu lambda_mu dz_{i0;a0}/dtheta_mu
dH_{i1 i2; a1 a2}/dtheta_mu`` is the JVP of that block along the lambda-weighted gradient of ``z_{i0;a0}``.

Moments (``n = n_{L-1}``, neurons ``i != k`` of layer ``L``, inputs ``a, b, c, d``; every estimate is an
array ``[a, b]`` or ``[a, b, c, d]``, defined by its moment):

=====================  =====================================================================  =====================
key                    moment                                                                 PDLT
=====================  =====================================================================  =====================
``Theta_mc[a,b]``      ``E[H_{ii;ab}]``                                                       ``Theta + Theta1/n``
``A[a,b,c,d]``         ``n Cov(H_{ii;ab}, H_{kk;cd})``                                        ``A_{(ab)(cd)}``
``B[a,b,c,d]``         ``n E[H_{ik;ab} H_{ik;cd}]`` (``E H_{ik} = 0`` exactly)                ``B_{acbd}``
``D[a,b,c,d]``         ``n Cov(H_{ii;ab}, z_{k;c} z_{k;d})``                                  ``D_{abcd}``
``F[a,b,c,d]``         ``n E[H_{ik;ab} z_{i;c} z_{k;d}]``                                     ``F_{acbd}``
``dNTK_iik_k``         ``n E[dH_{iik;abc} z_{k;d}]``                                          ``P + Q`` (one input)
``dNTK_ikk_i``         ``n E[dH_{ikk;abc} z_{i;d}]``                                          ``2P`` (one input)
``dNTK_iii_i``         ``n E[dH_{iii;abc} z_{i;d}]``                                          ``2(2P + Q)`` (one input)
=====================  =====================================================================  =====================

The dNTK here is the derivative of the NTK along the gradient (PDLT eq. 11.8 style); the ``P, Q`` of
:func:`nntheory.theory.finite_width._ntk.ntk_recursion` are defined instead through the second-derivative piece
``S_{i0i1i2} = sum lambda lambda d^2 z_{i0} dz_{i1} dz_{i2}`` with ``E[S_{i0i1i2} z_{i3}] = (1/n)[d01 d23 P + d02 d13 P
+ d03 d12 Q]``. Since ``dH_{i0i1i2;a0a1a2} = S_{i1i0i2;a1a0a2} + S_{i2i0i1;a2a0a1}`` exactly, the moments measured
here are the combinations of :func:`dntk_moments_from_pq` (the PDLT column: one input); sources split this moment
differently, so the Monte Carlo reports the moments themselves. Standard errors are
delete-one jackknives over networks (:func:`~nntheory.validation._estimators.jackknife`), products of means
are U-statistics over distinct networks, and neuron averages run over all ordered pairs ``i != k`` of the
``neurons`` chosen neurons of each network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.theory import Activation
from nntheory.validation._estimators import Estimate, fit_intercept, jackknife
from nntheory.validation._networks import activation_fns, mlp_forward, pdlt_mlp_params, standard_mlp_params

__all__ = [
    "NTKEnsemble",
    "NTKEnsembleSpec",
    "NTKSweep",
    "dntk_moments_from_pq",
    "haar_orthogonal",
    "ntk_statistics",
    "ntk_width_sweep",
    "orthogonal_mlp_params",
    "sample_ntk_ensemble",
]

_INITS = ("gaussian", "orthogonal")
_MAX_BYTES = 2 * 2**30  # working memory allowed per compiled chunk


@dataclass(frozen=True)
class NTKEnsembleSpec:
    """What to sample: ``depth`` layers of width ``width`` (an int: every layer; a tuple: ``n_1 .. n_L``).

    Args (fields):
        activation: the activation.
        depth: the number of PDLT layers ``L``; statistics are those of layer ``L``.
        width: ``n_1 = .. = n_L`` (int) or the tuple ``(n_1, .., n_L)``.
        C_W, C_b: weight and bias variances.
        lambda_W, lambda_b: NTK learning-rate factors (``lambda_W / n_{l-1}`` on weights).
        init: ``"gaussian"`` or ``"orthogonal"`` (see the module docstring for the first layer).
        neurons: how many neurons of layer ``L`` enter the estimators (``2 <= neurons <= n_L``).
        dntk: also compute the dNTK moments (costs ``neurons`` JVPs per input).

    Raises:
        SpecError: a field out of range, an unknown ``init``, or orthogonal init with a non-square layer ``l >= 2``.
    """

    activation: Activation
    depth: int
    width: int | tuple[int, ...]
    C_W: float
    C_b: float
    lambda_W: float = 1.0
    lambda_b: float = 1.0
    init: str = "gaussian"
    neurons: int = 4
    dntk: bool = True

    def __post_init__(self) -> None:
        where = "NTKEnsembleSpec"
        check_int(self.depth, "depth", lo=1, where=where)
        widths = self.widths
        if len(widths) != self.depth:
            raise SpecError(f"{where}: width: a tuple needs one width per layer (depth={self.depth}), got {len(widths)}.")
        for w in widths:
            check_int(w, "width", lo=2, where=where)
        check_int(self.neurons, "neurons", lo=2, hi=widths[-1], where=where)
        check_real(self.C_W, "C_W", lo=0, lo_open=True, where=where)
        check_real(self.C_b, "C_b", lo=0, where=where)
        check_real(self.lambda_W, "lambda_W", lo=0, where=where)
        check_real(self.lambda_b, "lambda_b", lo=0, where=where)
        if self.init not in _INITS:
            raise SpecError(f"{where}: init must be one of {_INITS}, got {self.init!r}.")
        if self.init == "orthogonal":
            bad = [(l + 1, widths[l - 1], widths[l]) for l in range(1, self.depth) if widths[l] != widths[l - 1]]
            if bad:
                l, a, b = bad[0]
                raise SpecError(f"{where}: init='orthogonal' needs square weights from layer 2 on; layer {l} maps width "
                                f"{a} to {b}. Use equal widths n_1 = .. = n_L or init='gaussian'.")

    @property
    def widths(self) -> tuple[int, ...]:
        """``(n_1, .., n_L)``."""
        return tuple(self.width) if isinstance(self.width, tuple) else (self.width,) * self.depth


@dataclass(frozen=True)
class NTKEnsemble:
    """Per-network neuron-averaged summaries, leading axis = network (``m`` inputs, pairs ``i != k``).

    ``H (N,m,m)``: mean ``H_ii``; ``z2 (N,m,m)``: mean ``z_k z_k``; ``HH``, ``Hik2``, ``Hzz``, ``Hikzz``
    ``(N,m,m,m,m)``: pair means of ``H_ii H_kk``, ``H_ik H_ik``, ``H_ii z_k z_k``, ``H_ik z_i z_k``;
    ``iik_k``, ``ikk_i``, ``iii_i`` ``(N,m,m,m,m)`` the dNTK moments (``None`` without dNTK). ``fan_in`` = ``n_{L-1}``.
    """

    spec: NTKEnsembleSpec
    inputs: np.ndarray
    fan_in: int
    H: np.ndarray
    z2: np.ndarray
    HH: np.ndarray
    Hik2: np.ndarray
    Hzz: np.ndarray
    Hikzz: np.ndarray
    iik_k: np.ndarray | None = None
    ikk_i: np.ndarray | None = None
    iii_i: np.ndarray | None = None

    @property
    def n_nets(self) -> int:
        """The number of networks."""
        return self.H.shape[0]


def haar_orthogonal(G: jax.Array) -> jax.Array:
    """Haar-distributed orthogonal matrices from standard-normal square matrices: ``Q diag(sign R_jj)`` of ``G = QR``.

    Without the sign fix the distribution of ``Q`` depends on the QR implementation and is not Haar.

    Args:
        G: ``(..., n, n)`` i.i.d. standard normal entries.

    Returns:
        ``(..., n, n)`` orthogonal matrices, Haar-distributed when ``G`` is Gaussian.
    """
    Q, R = jnp.linalg.qr(G)
    d = jnp.diagonal(R, axis1=-2, axis2=-1)
    return Q * jnp.where(d < 0, -1.0, 1.0).astype(Q.dtype)[..., None, :]


def orthogonal_mlp_params(key: jax.Array, sizes, C_W: float, C_b: float, dtype=None) -> list[tuple[jax.Array, jax.Array]]:
    """Orthogonal-init parameters from the draws of :func:`standard_mlp_params`: Gaussian first layer, ``sqrt(C_W) O`` after.

    Args:
        key: JAX random key.
        sizes: ``(n_0, n_1, .., n_L)`` with ``n_1 = .. = n_L``.
        C_W, C_b: weight and bias variances.
        dtype: dtype of the draws.

    Returns:
        ``[(W, b), ...]``: ``W^(1) ~ N(0, C_W/n_0)``, ``W^(l) = sqrt(C_W) O`` (Haar) for ``l >= 2``, ``b ~ N(0, C_b)``.

    Raises:
        SpecError: a non-square layer ``l >= 2``.
    """
    draws = standard_mlp_params(key, sizes, dtype)
    for l, (G, _) in enumerate(draws[1:], start=2):
        if G.shape[0] != G.shape[1]:
            raise SpecError(f"orthogonal_mlp_params: sizes: layer {l} is {G.shape[0]}x{G.shape[1]}, not square; "
                            f"orthogonal init needs n_1 = .. = n_L.")
    W1 = draws[0][0] * jnp.sqrt(C_W / draws[0][0].shape[1])
    # one batched QR for all hidden layers: several concurrent QR custom calls in one vmapped program were seen
    # to deadlock XLA's CPU runtime (jax 0.10, batches of ~150+ networks)
    Os = jnp.sqrt(C_W) * haar_orthogonal(jnp.stack([G for G, _ in draws[1:]])) if len(draws) > 1 else []
    Ws = [W1] + [Os[l] for l in range(len(draws) - 1)]
    return [(W, b * jnp.sqrt(C_b)) for W, (_, b) in zip(Ws, draws)]


def _ntk_block(params, X, sig, dsig, spec: NTKEnsembleSpec):
    """``H_{ik;ab}`` for the first ``s`` neurons of layer L, ``(s, s, m, m)``, and their preactivations ``(s, m)``."""
    s = spec.neurons
    zs, hs = mlp_forward(params, X, sig)
    m, nL = zs[-1].shape
    delta = jnp.broadcast_to(jnp.eye(nL, dtype=X.dtype)[:s][:, None, :], (s, m, nL))
    total = jnp.zeros((s, s, m, m), X.dtype)
    for layer in range(len(params) - 1, -1, -1):
        dd = jnp.einsum("ian,kbn->ikab", delta, delta)
        aa = hs[layer] @ hs[layer].T
        total = total + spec.lambda_b * dd + spec.lambda_W / hs[layer].shape[1] * dd * aa
        if layer > 0:
            delta = jnp.einsum("ian,nj->iaj", delta, params[layer][0]) * dsig(zs[layer - 1])[None]
    return total, zs[-1][:, :s].T


def _dntk_block(params, X, sig, dsig, spec: NTKEnsembleSpec):
    """``dH[i0, i1, i2, a0, a1, a2]`` of the first ``s`` neurons: one JVP of the NTK block per ``(i0, a0)``."""
    s, m = spec.neurons, X.shape[0]

    def zout(p):
        return mlp_forward(p, X, sig)[0][-1][:, :s]  # (m, s)

    _, vjp = jax.vjp(zout, params)
    _, jvp = jax.linearize(lambda p: _ntk_block(p, X, sig, dsig, spec)[0], params)

    def one(idx):
        ct = jax.nn.one_hot(idx, m * s, dtype=X.dtype).reshape(m, s)
        (g,) = vjp(ct)
        tangent = [(spec.lambda_W / W.shape[1] * gW, spec.lambda_b * gb) for (W, _), (gW, gb) in zip(params, g)]
        return jvp(tangent)  # (s, s, m, m)

    d = jax.lax.map(one, jnp.arange(m * s))  # index = a0 * s + i0
    return d.reshape(m, s, s, s, m, m).transpose(1, 2, 3, 0, 4, 5)  # (i0, i1, i2, a0, a1, a2)


def _summaries(key, X, spec: NTKEnsembleSpec, sig, dsig):
    sizes = (X.shape[1],) + spec.widths
    if spec.init == "gaussian":
        params = pdlt_mlp_params(key, sizes, spec.C_W, spec.C_b, X.dtype)
    else:
        params = orthogonal_mlp_params(key, sizes, spec.C_W, spec.C_b, X.dtype)
    H, z = _ntk_block(params, X, sig, dsig, spec)
    s = spec.neurons
    off = 1.0 - jnp.eye(s, dtype=X.dtype)
    npair = s * (s - 1)
    Hd = jnp.einsum("iiab->iab", H)
    zz = jnp.einsum("ic,id->icd", z, z)
    out = dict(
        H=Hd.mean(0),
        z2=zz.mean(0),
        HH=jnp.einsum("ik,iab,kcd->abcd", off, Hd, Hd) / npair,
        Hik2=jnp.einsum("ik,ikab,ikcd->abcd", off, H, H) / npair,
        Hzz=jnp.einsum("ik,iab,kcd->abcd", off, Hd, zz) / npair,
        Hikzz=jnp.einsum("ik,ikab,ic,kd->abcd", off, H, z, z) / npair,
    )
    if spec.dntk:
        dH = _dntk_block(params, X, sig, dsig, spec)
        out.update(
            iik_k=jnp.einsum("ik,iikabc,kd->abcd", off, dH, z) / npair,
            ikk_i=jnp.einsum("ik,ikkabc,id->abcd", off, dH, z) / npair,
            iii_i=jnp.einsum("iiiabc,id->abcd", dH, z) / s,
        )
    return out


def _bytes_per_network(spec: NTKEnsembleSpec, m: int, n0: int) -> int:
    sizes = (n0,) + spec.widths
    n_params = sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(spec.depth))
    acts = m * sum(sizes)
    # params, gradient, tangent, linearised residuals (~4 copies) and the QR workspace, float64
    copies = 8 if spec.dntk else 3
    return 8 * (copies * n_params + 4 * spec.neurons * acts * (spec.depth + 1))


def sample_ntk_ensemble(spec: NTKEnsembleSpec, inputs: np.ndarray, *, key: jax.Array, n_nets: int,
                        chunk: int = 64) -> NTKEnsemble:
    """Sample ``n_nets`` networks and return their neuron-averaged NTK-sector summaries.

    Args:
        spec: what to sample.
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key; network ``t`` uses ``jax.random.split(key, n_nets)[t]``.
        n_nets: number of networks (``>= 2``).
        chunk: networks per compiled (vmapped) batch; the working memory is checked before compiling.

    Returns:
        :class:`NTKEnsemble` (float64 if x64 is on).

    Raises:
        SpecError: inputs not 2-d, ``n_nets < 2``, ``chunk < 1``, or a chunk whose estimated working memory exceeds
            2 GiB (the message gives the estimate and the largest chunk that fits).
    """
    X = jnp.asarray(inputs)
    if X.ndim != 2:
        raise SpecError(f"sample_ntk_ensemble: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    check_int(n_nets, "n_nets", lo=2, where="sample_ntk_ensemble")
    check_int(chunk, "chunk", lo=1, where="sample_ntk_ensemble")
    m, n0 = X.shape
    chunk = min(chunk, n_nets)
    per = _bytes_per_network(spec, m, n0)
    if per * chunk > _MAX_BYTES:
        fit = _MAX_BYTES // per
        raise SpecError(f"sample_ntk_ensemble: chunk={chunk} networks need about {per * chunk / 2**30:.2f} GiB "
                        f"({per / 2**20:.1f} MiB each), over the {_MAX_BYTES / 2**30:.0f} GiB allowed; pass "
                        + (f"chunk <= {fit}." if fit >= 1 else "a smaller width, depth or fewer neurons."))
    sig, dsig = activation_fns(spec.activation)
    batched = jax.jit(jax.vmap(lambda k: _summaries(k, X, spec, sig, dsig)))
    keys = jax.random.split(key, n_nets)
    parts = []
    for start in range(0, n_nets, chunk):
        kc = keys[start:start + chunk]
        if kc.shape[0] < chunk:  # pad the last chunk: one compiled shape
            kc = jnp.concatenate([kc, keys[: chunk - kc.shape[0]]])
        out = jax.tree_util.tree_map(np.asarray, batched(kc))
        parts.append({k: v[: min(chunk, n_nets - start)] for k, v in out.items()})
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    for k, v in cat.items():
        if not np.all(np.isfinite(v)):
            raise SpecError(f"sample_ntk_ensemble: non-finite {k} (activation {spec.activation.name} overflowed at "
                            f"depth {spec.depth}); lower C_W or the input scale.")
    fan_in = spec.widths[-2] if spec.depth > 1 else n0
    return NTKEnsemble(spec, np.asarray(inputs), fan_in, **cat)


def dntk_moments_from_pq(P, Q) -> dict[str, np.ndarray]:
    """The dNTK moments this module measures, from the recursion's ``P, Q`` (second-derivative convention).

    With ``dH_{i0i1i2;a0a1a2} = S_{i1i0i2;a1a0a2} + S_{i2i0i1;a2a0a1}`` (module docstring) and ``E[S_{i0i1i2;d0d1d2}
    z_{i3;d3}] = (1/n)[d01 d23 P_{d0d1d2d3} + d02 d13 P_{d0d2d1d3} + d03 d12 Q_{d0d1d2d3}]``, for ``i != k``::

        n E[dH_iik z_k][a0,a1,a2,a3] = P[a1,a0,a2,a3] + Q[a2,a0,a1,a3]
        n E[dH_ikk z_i][a0,a1,a2,a3] = P[a1,a2,a0,a3] + P[a2,a1,a0,a3]
        n E[dH_iii z_i][a0,a1,a2,a3] = P[a1,a0,a2,a3] + P[a1,a2,a0,a3] + Q[a1,a0,a2,a3]
                                       + P[a2,a0,a1,a3] + P[a2,a1,a0,a3] + Q[a2,a0,a1,a3]

    (one input: ``P + Q``, ``2P``, ``2(2P + Q)``).

    Args:
        P, Q: ``(m, m, m, m)`` arrays (or scalars for one input), as ``compile_recursion(ntk_recursion(..., dntk=True))``
            returns them for one layer.

    Returns:
        ``{"dNTK_iik_k", "dNTK_ikk_i", "dNTK_iii_i"}``: ``(m, m, m, m)`` arrays, the keys of :func:`ntk_statistics`.
    """
    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)
    if P.ndim == 0 or P.size == 1:
        P, Q = P.reshape(1, 1, 1, 1), Q.reshape(1, 1, 1, 1)
    Pt, Qt = (lambda o: np.transpose(P, o)), (lambda o: np.transpose(Q, o))  # noqa: E731
    # np.transpose(X, o)[a0,a1,a2,a3] = X[b] with b[o[k]] = a_k: X[a1,a0,a2,a3] is o = (1,0,2,3), X[a1,a2,a0,a3] is
    # (2,0,1,3), X[a2,a0,a1,a3] is (1,2,0,3), X[a2,a1,a0,a3] is (2,1,0,3) (checked entry by entry in the tests)
    iik = Pt((1, 0, 2, 3)) + Qt((1, 2, 0, 3))
    ikk = Pt((2, 0, 1, 3)) + Pt((2, 1, 0, 3))
    iii = Pt((1, 0, 2, 3)) + Pt((2, 0, 1, 3)) + Qt((1, 0, 2, 3)) + Pt((1, 2, 0, 3)) + Pt((2, 1, 0, 3)) + Qt((1, 2, 0, 3))
    return {"dNTK_iik_k": iik, "dNTK_ikk_i": ikk, "dNTK_iii_i": iii}


def _cov(t_xy_pair, t_x, t_y, t_xy, N):
    # E[x_i y_k] (pair-averaged in one network) - E[x] E[y] (U-statistic over distinct networks)
    prod = (np.einsum("...ab,...cd->...abcd", t_x, t_y) - t_xy) / (N * (N - 1))
    return t_xy_pair / N - prod


def _covariance(pair: np.ndarray, x: np.ndarray, y: np.ndarray, n: int) -> Estimate:
    xy = np.einsum("sab,scd->sabcd", x, y)
    est = jackknife(_cov, pair, x, y, xy, vectorized=True)
    return Estimate(n * est.value, n * est.stderr)


def _mean(x: np.ndarray, scale: float = 1.0) -> Estimate:
    N = x.shape[0]
    return Estimate(scale * x.mean(0), scale * x.std(0, ddof=1) / math.sqrt(N))


def ntk_statistics(ens: NTKEnsemble) -> dict[str, Estimate]:
    """The NTK-sector moments of the module docstring's table, with jackknife standard errors.

    Args:
        ens: summaries from :func:`sample_ntk_ensemble` (``N >= 2`` networks).

    Returns:
        ``{"Theta_mc", "A", "B", "D", "F"}`` and, with dNTK, ``{"dNTK_iik_k", "dNTK_ikk_i", "dNTK_iii_i"}``:
        :class:`Estimate` of shape ``(m, m)`` (``Theta_mc``) or ``(m, m, m, m)``.
    """
    n = ens.fan_in
    out = {
        "Theta_mc": _mean(ens.H),
        "A": _covariance(ens.HH, ens.H, ens.H, n),
        "B": _mean(ens.Hik2, n),
        "D": _covariance(ens.Hzz, ens.H, ens.z2, n),
        "F": _mean(ens.Hikzz, n),
    }
    if ens.iik_k is not None:
        out.update(dNTK_iik_k=_mean(ens.iik_k, n), dNTK_ikk_i=_mean(ens.ikk_i, n), dNTK_iii_i=_mean(ens.iii_i, n))
    return out


@dataclass(frozen=True)
class NTKSweep:
    """A width sweep: per-width estimates and, per statistic, the ``1/n -> 0`` intercept of a straight-line fit in ``1/n``.

    ``estimates[w][name]`` is the :class:`Estimate` at width ``w``; ``intercept[name]``, ``stderr[name]`` and
    ``chi2[name]`` come from :func:`~nntheory.validation.fit_intercept` (``len(widths) - 2`` degrees of freedom);
    ``"Theta1"`` is there when the sweep was given ``theta``.
    """

    spec: NTKEnsembleSpec
    widths: tuple[int, ...]
    n_nets: int
    estimates: dict
    intercept: dict
    stderr: dict
    chi2: dict


def _sweep_fits(spec: NTKEnsembleSpec, widths, key, dntk: bool, where: str, estimate):
    """The width sweep shared by the NTK and ddNTK Monte Carlo: ``estimate(spec at width w, key)`` at each width
    (independent keys), then per statistic the straight-line fit in ``1/n``; returns
    ``(widths, estimates, intercept, stderr, chi2)``."""
    widths = tuple(check_int(w, "widths", lo=2, where=where) for w in widths)
    if len(set(widths)) < 2:
        raise SpecError(f"{where}: widths needs at least two distinct widths, got {widths}.")
    ests = {}
    for w, k in zip(widths, jax.random.split(key, len(widths))):
        sw = NTKEnsembleSpec(spec.activation, spec.depth, w, spec.C_W, spec.C_b, spec.lambda_W, spec.lambda_b,
                             spec.init, spec.neurons, dntk)
        ests[w] = estimate(sw, k)
    x = np.array([1.0 / w for w in widths])
    b0, se0, chi = {}, {}, {}
    for name in ests[widths[0]]:
        y = np.stack([ests[w][name].value for w in widths])
        se = np.stack([ests[w][name].stderr for w in widths])
        b0[name], se0[name], chi[name] = fit_intercept(x.reshape((-1,) + (1,) * (y.ndim - 1)), y, se)
    return widths, ests, b0, se0, chi


def ntk_width_sweep(spec: NTKEnsembleSpec, widths, inputs: np.ndarray, *, key: jax.Array, n_nets: int,
                    chunk: int = 64, theta: np.ndarray | None = None) -> NTKSweep:
    """Sample ``spec`` at each of ``widths`` (all layers) and extrapolate every moment linearly in ``1/n`` to ``n -> inf``.

    The leading-order tensors (``A, B, D, F``, the dNTK moments) carry ``O(1/n)`` corrections and ``Theta_mc`` is
    ``Theta + Theta1/n``: the intercept estimates the leading-order value. Each width gets an independent key.

    Args:
        spec: the network (its ``width`` is replaced by each entry of ``widths``).
        widths: at least two distinct widths (three or more give a chi-squared).
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key.
        n_nets: networks per width.
        chunk: networks per compiled batch.
        theta: the leading-order NTK mean ``Theta`` ``(m, m)`` of layer ``L``; when given, the sweep also fits
            ``"Theta1"``: ``n (E[H_ii] - Theta)`` against ``1/n`` (its standard error is about ``sqrt(n (A + 2B)
            / (N neurons))``: resolving ``Theta1 ~ 0.04`` at 4 SE takes millions of networks).

    Returns:
        :class:`NTKSweep`.

    Raises:
        SpecError: fewer than two distinct widths; see also :func:`sample_ntk_ensemble`.
    """
    widths, ests, b0, se0, chi = _sweep_fits(
        spec, widths, key, spec.dntk, "ntk_width_sweep",
        lambda sw, k: ntk_statistics(sample_ntk_ensemble(sw, inputs, key=k, n_nets=n_nets, chunk=chunk)))
    x = np.array([1.0 / w for w in widths])
    if theta is not None:
        th = np.asarray(theta, dtype=float)
        nn = np.array([w for w in widths], dtype=float)[:, None, None]
        y = nn * (np.stack([ests[w]["Theta_mc"].value for w in widths]) - th)
        se = nn * np.stack([ests[w]["Theta_mc"].stderr for w in widths])
        b0["Theta1"], se0["Theta1"], chi["Theta1"] = fit_intercept(x[:, None, None], y, se)
    return NTKSweep(spec, widths, n_nets, ests, b0, se0, chi)
