r"""Quantization-aware training (QAT) of the quantized MLPs of :mod:`nntheory.numerics.fixed_point._qnet`, in JAX.

The training forward pass is the float twin of the deployed network with *fake quantisation* at the points
where hls4ml casts: the input, every weight and bias, every dense result and activation result. A fake
quantiser returns the represented value :math:`q(x)` (the bit-exact :func:`quantize_codes`) and, backwards,
the straight-through estimator clipped to the type's range: :math:`\partial q/\partial x = 1` inside
:math:`[\min, \max]`, 0 outside (gradients do not push a saturated value further out). Weights are
projected back into their type's range after each step, so ``AP_WRAP`` weight types never wrap. What
training does not model, and the deployed net does: accumulator overflow and rounding (choose ``accum`` wide
enough, e.g. from :func:`nntheory.numerics.quantized_theory`'s safe widths), the tanh/sigmoid tables and the softmax
tables; the cross-entropy is taken on the float softmax of the quantised logits.

After training the parameters are exactly on their grids, :meth:`QATResult.param_codes` are their codes,
and the emulator (:meth:`QuantizedMLP.predict`) and hls4ml (:meth:`QuantizedMLP.to_hls4ml`) run the same net.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.numerics.fixed_point._fixed import FixedType, code_values, quantize_codes
from nntheory.numerics.fixed_point._float_activations import float_activation
from nntheory.numerics.fixed_point._qnet import QDense, QuantizedMLP

__all__ = ["QATResult", "digits_net", "digits_pixels", "fake_quant", "qat_forward", "train_qat"]


def fake_quant(x, t: FixedType):
    """The value of ``x`` in type ``t``, with the clipped straight-through gradient.

    Args:
        x: a JAX array (any shape).
        t: the fixed-point type.

    Returns:
        A JAX array of ``x``'s shape holding the values ``t`` represents for ``x`` (rounded and overflowed as
        ``t`` does); its gradient is 1 where ``x`` lies in ``[t.min_value, t.max_value]`` and 0 outside.
    """
    import jax
    import jax.numpy as jnp

    q = code_values(quantize_codes(x, t), t)
    xc = jnp.clip(x, t.min_value, t.max_value)
    return xc + jax.lax.stop_gradient(q - xc)


def qat_forward(net: QuantizedMLP, params, x, *, quantize: bool = True):
    """Logits (the last dense layer's result) of the training forward pass; ``quantize=False``: the float twin.

    Args:
        net: the quantized network.
        params: ``(W, b)`` per dense layer.
        x: the inputs, shape ``(batch, n_in)`` (cast to float64).
        quantize: fake-quantise the input, parameters and results (default), or run the float twin.

    Returns:
        The logits, a JAX array of shape ``(batch, n_out)``: the last dense layer's result, before any
        softmax.
    """
    import jax.numpy as jnp

    fq = fake_quant if quantize else (lambda v, t: v)
    h = fq(jnp.asarray(x, jnp.float64), net.input_type)
    it = iter(params)
    for layer in net.layers:
        if isinstance(layer, QDense):
            W, b = next(it)
            h = fq(h @ fq(W, layer.weight) + fq(b, layer.bias), layer.result)
        elif layer.kind == "softmax":
            break
        else:
            h = fq(float_activation(layer.kind)(h), layer.result)
    return h


@dataclass(frozen=True)
class QATResult:
    """The outcome of :func:`train_qat`: the ``net``, its trained ``params`` (float64 ``(W, b)``, on their grids after
    QAT), the loss of every step and the accuracy on the training set; :attr:`param_codes` are the parameters' codes."""

    net: QuantizedMLP
    params: list = field(repr=False)  # float64 (W, b) on their grids
    losses: np.ndarray = field(repr=False)
    train_accuracy: float = 0.0

    @property
    def param_codes(self):
        """Returns: the codes of :attr:`params` (``(W codes, b codes)`` per dense layer)."""
        return self.net.quantize_params(self.params)


def _init(net: QuantizedMLP, key):
    import jax

    params = []
    for ni, no in net.shapes():
        key, k = jax.random.split(key)
        params.append((jax.random.normal(k, (ni, no)) / np.sqrt(ni), np.zeros(no)))
    return params


def _project(net: QuantizedMLP, params):
    import jax.numpy as jnp

    out = []
    for (W, b), li in zip(params, net.dense_layers):
        lw, lb = net.layers[li].weight, net.layers[li].bias
        out.append((jnp.clip(W, lw.min_value, lw.max_value), jnp.clip(b, lb.min_value, lb.max_value)))
    return out


def _check_qat_args(net: QuantizedMLP, X, y, steps, batch, learning_rate):
    """Validates the arguments of :func:`train_qat`; returns ``(X, y, steps, batch)``."""
    X, y = np.asarray(X, np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != net.n_in:
        raise SpecError(f"train_qat: X must have shape [n, {net.n_in}], got {X.shape}.")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= net.n_out:
        raise SpecError(f"train_qat: y must be {X.shape[0]} integer labels in [0, {net.n_out}).")
    steps = check_int(steps, "steps", lo=1, where="train_qat")
    batch = check_int(batch, "batch", lo=1, where="train_qat")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise SpecError(f"train_qat: learning_rate must be positive, got {learning_rate!r}.")
    return X, y, steps, batch


def _adam_step(net: QuantizedMLP, opt, X, y, batch: int, quantize: bool):
    """The jitted step ``(params, opt state, key) -> (params, opt state, loss)`` on a random minibatch."""
    import jax
    import jax.numpy as jnp
    import optax

    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(p, xb, yb):
        logits = qat_forward(net, p, xb, quantize=quantize)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(p, s, k):
        idx = jax.random.choice(k, X.shape[0], (min(batch, X.shape[0]),), replace=False)
        l, g = jax.value_and_grad(loss_fn)(p, Xj[idx], yj[idx])
        u, s = opt.update(g, s, p)
        p = optax.apply_updates(p, u)
        return (_project(net, p) if quantize else p), s, l

    return step


def train_qat(net: QuantizedMLP, X, y, *, steps: int = 600, learning_rate: float = 3e-3, batch: int = 256, seed: int = 0,
              quantize: bool = True, progress=None, key=None) -> QATResult:
    """Adam on the cross-entropy of ``qat_forward`` (minibatches of ``batch``); labels ``y`` in ``[0, n_out)``.

    ``quantize=False`` trains the float twin (same architecture, no fake quantisation); its parameters are then
    not on the grids (quantise them with :meth:`QuantizedMLP.quantize_params` for post-training quantisation).

    Args:
        net: the network to train.
        X, y: inputs ``[n, n_in]`` and integer labels ``[n]``.
        steps, learning_rate, batch: Adam's steps, step size and minibatch size.
        seed: the seed of the JAX random key (initialisation and minibatches), used when ``key`` is None.
        quantize: train with fake quantisation (QAT) or the float twin.
        progress: called as ``progress(step, steps, loss)`` ten times during training, or None.
        key: the JAX random key (default: ``jax.random.key(seed)``).
    Returns:
        The :class:`QATResult`.
    Raises:
        SpecError: for inputs or labels of the wrong shape, or bad hyperparameters.
    """
    import jax
    import optax

    X, y, steps, batch = _check_qat_args(net, X, y, steps, batch, learning_rate)
    key = jax.random.key(seed) if key is None else key
    key, k0 = jax.random.split(key)
    params = _init(net, k0)
    opt = optax.adam(learning_rate)
    state = opt.init(params)
    step = _adam_step(net, opt, X, y, batch, quantize)
    losses = np.empty(steps)
    for i in range(steps):
        key, k = jax.random.split(key)
        params, state, l = step(params, state, k)
        losses[i] = float(l)
        if progress is not None and (i + 1) % max(1, steps // 10) == 0:
            progress(i + 1, steps, losses[i])
    if quantize:  # exactly on the grids: the values the deployed net holds
        params = net.param_values(net.quantize_params([(np.asarray(W), np.asarray(b)) for W, b in params]))
    else:
        params = [(np.asarray(W), np.asarray(b)) for W, b in params]
    acc = float(np.mean(np.argmax(np.asarray(qat_forward(net, params, X, quantize=quantize)), axis=1) == y))
    return QATResult(net, params, losses, acc)


def digits_pixels(seed: int = 0, test_fraction: float = 0.3):
    """scikit-learn's bundled 8x8 digits (nothing downloaded) as fixed-point inputs: raw pixels / 16 (exact in 4 fractional bits),
    split at random: ``(X_train, y_train, X_test, y_test)``.

    Args:
        seed: the seed of the random split.
        test_fraction: the fraction of the 1797 images held out for testing.

    Returns:
        ``(X_train, y_train, X_test, y_test)``: float64 pixels of shape ``(n, 64)`` in ``[0, 1]`` and int64
        labels 0-9 of shape ``(n,)``.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data / 16.0, d.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return X[tr], y[tr], X[te], y[te]


def digits_net() -> QuantizedMLP:
    """The acceptance network: 64 -> 32 (relu) -> 16 (tanh table) -> 10 (softmax tables), heterogeneous precisions.

    Returns:
        A new :class:`~nntheory.numerics.QuantizedMLP` with 64 inputs and 10 outputs.
    """
    from nntheory.numerics.fixed_point._qnet import quantized_mlp

    return quantized_mlp(
        64, [32, 16, 10], input_precision="ap_ufixed<5,1>",
        weight=["ap_fixed<6,1,AP_RND_CONV,AP_SAT>", "ap_fixed<5,1,AP_RND,AP_SAT>", "ap_fixed<8,2,AP_RND,AP_SAT>"],
        bias=["ap_fixed<8,3>", "ap_fixed<8,3>", "ap_fixed<8,3>"],
        accum=["ap_fixed<16,6>", "ap_fixed<18,7>", "ap_fixed<16,6>"],
        result=["ap_fixed<12,5,AP_RND,AP_SAT>", "ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<12,5,AP_RND,AP_SAT>"],
        activations=["relu", "tanh", None],
        activation_result=["ap_ufixed<8,4,AP_RND,AP_SAT>", "ap_fixed<8,1,AP_RND,AP_SAT>", None],
        table=[None, "ap_fixed<12,2,AP_RND,AP_SAT>", None],
        softmax=dict(result="ap_ufixed<10,0,AP_RND,AP_SAT>", exp_table="ap_fixed<16,6,AP_RND,AP_SAT>",
                     inv_table="ap_fixed<16,6,AP_RND,AP_SAT>", accum="ap_fixed<16,6,AP_RND,AP_SAT>"))
