r"""Experiments: trained ensembles against NTK theory (training dynamics) and emergent equivariance.

Networks are MLPs, CNNs or C4 GCNNs (:mod:`~nntheory.validation.kernels._architectures`), trained on the
digits (:func:`~nntheory.validation.kernels._digits.digits_data`) by the loops of
:mod:`~nntheory.validation.kernels._training`, with the learning rate :math:`\eta = \mathrm{size}(Y)/\lambda_{\max}(\Theta)`
(fast and stable for the mean-normalised loss).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import jax
import numpy as np

from nntheory._checks import check_int
from nntheory.errors import SpecError
from nntheory.numerics.kernels._groups import FiniteGroup, image_rotations
from nntheory.numerics.kernels._predict import ntk_predict
from nntheory.validation.kernels._architectures import trained_spec
from nntheory.validation.kernels._digits import digits_data
from nntheory.validation.kernels._training import _resolve_n_nets, invariance_errors, ntk_distance, train_ensemble

__all__ = ["EquivarianceResult", "TrainingResult", "validate_equivariance", "validate_training"]

_DIGITS = "sklearn digits 8x8, 10 centred one-hot outputs"


@dataclass(frozen=True)
class TrainingResult:
    """Outcome of :func:`validate_training`: its ``settings`` and one :func:`ntk_distance` dict per width."""

    settings: dict
    rows: list  # one dict per width (ntk_distance output)

    @property
    def passed(self) -> bool:
        """At the final step the distance falls from width to width, and from the narrowest to the widest
        by more than 3 combined standard errors."""
        d = [r["distance"][-1] for r in self.rows]
        se = [r["distance_se"][-1] for r in self.rows]
        monotone = all(d[i + 1] < d[i] for i in range(len(d) - 1))
        return bool(monotone and d[0] - d[-1] > 3 * np.hypot(se[0], se[-1]))


def validate_training(
    *, activation="erf", widths=(64, 256, 1024), depth: int = 2, n_nets: int | None = None, n_train: int = 64,
    n_test: int = 64, steps: int = 200, every: int = 20, C_W: float = 1.5**2, C_b: float = 0.1**2, seed: int = 0,
    arch: str = "mlp", progress: bool = False, n_members: int | None = None,
) -> TrainingResult:
    """Ensembles of trained networks (``arch``: MLPs, CNNs or C4 GCNNs; digits, 10 outputs) against the NTK
    prediction over a width sweep (channels for the convolutional nets).

    Args:
        depth: layers with weights, the read-out included (``depth - 1`` hidden layers), as in :class:`TrainedMLPSpec`.
        C_W, C_b: weight and bias variances of the NTK parameterisation (neural-tangents' ``W_std**2``, ``b_std**2``).
        n_nets: networks per width (default 32; ``n_members`` is its former name).
        widths: at least three widths; the other arguments as in :func:`train_ensemble` and :func:`digits_data`.

    Returns:
        :class:`TrainingResult`.
    """
    n_nets = 32 if n_nets is None and n_members is None else _resolve_n_nets(n_nets, n_members, "validate_training")
    if len(widths) < 3:
        raise SpecError(f"validate_training: need at least 3 widths, got {widths}.")
    xtr, ytr, xte, _ = digits_data(n_train, n_test, seed=seed)
    spec0 = trained_spec(arch, activation, depth, widths[0], C_W, C_b, ytr.shape[1])
    lam_max = float(np.linalg.eigvalsh(np.asarray(spec0.kernel()(xtr).ntk))[-1])
    lr = ytr.size / lam_max  # eta' lambda_max = 1: fast and stable
    rows = []
    for i, w in enumerate(widths):
        spec = trained_spec(arch, activation, depth, int(w), C_W, C_b, ytr.shape[1])
        ens = train_ensemble(spec, xtr, ytr, {"train": xtr, "test": xte}, n_nets=n_nets, steps=steps, every=every,
                             learning_rate=lr, key=jax.random.fold_in(jax.random.key(seed), i), progress=progress)
        rows.append(ntk_distance(ens, xtr, ytr, xte))
    settings = {"activation": spec0.activation.name, "arch": arch, "widths": list(map(int, widths)), "depth": depth, "n_members": n_nets,
                "n_train": n_train, "n_test": n_test, "steps": steps, "every": every, "C_W": C_W, "C_b": C_b,
                "learning_rate": lr, "seed": seed, "data": _DIGITS,
                "parameterisation": "NTK (neural-tangents), loss 1/(2 size(Y)) sum (f - y)^2, full-batch GD"}
    return TrainingResult(settings, rows)


@dataclass(frozen=True)
class EquivarianceResult:
    """Outcome of :func:`validate_equivariance`: ``rows[augmented|plain][train|test|noise]`` are
    :func:`invariance_errors` dicts plus ``member_error`` and ``prediction_rms``; ``theory`` the
    infinite-width invariance error per input set."""

    settings: dict
    rows: dict  # rows[augmented|plain][train|test|noise] -> invariance_errors(...) plus member error
    theory: dict  # infinite-width invariance error per input set

    @property
    def passed(self) -> bool:
        """The theory is invariant to round-off; with augmentation the ensemble error falls with ensemble
        size and ends far below the single networks' error."""
        ok = all(v < 1e-10 for v in self.theory["augmented"].values())
        for where, r in self.rows["augmented"].items():
            e, se = np.array(r["error"]), np.array(r["error_se"])
            ok &= bool(e[-1] + 2 * se[-1] < e[0] - 2 * se[0])  # falls with ensemble size
            ok &= bool(e[-1] < 0.5 * r["member_error"])  # far below the members' own error
        return ok


def _orbit_row(ens, G: FiniteGroup, n: str, sizes) -> dict:
    """Invariance errors of the ensemble on the orbits of the input set ``n`` at the last checkpoint."""
    orbit = np.stack([ens.preds[f"{n}/{g}"][:, -1] for g in range(G.order)], axis=1)  # (M, |G|, N, k)
    r = invariance_errors(orbit, sizes)
    r["member_error"] = float(np.mean(np.max(np.linalg.norm(orbit[:, 1:] - orbit[:, :1], axis=-1), axis=1)))
    r["prediction_rms"] = float(np.sqrt(np.mean(orbit.mean(0) ** 2)))
    return r


def _theory_invariance(kern, Ktt, X, Y, x, G: FiniteGroup, steps: int, lr: float) -> float:
    """The statistic of the ensembles for the infinite-width prediction: input average of max_g |mu(gx) - mu(x)|."""
    mu = [ntk_predict(Ktt, kern(G.act(g, x), X).ntk, Y, [steps], learning_rate=lr, method="gd").mean[0] for g in range(G.order)]
    return float(np.mean(np.max([np.linalg.norm(m - mu[0], axis=-1) for m in mu[1:]], axis=0)))


def validate_equivariance(
    *, activation="relu", width: int = 512, depth: int = 2, n_nets: int | None = None, n_train: int = 32, n_test: int = 32,
    n_noise: int = 32, steps: int = 100, sizes=(1, 2, 4, 8, 16), C_W: float = 1.4**2, C_b: float = 0.1**2, seed: int = 0,
    group: FiniteGroup | None = None, arch: str = "mlp", progress: bool = False, n_members: int | None = None,
) -> EquivarianceResult:
    """Deep ensembles (``arch`` ``"mlp"`` or ``"cnn"``) trained with and without full C4 augmentation of the
    digits (Gerken & Kessel 2024).

    Args:
        n_nets: networks per ensemble (default 64; ``n_members`` is its former name).
        depth: layers with weights, the read-out included; the other arguments as in :func:`validate_training`.

    Returns:
        :class:`EquivarianceResult`.
    """
    n_nets = 64 if n_nets is None and n_members is None else _resolve_n_nets(n_nets, n_members, "validate_equivariance")
    if arch not in ("mlp", "cnn"):
        raise SpecError(f"validate_equivariance: arch must be 'mlp' or 'cnn' (a GCNN is invariant by construction), got {arch!r}.")
    G = group or image_rotations(8, 8, 4)
    xtr, ytr, xte, _ = digits_data(n_train, n_test, seed=seed)
    noise = np.random.default_rng(seed + 1).normal(size=(check_int(n_noise, "n_noise", lo=1), xtr.shape[1]))
    noise /= np.sqrt(np.mean(noise**2, axis=1, keepdims=True))
    sets = {"train": xtr, "test": xte, "noise": noise}
    evals = {f"{n}/{g}": G.act(g, x) for n, x in sets.items() for g in range(G.order)}
    spec = trained_spec(arch, activation, depth, width, C_W, C_b, ytr.shape[1])
    kern = spec.kernel()
    rows, theory = {}, {}
    for label, (X, Y) in {"augmented": G.augment(xtr, ytr), "plain": (xtr, ytr)}.items():
        Ktt = kern(X).ntk
        lr = Y.size / float(np.linalg.eigvalsh(np.asarray(Ktt))[-1])
        if progress:
            print(f"[{label}] training {n_nets} networks of width {width} on {len(X)} inputs", file=sys.stderr)
        ens = train_ensemble(spec, X, Y, evals, n_nets=n_nets, steps=steps, every=steps, learning_rate=lr,
                             key=jax.random.fold_in(jax.random.key(seed), len(rows)))
        rows[label] = {n: _orbit_row(ens, G, n, sizes) for n in sets}
        theory[label] = {n: _theory_invariance(kern, Ktt, X, Y, sets[n], G, steps, lr) for n in sets}
    settings = {"activation": spec.activation.name, "arch": arch, "width": width, "depth": depth, "n_members": n_nets, "n_train": n_train,
                "n_test": n_test, "n_noise": n_noise, "steps": steps, "C_W": C_W, "C_b": C_b, "seed": seed,
                "group": G.name, "sizes": list(sizes), "data": _DIGITS}
    return EquivarianceResult(settings, rows, theory)
