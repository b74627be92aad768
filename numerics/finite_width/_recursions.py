r"""Compiled finite-width recursions: one ``lax.scan`` over layers.

``compile_recursion(rec)`` turns a symbolic :class:`~nntheory.theory.Recursion` into a jit-able
function ``(gram, C_W, C_b, lambda_W, lambda_b, ratios) -> {name: array (depth, ...)}``; it is
differentiable in the hyperparameters and vmappable over them and over Gram matrices.
:func:`pairwise_statistics` runs the two-input recursion over all pairs of many inputs (the
two-input subsystem ``{K, Theta, K1, V}`` restricted to inputs ``a, b`` is closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import sympy

from nntheory._checks import check_int, check_real
from nntheory.errors import KernelError, SpecError
from nntheory.numerics._compile import compile_expr
from nntheory.numerics._inputs import gram_matrix
from nntheory.numerics._quadrature import K_MAX, K_MIN, QuadratureConfig
from nntheory.theory.finite_width._recursions import HYPER, Recursion, finite_width_recursion, r

__all__ = ["CompiledRecursion", "compile_recursion", "pairwise_statistics"]


def _unique(arr: sympy.Array) -> tuple[list, np.ndarray]:
    """Distinct entries of a symbol array and, for each position, the index of its entry."""
    flat = list(sympy.flatten(arr.tolist()))
    uniq: list = []
    pos = {}
    index = []
    for s in flat:
        if s not in pos:
            pos[s] = len(uniq)
            uniq.append(s)
        index.append(pos[s])
    return uniq, np.asarray(index, dtype=np.int32).reshape(arr.shape)


@dataclass(frozen=True)
class CompiledRecursion:
    """The compiled form of a :class:`Recursion`; call it like the symbolic ``iterate``."""

    recursion: Recursion
    _step: Callable
    _init: Callable
    _layout: tuple  # (name, start, stop, index array) per statistic

    def __call__(
        self,
        gram: jax.Array,
        *,
        depth: int,
        C_W: float,
        C_b: float,
        lambda_W: float = 1.0,
        lambda_b: float = 1.0,
        ratios: jax.Array | None = None,
    ) -> dict[str, jax.Array]:
        """Per-layer statistics, arrays of shape ``(depth, ...)``; ``ratios[l-1] = n_l/n_{l-1}`` for ``l = 1..depth-1``.

        Concrete arguments are checked before anything runs (traced ones, under ``jax.grad`` or ``jit``,
        are the caller's responsibility).

        Every output is finite: with concrete arguments a NaN or infinity (an overflow, or a kernel value
        outside the range where the quadrature's stated accuracy holds) raises an error naming the first
        layer and statistic where it appears. Under ``jit``/``grad`` such entries stay NaN.

        Raises:
            SpecError: depth not an integer in ``[1, MAX_DEPTH]`` or beyond the memory limit, ``C_W <= 0``,
                ``C_b < 0`` or a negative learning-rate factor.
            KernelError: a Gram matrix that is not finite, symmetric and positive definite; a statistic
                that is not finite at some layer (overflow, or a kernel outside the quadrature's range).
        """
        _check_arguments(self, gram, depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W, lambda_b=lambda_b)
        if ratios is not None and getattr(self.recursion, "init", "gaussian") == "orthogonal":
            if isinstance(ratios, jax.core.Tracer) or not np.all(np.asarray(ratios) == 1):
                raise SpecError("compiled recursion: ratios: orthogonal weights need square hidden layers "
                                "(n_l = n_{l-1}, every ratio 1); leave ratios=None.")
        out = _run(self, jnp.asarray(gram), depth, C_W, C_b, lambda_W, lambda_b, ratios)
        check_finite(out, where="compiled recursion")
        return out


#: largest depth a compiled recursion runs (the per-layer outputs are kept)
MAX_DEPTH = 100_000
#: largest memory the per-layer outputs may take
MAX_OUTPUT_BYTES = 2 * 1024**3


def check_finite(out: dict[str, jax.Array], *, where: str, layer_axis: int = 0) -> None:
    """Raise a :class:`KernelError` naming the first layer (1-based) and statistic that is not finite.

    Args:
        out: per-layer statistics, layers along ``layer_axis``; traced arrays are not checked.
        where: the caller, for the message.
        layer_axis: the axis that counts layers.

    Returns:
        None.

    Raises:
        KernelError: if an entry is NaN or infinite.
    """
    first = None
    for name, arr in out.items():
        if isinstance(arr, jax.core.Tracer):
            return
        bad = ~np.isfinite(np.asarray(arr))
        if bad.any():
            per_layer = np.moveaxis(bad, layer_axis, 0).reshape(bad.shape[layer_axis], -1).any(axis=1)
            layer = int(np.argmax(per_layer)) + 1
            if first is None or layer < first[0]:
                first = (layer, name)
    if first is not None:
        layer, name = first
        raise KernelError(
            f"{where}: statistic {name} is not finite at layer {layer} (an overflow, or a kernel value outside "
            f"the range [{K_MIN:g}, {K_MAX:g}] where Gaussian expectations are computed to their stated accuracy; "
            "see nntheory.numerics._quadrature). Use fewer layers, or C_W, C_b and inputs that keep the kernel "
            "in range."
        )


def _check_arguments(comp, gram, depth, **hyper) -> None:
    where = "compiled recursion"
    depth = check_int(depth, "depth", lo=1, hi=MAX_DEPTH, where=where)
    for name, value in hyper.items():
        if not isinstance(value, jax.core.Tracer):
            check_real(value, name, lo=0, lo_open=name == "C_W", where=where)
    if not isinstance(gram, jax.core.Tracer):
        gram_matrix(np.asarray(gram), name=f"{where}: gram", rtol=1e-10)
    m = comp.recursion.n_inputs
    size = depth * sum(m ** len(s.symbols.shape) for s in comp.recursion.statistics) * 8
    if size > MAX_OUTPUT_BYTES:
        raise SpecError(f"{where}: depth={depth} with {m} inputs needs {size / 1024**3:.1f} GiB for the per-layer "
                        f"outputs (limit {MAX_OUTPUT_BYTES / 1024**3:.0f} GiB); use fewer layers or inputs.")


@partial(jax.jit, static_argnums=(0, 2))
def _run(comp, gram, depth, C_W, C_b, lambda_W, lambda_b, ratios):
    dt = gram.dtype if jnp.issubdtype(gram.dtype, jnp.floating) else jnp.result_type(float)
    hyper = tuple(jnp.asarray(h, dt) for h in (C_W, C_b, lambda_W, lambda_b))
    m = comp.recursion.n_inputs
    iu = np.triu_indices(m)
    state0 = comp._init(*jnp.asarray(gram, dt)[iu], *hyper)
    if ratios is None:
        ratios = jnp.ones((max(depth - 1, 0),), dt)
    ratios = jnp.asarray(ratios, dt).at[0].set(1.0) if depth > 1 else jnp.zeros((0,), dt)

    def body(state, ratio):
        nxt = comp._step(*state, *hyper, ratio)
        return nxt, nxt

    _, rest = jax.lax.scan(body, state0, ratios)
    traj = jnp.concatenate([state0[None], rest], axis=0)
    return {name: traj[:, start:stop][:, idx] for name, start, stop, idx in comp._layout}


def compile_recursion(rec: Recursion, *, quadrature: QuadratureConfig = QuadratureConfig()) -> CompiledRecursion:
    """Compile every statistic of ``rec`` through :func:`compile_expr` (one seam).

    Args:
        rec: the symbolic recursion (e.g. from :func:`~nntheory.theory.finite_width_recursion`).
        quadrature: the quadrature rule and orders for expectations without a closed form.

    Returns:
        A :class:`CompiledRecursion`; ``comp(gram, depth=..., C_W=..., C_b=...)`` gives a dict
        ``{statistic name: JAX array of shape (depth, *statistic.symbols.shape)}``.
    """
    state_syms, updates, inits, layout = [], [], [], []
    X_syms = [rec.gram[a, b] for a, b in zip(*np.triu_indices(rec.n_inputs))]
    for s in rec.statistics:
        uniq, idx = _unique(s.symbols)
        first = {}
        upd_flat = list(sympy.flatten(s.update.tolist()))
        ini_flat = list(sympy.flatten(s.initial.tolist()))
        flat_idx = idx.ravel()
        for j, u in enumerate(flat_idx):
            first.setdefault(int(u), j)
        start = len(state_syms)
        state_syms += uniq
        updates += [upd_flat[first[u]] for u in range(len(uniq))]
        inits += [ini_flat[first[u]] for u in range(len(uniq))]
        layout.append((s.name, start, len(state_syms), idx - 0))
    step_fn = compile_expr(updates, [*state_syms, *HYPER, r], quadrature=quadrature)
    init_fn = compile_expr(inits, [*X_syms, *HYPER], quadrature=quadrature)

    def step(*args):
        return step_fn(*args)

    def init(*args):
        return init_fn(*args)

    return CompiledRecursion(rec, step, init, tuple(layout))


def _hash_key(self):  # CompiledRecursion is a static jit argument: identity semantics
    return id(self)


CompiledRecursion.__hash__ = _hash_key  # type: ignore[assignment]
CompiledRecursion.__eq__ = lambda a, b: a is b  # type: ignore[assignment]


def pairwise_statistics(
    act, gram: jax.Array, *, depth: int, C_W: float, C_b: float, lambda_W: float = 1.0, lambda_b: float = 1.0,
    ratios: jax.Array | None = None, quadrature: QuadratureConfig = QuadratureConfig(), chunk: int = 65536,
) -> dict[str, jax.Array]:
    """Statistics of ``N`` inputs: ``K`` and ``Theta`` for all pairs ``(depth, N, N)``, ``V`` and ``K1``
    per input ``(depth, N)`` (``V_{(aa)(aa)}``, ``K1_{aa}``).

    The ``{K, Theta}`` two-input recursion is closed, compiled once and mapped over the pairs
    ``a < b`` in chunks of ``chunk`` pairs (memory stays bounded); the per-input statistics come from
    the single-input recursion mapped over the diagonal.

    Args:
        act: the activation.
        gram: the ``(N, N)`` Gram matrix of the inputs.
        depth, C_W, C_b, lambda_W, lambda_b, ratios: as for :class:`CompiledRecursion`.
        quadrature: the quadrature rule and orders for expectations without a closed form.
        chunk: the number of pairs mapped at once.

    Returns:
        A dict of JAX arrays: ``"K"`` and ``"Theta"`` of shape ``(depth, N, N)`` (symmetric), ``"V"`` and
        ``"K1"`` of shape ``(depth, N)``.

    Raises:
        KernelError: a statistic that is not finite at some layer (overflow, or a kernel value outside the
            quadrature's supported range), naming the layer and the statistic.
    """
    gram = jnp.asarray(gram)
    N = gram.shape[0]
    one = compile_recursion(finite_width_recursion(act, 1), quadrature=quadrature)
    two = compile_recursion(finite_width_recursion(act, 2).restrict(("K", "Theta")), quadrature=quadrature)
    kw = dict(depth=depth, C_W=C_W, C_b=C_b, lambda_W=lambda_W, lambda_b=lambda_b, ratios=ratios)
    diag = jax.jit(jax.vmap(lambda g: one(g.reshape(1, 1), **kw)))(jnp.diag(gram))
    out = {"V": diag["V"][:, :, 0, 0, 0, 0].T, "K1": diag["K1"][:, :, 0, 0].T}
    d = jnp.arange(N)
    ia, ib = np.triu_indices(N, 1)
    run2 = jax.jit(jax.vmap(lambda g: two(g, **kw)))
    for n in ("K", "Theta"):
        out[n] = jnp.zeros((depth, N, N), gram.dtype).at[:, d, d].set(diag[n][:, :, 0, 0].T)
    for s in range(0, len(ia), chunk):
        a, b = ia[s : s + chunk], ib[s : s + chunk]
        sub = jnp.stack([jnp.stack([gram[a, a], gram[a, b]], -1), jnp.stack([gram[a, b], gram[b, b]], -1)], -2)
        res = run2(sub)
        for n in ("K", "Theta"):
            v = jnp.moveaxis(res[n][:, :, 0, 1], 0, 1)
            out[n] = out[n].at[:, a, b].set(v).at[:, b, a].set(v)
    check_finite(out, where="pairwise_statistics")
    return out
