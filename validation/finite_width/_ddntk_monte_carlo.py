r"""Monte Carlo of the ddNTK: exact third-order derivative contractions of finite MLPs and their neuron-pair means.

Networks, initialisations and learning-rate factors as in :mod:`nntheory.validation.finite_width._ntk_monte_carlo`
(PDLT conventions; the metric ``Lambda`` puts ``lambda_b`` on biases and ``lambda_W / n_{l-1}`` on weights).
With ``g_{i;a} = Lambda grad_theta z_{i;a}`` (``z`` the last layer ``L``) the two ddNTKs of PDLT ch. 11 are

* ``ddIH_{i0i1i2i3;a0a1a2a3} = d^3 z_{i0;a0}[g_{i1;a1}, g_{i2;a2}, g_{i3;a3}]`` (third derivative along three
  gradients; symmetric in its last three index pairs);
* ``ddIIH_{i1i2i3i4;a1a2a3a4} = d^2 z_{i1;a1}[g_{i3;a3}, Lambda d^2 z_{i2;a2}[g_{i4;a4}]]`` (two Hessians contracted
  with each other, ``= sum lambda_{mu1 nu1} lambda_{mu2 nu2} lambda_{mu3 nu3} d2z_{i1}/dmu1 dmu2
  d2z_{i2}/dnu1 dmu3 dz_{i3}/dnu2 dz_{i4}/dnu3``; ``ddIIH_{1234} = ddIIH_{2143}``).

Both are computed exactly per network, for the first ``neurons`` neurons of layer ``L`` only: ``ddIH`` by nested
JVPs (``d^3 z`` along three tangents, one per sorted triple of gradients: it is symmetric in them), ``ddIIH`` as the
``Lambda``-weighted inner products of the Hessian-vector products ``Hess z_{i;a} g_{k;b}``; :func:`ddntk_blocks` returns the
blocks and is checked against brute-force ``jax.hessian`` / ``jax.jacfwd`` on a tiny network in the tests.

Moments (``n = n_{L-1}``, distinct neurons ``i != k``; every estimate is an array ``[a, b, c, d]`` over the inputs in
the tensor's own index order, defined by its moment; the theory column is PDLT's decomposition
``E[ddIH_{i0i1i2i3}] = (1/n)[d01 d23 R + d02 d13 R + d03 d12 R]``,
``E[ddIIH_{i1i2i3i4}] = (1/n)[d12 d34 S + d13 d24 T + d14 d23 U]``, single input):

================  ======================================  ============
key               moment                                  one input
================  ======================================  ============
``ddI_iikk``      ``n E[ddIH_{iikk}]``                    ``R``
``ddI_ikik``      ``n E[ddIH_{ikik}]``                    ``R``
``ddI_ikki``      ``n E[ddIH_{ikki}]``                    ``R``
``ddI_iiii``      ``n E[ddIH_{iiii}]``                    ``3 R``
``ddII_iikk``     ``n E[ddIIH_{iikk}]``                   ``S``
``ddII_ikik``     ``n E[ddIIH_{ikik}]``                   ``T``
``ddII_ikki``     ``n E[ddIIH_{ikki}]``                   ``U``
``ddII_iiii``     ``n E[ddIIH_{iiii}]``                   ``S + T + U``
================  ======================================  ============

Means over networks carry delete-one jackknife standard errors (:func:`~nntheory.validation._estimators.jackknife`;
for a plain mean it equals the sample standard error); neuron averages run over all ordered pairs ``i != k`` of the
chosen neurons of each network. Power: the per-network spread of ``n ddH`` is ``O(sqrt(n))`` per neuron pair, so the
standard error of a moment is about ``c sqrt(n / (N s^2))`` (``s`` neurons, ``N`` networks); see the tests for
measured figures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.validation._estimators import Estimate, jackknife
from nntheory.validation._networks import activation_fns, mlp_forward, pdlt_mlp_params
from nntheory.validation.finite_width._ntk_monte_carlo import NTKEnsembleSpec, _sweep_fits, orthogonal_mlp_params

__all__ = [
    "DDNTKEnsemble",
    "DDNTKSweep",
    "DDNTK_MOMENTS",
    "ddntk_blocks",
    "ddntk_statistics",
    "ddntk_width_sweep",
    "sample_ddntk_ensemble",
]

#: the moment keys of :func:`ddntk_statistics`, in order
DDNTK_MOMENTS = ("ddI_iikk", "ddI_ikik", "ddI_ikki", "ddI_iiii", "ddII_iikk", "ddII_ikik", "ddII_ikki", "ddII_iiii")
_MAX_BYTES = 2 * 2**30  # working memory allowed per compiled chunk


def _metric(params, lambda_W: float, lambda_b: float):
    """``Lambda`` as a function on parameter-shaped pytrees."""
    def apply(t):
        return [(lambda_W / W.shape[1] * tW, lambda_b * tb) for (W, _), (tW, tb) in zip(params, t)]
    return apply


def ddntk_blocks(params, X, sig, neurons: int, lambda_W: float = 1.0, lambda_b: float = 1.0):
    """Exact ddNTK blocks of one network for its first ``neurons`` last-layer neurons.

    Args:
        params: ``[(W, b), ...]`` (PDLT parameterisation, :func:`~nntheory.validation._networks.mlp_forward`).
        X: inputs ``(m, n_0)``.
        sig: the activation (elementwise, JAX-differentiable three times).
        neurons: ``s``, the number of last-layer neurons kept.
        lambda_W, lambda_b: learning-rate factors (``lambda_W / n_{l-1}`` on weights).

    Returns:
        ``(ddI, ddII)``, each ``(s, s, s, s, m, m, m, m)``: ``ddI[i0, i1, i2, i3, a0, a1, a2, a3] = ddIH`` and
        ``ddII[i1, i2, i3, i4, a1, a2, a3, a4] = ddIIH`` of the module docstring.
    """
    s, m = neurons, X.shape[0]
    # rows s.. of the last layer do not reach the kept outputs: every derivative along them vanishes, so they are
    # dropped before differentiating (the metric depends on fan-ins only)
    W_L, b_L = params[-1]
    params = list(params[:-1]) + [(W_L[:s], b_L[:s])]
    lam = _metric(params, lambda_W, lambda_b)

    def f(p):  # (m*s,), index a * s + i
        return mlp_forward(p, X, sig)[0][-1].reshape(-1)

    def d3(v1, v2, v3):
        return jax.jvp(lambda p: jax.jvp(lambda q: jax.jvp(f, (q,), (v1,))[1], (p,), (v2,))[1], (params,), (v3,))[1]

    _, vjp = jax.vjp(f, params)
    M = m * s
    eye = jnp.eye(M, dtype=X.dtype)
    G = jax.lax.map(lambda e: lam(vjp(e)[0]), eye)  # stacked pytree, leading axis M: g_k = Lambda grad z_k

    def take(tree, k):
        return jax.tree_util.tree_map(lambda x: x[k], tree)

    # ddI[k0, k1, k2, k3] = d^3 z_k0[g_k1, g_k2, g_k3] is symmetric in (k1, k2, k3): one third derivative per
    # sorted triple (M(M+1)(M+2)/6 of them instead of M^3), then gathered into all M^3 orderings
    sym = list(itertools.combinations_with_replacement(range(M), 3))
    pos = {t: i for i, t in enumerate(sym)}
    full = np.array([pos[tuple(sorted(t))] for t in itertools.product(range(M), repeat=3)])
    vals = jax.lax.map(lambda t: d3(take(G, t[0]), take(G, t[1]), take(G, t[2])), jnp.asarray(np.array(sym)))
    dI = vals[full].reshape(M, M, M, M).transpose(3, 0, 1, 2)  # [k1k2k3, k0] -> (k0, k1, k2, k3)

    # u[k4, k2] = Hess_{k2} g_{k4} (Hessian-vector products, params-shaped); then
    # ddII[k1, k2, k3, k4] = d^2 z_k1[g_k3, Lambda u[k4, k2]] = <u[k3, k1], Lambda u[k4, k2]>: one contraction
    jac = jax.jacrev(f)
    U = jax.lax.map(lambda k: jax.tree_util.tree_leaves(jax.jvp(jac, (params,), (take(G, k),))[1]), jnp.arange(M))
    scales = [sc for W, _ in params for sc in (lambda_W / W.shape[1], lambda_b)]
    dII = sum(sc * jnp.einsum("cap,dbp->abcd", u.reshape(M, M, -1), u.reshape(M, M, -1)) for sc, u in zip(scales, U))

    def split(x):  # (k0..k3) with k = a * s + i -> (i0..i3, a0..a3)
        return x.reshape((m, s) * 4).transpose(1, 3, 5, 7, 0, 2, 4, 6)

    return split(dI), split(dII)


def _summaries(key, X, spec: NTKEnsembleSpec, sig):
    sizes = (X.shape[1],) + spec.widths
    if spec.init == "gaussian":
        params = pdlt_mlp_params(key, sizes, spec.C_W, spec.C_b, X.dtype)
    else:
        params = orthogonal_mlp_params(key, sizes, spec.C_W, spec.C_b, X.dtype)
    dI, dII = ddntk_blocks(params, X, sig, spec.neurons, spec.lambda_W, spec.lambda_b)
    s = spec.neurons
    off = 1.0 - jnp.eye(s, dtype=X.dtype)
    npair = s * (s - 1)
    out = {}
    for name, t in (("ddI", dI), ("ddII", dII)):
        out[name + "_iikk"] = jnp.einsum("ik,iikkabcd->abcd", off, t) / npair
        out[name + "_ikik"] = jnp.einsum("ik,ikikabcd->abcd", off, t) / npair
        out[name + "_ikki"] = jnp.einsum("ik,ikkiabcd->abcd", off, t) / npair
        out[name + "_iiii"] = jnp.einsum("iiiiabcd->abcd", t) / s
    return out


def _bytes_per_network(spec: NTKEnsembleSpec, m: int, n0: int) -> int:
    sizes = (n0,) + spec.widths[:-1] + (min(spec.neurons, spec.widths[-1]),)  # the last layer's kept rows only
    n_params = sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(spec.depth))
    M = m * spec.neurons
    acts = m * sum(sizes)
    # the M gradients, the M^2 Hessian-vector products (and their contraction's operand), a few params-sized JVP
    # tangents, and the nested-JVP residuals of the M-output forward pass, float64
    return 8 * ((2 * M * M + M + 8) * n_params + 16 * M * acts * (spec.depth + 1))


@dataclass(frozen=True)
class DDNTKEnsemble:
    """Per-network neuron-pair means of the ddNTK blocks (keys :data:`DDNTK_MOMENTS`, each ``(N, m, m, m, m)``).

    ``fan_in`` is ``n_{L-1}``.
    """

    spec: NTKEnsembleSpec
    inputs: np.ndarray
    fan_in: int
    moments: dict

    @property
    def n_nets(self) -> int:
        """The number of networks."""
        return next(iter(self.moments.values())).shape[0]


def sample_ddntk_ensemble(spec: NTKEnsembleSpec, inputs: np.ndarray, *, key: jax.Array, n_nets: int,
                          chunk: int = 32) -> DDNTKEnsemble:
    """Sample ``n_nets`` networks and return the per-network neuron-pair means of their ddNTK blocks.

    Args:
        spec: what to sample (its ``dntk`` field is ignored); the activation must be smooth (three derivatives).
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key; network ``t`` uses ``jax.random.split(key, n_nets)[t]``.
        n_nets: number of networks (``>= 2``).
        chunk: networks per compiled (vmapped) batch; the working memory is checked before compiling.

    Returns:
        :class:`DDNTKEnsemble` (float64 if x64 is on).

    Raises:
        SpecError: inputs not 2-d, ``n_nets < 2``, ``chunk < 1``, an activation with kinks (autodiff would set
            ``sigma''`` to zero and measure nothing), a chunk over 2 GiB of estimated working memory (the message
            gives the estimate and the largest chunk that fits), or non-finite results.
    """
    X = jnp.asarray(inputs)
    if X.ndim != 2:
        raise SpecError(f"sample_ddntk_ensemble: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    check_int(n_nets, "n_nets", lo=2, where="sample_ddntk_ensemble")
    check_int(chunk, "chunk", lo=1, where="sample_ddntk_ensemble")
    if not spec.activation.is_smooth:
        raise SpecError(f"sample_ddntk_ensemble: spec.activation: {spec.activation.name!r} has kinks; the ddNTK needs "
                        "sigma'' and sigma''' as functions (autodiff would return 0). Use a smooth activation.")
    m, n0 = X.shape
    chunk = min(chunk, n_nets)
    per = _bytes_per_network(spec, m, n0)
    if per * chunk > _MAX_BYTES:
        fit = _MAX_BYTES // per
        raise SpecError(f"sample_ddntk_ensemble: chunk={chunk} networks need about {per * chunk / 2**30:.2f} GiB "
                        f"({per / 2**20:.1f} MiB each), over the {_MAX_BYTES / 2**30:.0f} GiB allowed; pass "
                        + (f"chunk <= {fit}." if fit >= 1 else "a smaller width, depth, fewer neurons or inputs."))
    sig, _ = activation_fns(spec.activation)
    batched = jax.jit(jax.vmap(lambda k: _summaries(k, X, spec, sig)))
    keys = jax.random.split(key, n_nets)
    parts = []
    for start in range(0, n_nets, chunk):
        kc = keys[start:start + chunk]
        if kc.shape[0] < chunk:  # pad the last chunk: one compiled shape
            kc = jnp.concatenate([kc, keys[: chunk - kc.shape[0]]])
        out = jax.tree_util.tree_map(np.asarray, batched(kc))
        parts.append({k: v[: min(chunk, n_nets - start)] for k, v in out.items()})
    cat = {k: np.concatenate([p[k] for p in parts]) for k in DDNTK_MOMENTS}
    for k, v in cat.items():
        if not np.all(np.isfinite(v)):
            raise SpecError(f"sample_ddntk_ensemble: non-finite {k} (activation {spec.activation.name} overflowed at "
                            f"depth {spec.depth}); lower C_W or the input scale.")
    fan_in = spec.widths[-2] if spec.depth > 1 else n0
    return DDNTKEnsemble(spec, np.asarray(inputs), fan_in, cat)


def _mean_stat(total, N):
    return total / N


def ddntk_statistics(ens: DDNTKEnsemble) -> dict[str, Estimate]:
    """The ddNTK moments of the module docstring's table, ``n`` times the network mean, with jackknife errors.

    Args:
        ens: summaries from :func:`sample_ddntk_ensemble`.

    Returns:
        ``{key: Estimate}`` for every key of :data:`DDNTK_MOMENTS`, arrays ``(m, m, m, m)``.
    """
    n = ens.fan_in
    out = {}
    for k in DDNTK_MOMENTS:
        est = jackknife(_mean_stat, ens.moments[k], vectorized=True)
        out[k] = Estimate(n * est.value, n * est.stderr)
    return out


@dataclass(frozen=True)
class DDNTKSweep:
    """A width sweep of the ddNTK moments: per-width estimates and the ``1/n -> 0`` intercepts of a straight line.

    ``estimates[w][key]`` is the :class:`Estimate` at width ``w``; ``intercept``, ``stderr`` and ``chi2`` per key
    come from :func:`~nntheory.validation.fit_intercept` (``len(widths) - 2`` degrees of freedom).
    """

    spec: NTKEnsembleSpec
    widths: tuple[int, ...]
    n_nets: int
    estimates: dict
    intercept: dict
    stderr: dict
    chi2: dict


def ddntk_width_sweep(spec: NTKEnsembleSpec, widths, inputs: np.ndarray, *, key: jax.Array, n_nets: int,
                      chunk: int = 32) -> DDNTKSweep:
    """Sample ``spec`` at each of ``widths`` (all layers) and extrapolate every ddNTK moment linearly in ``1/n``.

    Args:
        spec: the network (its ``width`` is replaced by each entry of ``widths``).
        widths: at least two distinct widths.
        inputs: ``(m, n_0)`` inputs.
        key: JAX random key (each width gets an independent one).
        n_nets: networks per width.
        chunk: networks per compiled batch.

    Returns:
        :class:`DDNTKSweep`.

    Raises:
        SpecError: fewer than two distinct widths; see also :func:`sample_ddntk_ensemble`.
    """
    widths, ests, b0, se0, chi = _sweep_fits(
        spec, widths, key, False, "ddntk_width_sweep",
        lambda sw, k: ddntk_statistics(sample_ddntk_ensemble(sw, inputs, key=k, n_nets=n_nets, chunk=chunk)))
    return DDNTKSweep(spec, widths, n_nets, ests, b0, se0, chi)
