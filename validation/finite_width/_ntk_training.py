r"""One gradient step of MSE at finite width: the expected NTK change predicted by the dNTK, checked by training.

Networks and learning rates as in :mod:`nntheory.validation.finite_width._ntk_monte_carlo` (PDLT): Gaussian
weights ``W^(l) ~ N(0, C_W / n_{l-1})``, ``b ~ N(0, C_b)``, hidden widths ``n_1 = .. = n_{L-1} = n`` and a
narrow output layer of ``n_L = n_out`` neurons; learning-rate factors ``lambda_b`` on biases and
``lambda_W / n_{l-1}`` on weights.

**The step.** ``L = 1/2 sum_{j, alpha} (z_{j;alpha} - y_{j;alpha})^2`` over the data set ``{x_alpha}``;
``theta_mu <- theta_mu - eta lambda_mu dL/dtheta_mu`` (a real step with :func:`jax.grad`); the NTK
``H_{i1 i2; d1 d2}`` of the output layer is recomputed exactly (full Jacobian) after the step.

**The prediction.** With ``eps_{j;alpha} = z_{j;alpha} - y_{j;alpha}`` and the dNTK of PDLT ch. 11 as
:mod:`nntheory.theory.finite_width._ntk` defines it, ``dH_{i0 i1 i2; d0 d1 d2} = sum lambda_mu lambda_nu
d^2 z_{i0;d0}/dtheta_mu dtheta_nu dz_{i1;d1}/dtheta_mu dz_{i2;d2}/dtheta_nu``, the step moves the NTK by
``H(after) - H(before) = -eta sum_{j, alpha} (dH_{i1 j i2; d1 alpha d2} + dH_{i2 j i1; d2 alpha d1}) eps_{j;alpha}
+ O(eta^2)`` (PDLT ch. 11; note that ``sum_mu lambda_mu dz_{j}/dtheta_mu dH_{i1 i2}/dtheta_mu`` -- the
JVP-of-the-NTK dNTK of the Monte Carlo module -- is this *sum of two* PDLT dNTKs). ``E[dH] = 0`` exactly (``dH`` is
odd under flipping the sign of the last layer), so targets independent of the initialisation drop out at order
``eta`` and, with ``E[dH_{i0i1i2} z_{i3}] = (1/n)[d01 d23 P_{d0d1d2d3} + d02 d13 P_{d0d2d1d3} + d03 d12
Q_{d0d1d2d3}]`` (:func:`~nntheory.theory.finite_width._ntk.ntk_recursion` with ``dntk=True``, ``n = n_{L-1}``)::

    E[H(after) - H(before)]_{i1 i2; d1 d2} = -(eta / n) d_{i1 i2} sum_alpha [c_{d1 d2 alpha} + c_{d2 d1 alpha}]
                                            + O(eta n_out / n^2) + O(eta^2),
    c_{d1 d2 alpha} = P_{d1 alpha d2 alpha} + n_out P_{d1 d2 alpha alpha} + Q_{d1 alpha d2 alpha}

(the ``n_out`` output neurons ``j`` each give ``P_{d1 d2 alpha alpha}``; ``j = i1 = i2`` gives the other ``P`` and
``Q``; one input: ``-(2 eta / n) [(1 + n_out) P + Q]``): the diagonal neurons move, the off-diagonal
``i1 != i2`` entries do not at this order (their mean vanishes by the sign symmetry of neuron ``i1`` whenever
``y = 0``, and at order ``eta`` for every ``y``). The output layer is kept narrow (``n_out`` fixed while ``n``
grows), as in PDLT: the ``O(1/n^2)`` remainder of ``E[dH z]``, summed over ``n_out`` neurons ``j``, is then
``O(n_out / n^2)``.

**The eta^2 term** (ddNTK and ``dH . dH`` products) is removed, not modelled: each network is stepped with ``+eta``
and ``-eta`` from the same initialisation, and the central difference ``(H(+eta) - H(-eta)) / (2 eta)`` has no
``eta^2`` term (its remainder is ``O(eta^2)`` relative). The one-sided rates ``(H(+-eta) - H) / (+-eta)`` are
reported too; their half-difference ``eta c_2`` measures the ``eta^2`` coefficient, so a run shows directly
whether a one-sided step at that ``eta`` would have been biased beyond its standard error.

**Estimators.** Per network: ``diag = mean_i Delta H_{ii}`` and ``off = mean_{i != k} Delta H_{ik}`` (arrays over
input pairs), divided by ``eta``; means over networks with standard errors ``std / sqrt(N)`` (networks are
independent). The width sweep multiplies by ``n`` and fits ``n E[Delta H_ii] / eta = c0 + c1 / n`` (weighted least
squares, :func:`~nntheory.validation._estimators.fit_intercept`); ``c0`` is compared with the prediction.

**The trained ensemble's mean at 1/n** (issue 19, 4(b)): :func:`trained_ensemble_mean` trains ensembles ``T`` steps and
compares the ``1/n`` correction of their mean prediction, part by part, with
:func:`~nntheory.numerics.finite_width._training.trained_mean_prediction` (the Taylor map of the training dynamics to
order ``1/n`` and its expectation from ``Theta1``, ``A, B``, ``P, Q`` and ``R, S, T, U``). The dNTK fluctuates at
``O(1/n)`` (a sum of ``n`` mean-zero terms of size ``n^-3/2``), so products of two dNTKs and ``E[dH dH]`` are
``O(1/n^2)`` and do not enter; ``D, F`` enter the variance of the prediction, not its mean.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nntheory._checks import check_int, check_real
from nntheory.errors import SpecError
from nntheory.numerics._compile import require_float64
from nntheory.theory import Activation
from nntheory.validation._estimators import Estimate, fit_intercept
from nntheory.validation._plots import png_bytes
from nntheory.validation._networks import activation_fns, mlp_forward, pdlt_mlp_params

__all__ = ["NTKStepChange", "TrainedEnsembleMean", "ntk_step_change", "ntk_step_prediction", "trained_ensemble_mean"]

_MAX_BYTES = 2 * 2**30  # working memory allowed per compiled chunk


@dataclass(frozen=True)
class NTKStepChange:
    """Measured and predicted ``E[H(after) - H(before)] / eta`` of the output NTK, one row per hidden width.

    Args (fields):
        eta: the step size.
        widths: the hidden widths ``n``.
        n_out: output neurons ``n_L``.
        n_nets: networks per width.
        diag: central-difference rate ``E[Delta H_ii]/eta`` per width, arrays ``(len(widths), m, m)``.
        offdiag: the same for ``i != k``.
        plus, minus: one-sided rates ``(H(+eta) - H)/eta`` and ``(H(-eta) - H)/(-eta)`` of the diagonal.
        prediction: ``scaled_prediction / n`` per width, ``(len(widths), m, m)``.
        scaled_prediction: ``-sum_alpha [c_{d1 d2 alpha} + c_{d2 d1 alpha}]`` (module docstring), ``(m, m)``.
        extrapolated: intercept of ``n diag`` against ``1/n`` (needs two or more widths), with its standard error.
    """

    eta: float
    widths: tuple[int, ...]
    n_out: int
    n_nets: int
    diag: Estimate
    offdiag: Estimate
    plus: Estimate
    minus: Estimate
    prediction: np.ndarray
    scaled_prediction: np.ndarray
    extrapolated: Estimate | None


def ntk_step_prediction(act: Activation, inputs: np.ndarray, *, depth: int, n_out: int, C_W: float, C_b: float,
                        lambda_W: float = 1.0, lambda_b: float = 1.0) -> np.ndarray:
    """``-sum_alpha [c_{d1 d2 alpha} + c_{d2 d1 alpha}]`` at layer ``depth`` (``c`` from ``P, Q``: module docstring).

    The expected one-step change of the diagonal output NTK is this array times ``eta / n`` (module docstring).

    Args:
        act: a smooth activation.
        inputs: ``(m, n_0)`` training inputs.
        depth: number of layers ``L`` (``>= 2``).
        n_out: output neurons.
        C_W, C_b, lambda_W, lambda_b: initialisation and learning-rate factors.

    Returns:
        ``(m, m)`` array over ``(d1, d2)``.

    Raises:
        SpecError: bad sizes (via :mod:`nntheory._checks`); errors of the recursion (e.g. a non-smooth activation).
    """
    from nntheory.numerics import compile_recursion
    from nntheory.theory.finite_width._ntk import ntk_recursion

    check_int(depth, "depth", lo=2, where="ntk_step_prediction")
    check_int(n_out, "n_out", lo=1, where="ntk_step_prediction")
    X = np.asarray(inputs, dtype=float)
    if X.ndim != 2:
        raise SpecError(f"ntk_step_prediction: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    m = X.shape[0]
    out = compile_recursion(ntk_recursion(act, m, dntk=True))(X @ X.T / X.shape[1], depth=depth, C_W=C_W, C_b=C_b,
                                                            lambda_W=lambda_W, lambda_b=lambda_b)
    P = np.asarray(out["P"])[-1].reshape(m, m, m, m)
    Q = np.asarray(out["Q"])[-1].reshape(m, m, m, m)
    c = np.einsum("xaya->xy", P) + n_out * np.einsum("xyaa->xy", P) + np.einsum("xaya->xy", Q)
    return -(c + c.T)


def _ntk(params, X, sig, lambda_W, lambda_b):
    """Full output NTK ``(n_out, n_out, m, m)`` from the Jacobian, learning-rate weighted per layer."""
    def f(p):
        return mlp_forward(p, X, sig)[0][-1].T  # (n_out, m)

    J = jax.jacrev(f)(params)
    H = 0.0
    for (W, _), (JW, Jb) in zip(params, J):
        H = H + lambda_W / W.shape[1] * jnp.einsum("iaxy,kbxy->ikab", JW, JW) + lambda_b * jnp.einsum("iax,kbx->ikab", Jb, Jb)
    return H


def _one_network(key, X, Y, sizes, sig, C_W, C_b, lambda_W, lambda_b, eta):
    params = pdlt_mlp_params(key, sizes, C_W, C_b, X.dtype)

    def loss(p):
        return 0.5 * jnp.sum((mlp_forward(p, X, sig)[0][-1] - Y) ** 2)

    g = jax.grad(loss)(params)

    def stepped(e):  # e = 0 gives the initial parameters exactly
        return [(W - e * lambda_W / W.shape[1] * gW, b - e * lambda_b * gb) for (W, b), (gW, gb) in zip(params, g)]

    # the NTK at 0, +eta, -eta as one batched Jacobian (one compiled NTK instead of three)
    H = jax.vmap(lambda p: _ntk(p, X, sig, lambda_W, lambda_b))(jax.vmap(stepped)(jnp.array([0.0, eta, -eta], X.dtype)))
    H0 = H[0]
    dp = (H[1] - H0) / eta
    dm = (H[2] - H0) / (-eta)
    s = H0.shape[0]
    eye = jnp.eye(s, dtype=X.dtype)[:, :, None, None]

    def diag(D):
        return jnp.einsum("iiab->ab", D) / s

    def off(D):
        return jnp.sum(D * (1 - eye), axis=(0, 1)) / max(s * (s - 1), 1)

    c = 0.5 * (dp + dm)
    return diag(c), off(c), diag(dp), diag(dm)


def _mean(x: np.ndarray) -> Estimate:
    return Estimate(x.mean(0), x.std(0, ddof=1) / np.sqrt(x.shape[0]))


def ntk_step_change(act: Activation, inputs: np.ndarray, targets: np.ndarray, *, depth: int, widths, n_out: int,
                    C_W: float, C_b: float, eta: float, key: jax.Array, n_nets: int, lambda_W: float = 1.0,
                    lambda_b: float = 1.0, chunk: int = 256) -> NTKStepChange:
    """Train ensembles one MSE step (``+eta`` and ``-eta``) and compare the output-NTK change with the dNTK prediction.

    Accuracy: the prediction holds to ``O(n_out / n^2)`` in the width and, for the central difference, to relative
    ``O(eta^2)``; the Monte Carlo error is the reported standard error.

    Args:
        act: a smooth activation.
        inputs: ``(m, n_0)`` training inputs.
        targets: ``(m, n_out)`` targets (independent of the initialisation).
        depth: number of layers ``L >= 2`` (``L - 1`` hidden layers of width ``n``, then ``n_out``).
        widths: hidden widths ``n`` of the sweep (distinct, each ``>= 2``).
        n_out: output neurons (``>= 2`` so that the off-diagonal entries exist).
        C_W, C_b: initialisation variances.
        eta: step size (``> 0``).
        key: JAX random key; width ``w`` uses ``jax.random.fold_in(key, w)``, split into ``n_nets`` networks.
        n_nets: networks per width (``>= 2``).
        lambda_W, lambda_b: learning-rate factors.
        chunk: networks per compiled (vmapped) batch.

    Returns:
        :class:`NTKStepChange`.

    Raises:
        SpecError: an argument out of range (named), float32 JAX, a chunk whose working memory exceeds 2 GiB (the
            estimate and the largest chunk that fits are in the message), or a non-finite change.
    """
    where = "ntk_step_change"
    require_float64(where)
    check_int(depth, "depth", lo=2, where=where)
    check_int(n_out, "n_out", lo=2, where=where)
    check_int(n_nets, "n_nets", lo=2, where=where)
    check_int(chunk, "chunk", lo=1, where=where)
    check_real(eta, "eta", lo=0, lo_open=True, where=where)
    check_real(C_W, "C_W", lo=0, lo_open=True, where=where)
    check_real(C_b, "C_b", lo=0, where=where)
    check_real(lambda_W, "lambda_W", lo=0, where=where)
    check_real(lambda_b, "lambda_b", lo=0, where=where)
    widths = tuple(widths)
    if not widths or len(set(widths)) != len(widths):
        raise SpecError(f"{where}: widths must be distinct and non-empty, got {widths}.")
    for w in widths:
        check_int(w, "widths", lo=2, where=where)
    X = jnp.asarray(inputs, dtype=jnp.float64)
    Y = jnp.asarray(targets, dtype=jnp.float64)
    if X.ndim != 2:
        raise SpecError(f"{where}: inputs must be (n_inputs, n_0), got shape {X.shape}.")
    m, n0 = X.shape
    if Y.shape != (m, n_out):
        raise SpecError(f"{where}: targets must have shape (n_inputs, n_out) = {(m, n_out)}, got {Y.shape}.")
    sig, _ = activation_fns(act)
    chunk = min(chunk, n_nets)
    rows = {k: [] for k in ("diag", "off", "plus", "minus")}
    for n in widths:
        sizes = (n0,) + (n,) * (depth - 1) + (n_out,)
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        per = 8 * (6 * n_params + 3 * n_out * m * n_params)  # params, grads, 3 steps; 3 Jacobians live
        if per * chunk > _MAX_BYTES:
            fit = _MAX_BYTES // per
            raise SpecError(f"{where}: chunk={chunk} networks of width {n} need about {per * chunk / 2**30:.2f} GiB "
                            f"({per / 2**20:.1f} MiB each), over the 2 GiB allowed; pass "
                            + (f"chunk <= {fit}." if fit >= 1 else "a smaller width, depth or n_out."))
        run = jax.jit(jax.vmap(lambda k, sizes=sizes: _one_network(k, X, Y, sizes, sig, C_W, C_b, lambda_W, lambda_b, eta)))
        keys = jax.random.split(jax.random.fold_in(key, n), n_nets)
        parts = []
        for start in range(0, n_nets, chunk):
            kc = keys[start:start + chunk]
            if kc.shape[0] < chunk:
                kc = jnp.concatenate([kc, keys[: chunk - kc.shape[0]]])
            parts.append([np.asarray(o)[: min(chunk, n_nets - start)] for o in run(kc)])
        for name, arr in zip(rows, (np.concatenate([p[i] for p in parts]) for i in range(4))):
            if not np.all(np.isfinite(arr)):
                raise SpecError(f"{where}: non-finite NTK change at width {n} (activation {act.name} overflowed); "
                                "lower C_W, C_b, eta or the input scale.")
            rows[name].append(_mean(arr))
    stack = {k: Estimate(np.stack([e.value for e in v]), np.stack([e.stderr for e in v])) for k, v in rows.items()}
    scaled = ntk_step_prediction(act, np.asarray(X), depth=depth, n_out=n_out, C_W=C_W, C_b=C_b,
                                 lambda_W=lambda_W, lambda_b=lambda_b)
    ns = np.asarray(widths, dtype=float)[:, None, None]
    extrap = None
    if len(widths) >= 2:
        b0, se0, _ = fit_intercept(1.0 / ns, ns * stack["diag"].value, ns * stack["diag"].stderr)
        extrap = Estimate(b0, se0)
    return NTKStepChange(eta=float(eta), widths=widths, n_out=n_out, n_nets=n_nets, diag=stack["diag"],
                         offdiag=stack["off"], plus=stack["plus"], minus=stack["minus"],
                         prediction=scaled[None] / ns, scaled_prediction=scaled, extrapolated=extrap)


# --------------------------------------------------------------------------- the trained ensemble's mean at 1/n


#: the measured parts of the 1/n correction (module docstring of :mod:`nntheory.numerics.finite_width._training`)
TRAINED_PARTS = ("first order", "NTK variance", "moving NTK", "trained")
#: parts below this fraction of max |m0|, in theory and measurement, are reported but not tested (converged inputs)
VANISHING = 1e-6


@dataclass(frozen=True)
class TrainedEnsembleMean:
    """Measured ``1/n`` parts of the mean prediction of trained ensembles against :func:`trained_mean_prediction`.

    Per network (a pair: the network and its sign-flipped twin; ``H0`` its empirical output NTK on all inputs,
    ``lin(H)`` the prediction of the model linearised with NTK ``H`` from ``z0 = 0``, ``Theta`` the infinite-width NTK,
    ``Lmat = d lin / dH`` at ``Theta``):

    * ``"first order"`` = ``Lmat . (H0 - Theta)``: mean ``Theta1 / n`` part; noise ``O(1/sqrt n)``, the weakest test;
    * ``"NTK variance"`` = ``lin(H0) - lin(Theta) - Lmat . (H0 - Theta)``: mean ``(A, B) / n`` part; noise ``O(1/n)``;
    * ``"moving NTK"`` = trained - ``lin(H0)`` (the pair mean of the linearised model is exactly ``lin(H0)``): mean
      ``(P, Q, R, S, T, U) / n`` part; noise ``O(1/n)``;
    * ``"trained"`` = trained - ``m0``: their sum, the whole ``1/n`` correction.

    ``means[part]``: per-width :class:`Estimate` of arrays ``(len(widths), n_inputs, n_out)``; ``c1[part]``: the
    intercept of ``n * mean`` fitted linearly in ``1/n`` (weighted least squares) with its standard error;
    ``predicted[part]``: the theory's ``1/n`` coefficient; ``chi2[part]``: the chi-squared of each fit (``len(widths) -
    2`` degrees of freedom; a large one flags an ``O(1/n^2)`` remainder the line does not absorb: drop the narrowest
    width); ``z()`` the standardized differences.
    """

    widths: tuple[int, ...]
    n_nets: int
    prediction: object
    means: dict
    c1: dict
    predicted: dict
    chi2: dict

    def z(self) -> dict:
        """``(c1 - predicted) / se`` per part, arrays ``(n_inputs, n_out)``."""
        return {k: (self.c1[k].value - self.predicted[k]) / self.c1[k].stderr for k in TRAINED_PARTS}

    def rows(self) -> list[dict]:
        """One row per part, input and output: theory, measured intercept, its standard error, ``z``, the power
        (``resolved``: ``se < |theory|/4``, else the check cannot resolve a 100% error at 4 SE) and ``tested``.

        A row is not tested (``tested = False``) where the theory and the measurement (plus 4 SE) are both below
        :data:`VANISHING` times the largest ``|m0|``: a training input trained to convergence, whose mean is the target
        to that precision. There the fixed-order expansion is not the right measure: its ``O(1/n^2)`` remainder is not
        uniform in the number of steps (terms ``~ (T eta Delta H)^k (1 - eta Theta)^(T-k)``), and both numbers are zero
        for every practical purpose."""
        z = self.z()
        floor = VANISHING * float(np.abs(self.prediction.m0).max())
        out = []
        for k in TRAINED_PARTS:
            for a, i in np.ndindex(self.predicted[k].shape):
                th, se = float(self.predicted[k][a, i]), float(self.c1[k].stderr[a, i])
                meas = float(self.c1[k].value[a, i])
                out.append({"part": k, "input": a, "output": i, "theory": th, "measured": meas,
                            "stderr": se, "z": float(z[k][a, i]), "chi2": float(self.chi2[k][a, i]),
                            "resolved": bool(se < 0.25 * abs(th)),
                            "tested": bool(max(abs(th), abs(meas) + 4 * se) >= floor)})
        return out

    def table(self) -> str:
        """Plain-text table of :meth:`rows` (``m0`` per input and output first)."""
        p = self.prediction
        lines = [f"widths {list(self.widths)}, {self.n_nets} network pairs per width; {p.steps} steps of eta={p.eta:.4g}; "
                 f"inputs 0..{p.n_train - 1} trained on; n (E[z_T] - m0) extrapolated in 1/n:",
                 "m0 (infinite width): " + "; ".join(f"input {a} output {i}: {p.m0[a, i]:+.6g}"
                                                    for a, i in np.ndindex(p.m0.shape)),
                 f"{'part':>13} {'in':>3} {'out':>3} {'theory':>12} {'measured':>12} {'stderr':>10} {'z':>7} "
                 f"{'chi2':>6}  power (fit chi2: {len(self.widths) - 2} degrees of freedom)"]
        for r in self.rows():
            power = ("vanishing: not tested" if not r["tested"] else "ok" if r["resolved"]
                     else "too little (se > |theory|/4)")
            lines.append(f"{r['part']:>13} {r['input']:>3} {r['output']:>3} {r['theory']:>+12.5g} {r['measured']:>+12.5g} "
                         f"{r['stderr']:>10.3g} {r['z']:>+7.2f} {r['chi2']:>6.1f}  {power}")
        return "\n".join(lines)

    def plot_png(self) -> bytes:
        """One panel per part: ``n (mean - m0)`` per width against ``1/n`` (error bars), the fitted intercept and the
        theory's ``1/n`` coefficient, at every test input (inputs from ``n_train`` on; the training inputs if none).

        Returns:
            PNG bytes.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        p = self.prediction
        m = p.m0.shape[0]
        shown = list(range(p.n_train, m)) or list(range(m))
        fig, axes = plt.subplots(1, len(TRAINED_PARTS), figsize=(4 * len(TRAINED_PARTS), 3.6))
        x = 1.0 / np.asarray(self.widths, dtype=float)
        for ax, k in zip(axes, TRAINED_PARTS):
            for c, (a, i) in enumerate((a, i) for a in shown for i in range(p.m0.shape[1])):
                y = np.asarray(self.widths) * self.means[k].value[:, a, i]
                e = np.asarray(self.widths) * self.means[k].stderr[:, a, i]
                ax.errorbar(x, y, yerr=e, fmt="o", ms=4, capsize=3, color=f"C{c}", label=f"input {a}, output {i}")
                ax.errorbar([0.0], [self.c1[k].value[a, i]], yerr=[self.c1[k].stderr[a, i]], fmt="s", ms=4, capsize=3,
                            color=f"C{c}", mfc="none")
                ax.plot([0.0], [self.predicted[k][a, i]], "*", ms=10, color=f"C{c}")
            ax.set_title(f"{k} (* theory, open: fit)", fontsize=9)
            ax.set_xlabel("1/n")
            ax.axhline(0.0, color="k", lw=0.5)
        axes[0].set_ylabel("n (E[z_T] - m0) part")
        axes[0].legend(fontsize=7)
        return png_bytes(fig, f"trained ensembles vs the 1/n theory: {p.steps} steps, eta={p.eta:.4g}")


def pair_bytes(sizes, n_inputs: int) -> int:
    """Working memory of one trained network pair with layer sizes ``sizes`` (params, grads, twins, the Jacobian)."""
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return 8 * (12 * n_params + 2 * sizes[-1] * n_inputs * n_params)


def _trained_pair(key, X, Y, mask, sizes, sig, C_W, C_b, lambda_W, lambda_b, eta, steps):
    """One initialisation and its sign-flipped twin (last layer negated), each trained ``steps`` GD steps: the pair
    mean of the trained predictions ``(m, n_out)`` and the empirical output NTK flattened as ``I = i * m + a``."""
    params = pdlt_mlp_params(key, sizes, C_W, C_b, X.dtype)
    flipped = params[:-1] + [(-params[-1][0], -params[-1][1])]
    s, m = sizes[-1], X.shape[0]

    def f(p):
        return mlp_forward(p, X, sig)[0][-1]  # (m, n_out)

    def loss(p):
        return 0.5 * jnp.sum(mask * (f(p) - Y) ** 2)

    def gd(p, _):
        g = jax.grad(loss)(p)
        return [(W - eta * lambda_W / W.shape[1] * gW, b - eta * lambda_b * gb) for (W, b), (gW, gb) in zip(p, g)], None

    def trained(p):
        return f(jax.lax.scan(gd, p, None, length=steps)[0])

    H = _ntk(params, X, sig, lambda_W, lambda_b)  # (s, s, m, m); the twin has the same NTK
    return 0.5 * (trained(params) + trained(flipped)), H.transpose(0, 2, 1, 3).reshape(s * m, s * m)


def trained_ensemble_mean(act: Activation, inputs: np.ndarray, targets: np.ndarray, *, n_train: int, depth: int,
                          widths, n_out: int, C_W: float, C_b: float, eta: float, steps: int, key: jax.Array,
                          n_nets: int, lambda_W: float = 1.0, lambda_b: float = 1.0,
                          chunk: int = 128, progress: bool = False) -> TrainedEnsembleMean:
    """Train ensembles ``steps`` steps of full-batch MSE gradient descent and compare the ``1/n`` correction of their
    mean prediction, part by part, with :func:`~nntheory.numerics.finite_width._training.trained_mean_prediction`.

    Each network is trained together with its sign-flipped twin (last layer negated). The expectation of the
    prediction is odd in the targets (flipping the last layer maps training on ``y`` to training on ``-y``), and the
    pair mean keeps exactly that odd part: the initial function, the dominant noise, drops out. The parts and their
    noise are listed in :class:`TrainedEnsembleMean`. Accuracy: ``O(1/n^2)`` per width, removed by the fit in ``1/n``
    (its chi-squared is not reported; at least three widths let the standard errors show a bad fit).

    Args:
        act: a smooth activation.
        inputs: ``(n_inputs, n_0)``; the first ``n_train`` rows are trained on.
        targets: ``(n_train, n_out)``.
        n_train, depth, n_out, C_W, C_b, eta, steps, lambda_W, lambda_b: as for the prediction.
        widths: hidden widths of the sweep (at least two, distinct).
        key: JAX random key; width ``w`` uses ``jax.random.fold_in(key, w)``.
        n_nets: network pairs per width (``>= 2``).
        chunk: pairs per compiled batch; with several JAX devices and ``chunk`` a multiple of their number, each batch
            is sharded over them (``jax.sharding``; the same keys give the same networks either way).
        progress: print the networks done per width to stderr.

    Returns:
        :class:`TrainedEnsembleMean`.

    Raises:
        SpecError: an argument out of range (named), float32 JAX, a chunk over 2 GiB of working memory, a non-finite
            prediction (a learning rate too large: training diverged).
    """
    from nntheory.numerics.finite_width._training import _dynamics, trained_mean_prediction

    where = "trained_ensemble_mean"
    require_float64(where)
    check_int(n_nets, "n_nets", lo=2, where=where)
    check_int(chunk, "chunk", lo=1, where=where)
    widths = tuple(widths)
    if len(widths) < 2 or len(set(widths)) != len(widths):
        raise SpecError(f"{where}: widths must be at least two distinct widths, got {widths}.")
    for w in widths:
        check_int(w, "widths", lo=2, hi=100_000, where=where)
    pred = trained_mean_prediction(act, inputs, targets, n_train=n_train, depth=depth, n_out=n_out, C_W=C_W, C_b=C_b,
                                   eta=eta, steps=steps, lambda_W=lambda_W, lambda_b=lambda_b)
    X = jnp.asarray(inputs, dtype=jnp.float64)
    m, n0 = X.shape
    s = n_out
    Yfull = np.zeros((m, s))
    Yfull[:n_train] = np.asarray(targets, dtype=float)
    mask = np.zeros((m, s))
    mask[:n_train] = 1.0
    # the linearised model in the theory's flattened layout I = i * m + a
    F = _dynamics(float(eta), int(steps), jnp.asarray(Yfull.T.ravel()), jnp.asarray(mask.T.ravel()))
    N = s * m
    zN, S0, D0 = jnp.zeros(N), jnp.zeros((N,) * 3), jnp.zeros((N,) * 4)

    def lin(H):
        return F(zN, H, S0, D0, D0)

    theta = jnp.asarray(np.kron(np.eye(s), pred.theta))
    m0 = lin(theta)
    Lmat = jax.jacrev(lin)(theta)  # (N, N, N)
    lin_batch = jax.jit(jax.vmap(lin))

    def to_grid(v):  # (..., N) flattened i * m + a -> (..., m, n_out)
        v = np.asarray(v)
        return np.swapaxes(v.reshape(v.shape[:-1] + (s, m)), -1, -2)

    Yj, maskj = jnp.asarray(Yfull), jnp.asarray(mask)
    sig, _ = activation_fns(act)
    chunk = min(chunk, n_nets)
    devices = jax.devices()
    sharding = None
    if len(devices) > 1 and chunk % len(devices) == 0:
        sharding = jax.sharding.NamedSharding(jax.sharding.Mesh(np.array(devices), ("nets",)),
                                              jax.sharding.PartitionSpec("nets"))
    rows = {k: [] for k in TRAINED_PARTS}
    for n in widths:
        sizes = (n0,) + (n,) * (depth - 1) + (n_out,)
        per = pair_bytes(sizes, m)
        if per > _MAX_BYTES:
            raise SpecError(f"{where}: widths: one network pair of width {n} needs about {per / 2**30:.2f} GiB, over the "
                            "2 GiB allowed per batch; use smaller widths.")
        n_chunk = max(1, min(chunk, _MAX_BYTES // per))  # the batch shrinks to fit the memory allowed
        if sharding is not None and n_chunk % len(devices):
            n_chunk = max(len(devices), n_chunk - n_chunk % len(devices))
        run = jax.jit(jax.vmap(lambda k, sizes=sizes: _trained_pair(k, X, Yj, maskj, sizes, sig, C_W, C_b, lambda_W,
                                                                     lambda_b, eta, steps)))
        keys = jax.random.split(jax.random.fold_in(key, n), n_nets)
        tr, hs = [], []
        for start in range(0, n_nets, n_chunk):
            kc = keys[start:start + n_chunk]
            if kc.shape[0] < n_chunk:
                pad = jnp.concatenate([keys] * (-(-n_chunk // n_nets)))  # repeats, dropped after the run
                kc = jnp.concatenate([kc, pad[: n_chunk - kc.shape[0]]])
            if sharding is not None and n_chunk % len(devices) == 0:
                kc = jax.device_put(kc, sharding)
            t, H = run(kc)
            keep = min(n_chunk, n_nets - start)
            tr.append(np.asarray(t)[:keep])
            hs.append(np.asarray(H)[:keep])
            if progress:
                print(f"\r  {act.name} n={n}: {start + keep}/{n_nets} network pairs", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        t, H = np.concatenate(tr), np.concatenate(hs)
        zl = np.asarray(lin_batch(jnp.asarray(H)))
        first = np.einsum("oIJ,nIJ->no", np.asarray(Lmat), H - np.asarray(theta)[None])
        parts = {"first order": first, "NTK variance": zl - np.asarray(m0)[None] - first,
                 "moving NTK": t - to_grid(zl), "trained": t - to_grid(m0)[None]}
        for name in ("first order", "NTK variance"):
            parts[name] = to_grid(parts[name])
        for name, arr in parts.items():
            if not np.all(np.isfinite(arr)):
                raise SpecError(f"{where}: non-finite predictions at width {n}: training diverged; lower eta.")
            rows[name].append(_mean(arr))
    means = {k: Estimate(np.stack([e.value for e in v]), np.stack([e.stderr for e in v])) for k, v in rows.items()}
    ns = np.asarray(widths, dtype=float)[:, None, None]
    # a part that is identical over networks (a converged input: rounding only) has standard error 0; floor it at
    # rounding so that the fit stays defined
    floor = 1e-15 * max(float(np.abs(pred.m0).max()), 1e-300)
    c1, chi2 = {}, {}
    for name in TRAINED_PARTS:
        b0, se0, x2 = fit_intercept(1.0 / ns, ns * means[name].value, ns * np.maximum(means[name].stderr, floor))
        c1[name], chi2[name] = Estimate(b0, se0), x2
    predicted = {"first order": pred.parts["Theta1"], "NTK variance": pred.parts["NTK variance"],
                 "moving NTK": pred.moving, "trained": pred.m1}
    return TrainedEnsembleMean(widths=widths, n_nets=n_nets, prediction=pred, means=means, c1=c1, predicted=predicted,
                               chi2=chi2)
