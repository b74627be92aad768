r"""Trained ensembles of real networks against NTK theory: training dynamics and emergent equivariance.

Networks are MLPs (:class:`TrainedMLPSpec`), CNNs or C4 group-convolutional nets (:class:`TrainedConvSpec`,
whose kernels are :class:`nntheory.numerics.ConvKernel`). MLPs are in neural-tangents' NTK parameterisation,
:math:`z^{(l+1)} = \tfrac{\sigma_W}{\sqrt{n_l}} W\sigma(z^{(l)}) + \sigma_b b` with :math:`W, b \sim \mathcal N(0,1)`,
``depth`` nonlinearities and a linear read-out; their infinite-width kernels are
:meth:`nntheory.numerics.MLPKernel.neural_tangents`. An ensemble of ``n_members`` independent networks is
trained with full-batch gradient descent (``optax.sgd``) on
:math:`\tfrac{1}{2\,\mathrm{size}(Y)}\sum\lVert f - y\rVert^2`, vmapped over members (and sharded over
devices when there are several), so that the theory is :func:`~nntheory.numerics.ntk_predict` with
``method="gd"``.

Estimators (errors are standard errors over independent members):

* distance from the NTK prediction: each member is compared with its *own* linearised infinite-width
  prediction :math:`f_{0,i}(x) + \Theta_{xX}T_t(Y - f_{0,i}(X))`; since :math:`E f_0 = 0`, the member
  average of the differences :math:`d_i` estimates :math:`E f_t - \mu_t` without the :math:`O(1)`
  initial-function noise of the raw ensemble mean (a control variate), and its RMS over test inputs
  falls with width;
* invariance error of an ensemble mean of ``m`` members: :math:`\max_g\lVert\bar f(gx) - \bar f(x)\rVert`
  averaged over inputs, for disjoint sub-ensembles (mean and standard error over them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from nntheory.errors import SpecError
from nntheory.numerics.kernels._groups import FiniteGroup, image_rotations
from nntheory.numerics.kernels._conv_kernels import ConvKernel
from nntheory.numerics.kernels._kernels import MLPKernel
from nntheory.numerics.kernels._predict import ntk_predict
from nntheory.theory import Activation, activation as _activation

__all__ = [
    "TrainedMLPSpec",
    "TrainedConvSpec",
    "TrainedEnsemble",
    "trained_spec",
    "train_ensemble",
    "digits_data",
    "ntk_distance",
    "invariance_errors",
    "TrainingResult",
    "EquivarianceResult",
    "validate_training",
    "validate_equivariance",
]


@dataclass(frozen=True)
class TrainedMLPSpec:
    """An MLP in NTK parameterisation: ``depth`` hidden layers of ``width``, ``out_dim`` linear outputs."""

    activation: Activation | str
    depth: int
    width: int
    W_std: float = 1.0
    b_std: float = 0.0
    out_dim: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", _activation(self.activation))
        for name, lo in (("depth", 1), ("width", 1), ("out_dim", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise SpecError(f"TrainedMLPSpec: {name} must be an integer >= {lo}, got {v!r}.")
        if not (np.isfinite(self.W_std) and self.W_std > 0) or not (np.isfinite(self.b_std) and self.b_std >= 0):
            raise SpecError(f"TrainedMLPSpec: W_std > 0 and b_std >= 0 required, got {self.W_std!r}, {self.b_std!r}.")

    def kernel(self) -> MLPKernel:
        return MLPKernel.neural_tangents(self.activation, W_std=self.W_std, b_std=self.b_std, depth=self.depth)

    def init(self, key, in_dim: int):
        return init_params(key, self, in_dim)

    def apply(self, params, x, sig):
        return apply(params, x, self, sig)


@dataclass(frozen=True)
class TrainedConvSpec:
    r"""A CNN (``n_rot = 1``) or C4 group-convolutional net (``n_rot = 4``) on flattened ``image_size``-square images.

    The architecture and NTK parameterisation of :class:`nntheory.numerics.ConvKernel`: ``depth``
    convolutional layers of ``width`` channels (a lifting layer with the ``filter_size``-square filter
    rotated by :math:`r\cdot 90^\circ` for each :math:`r \in C_n`, then group convolutions), periodic
    boundaries, the nonlinearity, a global average over positions and rotations, and a dense read-out to
    ``out_dim`` outputs. Inputs are ``(N, image_size**2 * channels)`` arrays (row-major pixels, channels last).
    """

    activation: Activation | str
    depth: int
    width: int
    W_std: float = 1.0
    b_std: float = 0.0
    out_dim: int = 1
    image_size: int = 8
    n_rot: int = 1
    filter_size: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", _activation(self.activation))
        for name, lo in (("depth", 1), ("width", 1), ("out_dim", 1), ("image_size", 1), ("filter_size", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise SpecError(f"TrainedConvSpec: {name} must be an integer >= {lo}, got {v!r}.")
        if self.filter_size % 2 == 0:
            raise SpecError(f"TrainedConvSpec: filter_size must be odd, got {self.filter_size}.")
        if self.n_rot not in (1, 2, 4):
            raise SpecError(f"TrainedConvSpec: n_rot must be 1, 2 or 4 (rotations of the pixel grid), got {self.n_rot!r}.")
        if not (np.isfinite(self.W_std) and self.W_std > 0) or not (np.isfinite(self.b_std) and self.b_std >= 0):
            raise SpecError(f"TrainedConvSpec: W_std > 0 and b_std >= 0 required, got {self.W_std!r}, {self.b_std!r}.")

    @property
    def offsets(self):
        h = self.filter_size // 2
        return [(di, dj) for di in range(-h, h + 1) for dj in range(-h, h + 1)]

    def _images(self, x):
        H = self.image_size
        if x.shape[-1] % (H * H):
            raise SpecError(f"TrainedConvSpec: inputs of dimension {x.shape[-1]} are not {H}x{H} images (image_size = {H}).")
        return x.reshape(x.shape[0], H, H, x.shape[-1] // (H * H))

    def kernel(self):
        """The infinite-width kernels, taking flattened images like the network."""
        return _FlatImageKernel(ConvKernel(self.activation, self.depth, self.W_std, self.b_std, self.n_rot, self.filter_size),
                                self.image_size)

    def init(self, key, in_dim: int):
        C0 = in_dim // (self.image_size**2)
        S, n, C = len(self.offsets), self.n_rot, self.width
        fan_in = [S * C0] + [S * n * C] * (self.depth - 1)
        keys = jax.random.split(key, 2 * self.depth + 2)
        layers = [(jax.random.normal(keys[2 * i], (f, C)), jax.random.normal(keys[2 * i + 1], (C,))) for i, f in enumerate(fan_in)]
        return layers + [(jax.random.normal(keys[-2], (C, self.out_dim)), jax.random.normal(keys[-1], (self.out_dim,)))]

    def apply(self, params, x, sig):
        from nntheory.numerics.kernels._conv_kernels import _rot

        n = self.n_rot
        img = self._images(x)  # (N, H, H, C0)

        def gather(h, r):  # h (N, H, H, c) -> (N, H, H, |S| c): h(p + R_r delta) for every offset delta
            return jnp.concatenate([jnp.roll(h, shift=(-d[0], -d[1]), axis=(1, 2)) for d in (_rot(o, r * 4 // n) for o in self.offsets)],
                                   axis=-1)

        W, b = params[0]
        z = jnp.stack([gather(img, r) for r in range(n)], axis=1)  # (N, n, H, H, |S| C0)
        z = self.W_std / np.sqrt(W.shape[0]) * (z @ W) + self.b_std * b  # (N, n, H, H, C)
        for W, b in params[1:-1]:
            h = sig(z)
            # z'(p, r) = sum_{delta, s} W(delta, s) . h(p + R_r delta, r + s)
            g = jnp.stack([gather(jnp.concatenate([h[:, (r + s) % n] for s in range(n)], axis=-1), r) for r in range(n)], axis=1)
            z = self.W_std / np.sqrt(W.shape[0]) * (g @ W) + self.b_std * b
        pooled = jnp.mean(sig(z), axis=(1, 2, 3))  # (N, C)
        W, b = params[-1]
        return self.W_std / np.sqrt(W.shape[0]) * (pooled @ W) + self.b_std * b


@dataclass(frozen=True)
class _FlatImageKernel:
    kernel: ConvKernel
    image_size: int

    def _img(self, x):
        x = np.asarray(x, dtype=np.float64)
        H = self.image_size
        return x.reshape(x.shape[0], H, H, x.shape[-1] // (H * H))

    def __call__(self, x1, x2=None):
        return self.kernel(self._img(x1), None if x2 is None else self._img(x2))


def _sigma(act: Activation):
    from nntheory.validation.finite_width._ensembles import activation_fns

    return activation_fns(act)[0]


def init_params(key, spec: TrainedMLPSpec, in_dim: int):
    sizes = [in_dim] + [spec.width] * spec.depth + [spec.out_dim]
    keys = jax.random.split(key, 2 * (len(sizes) - 1))
    return [
        (jax.random.normal(keys[2 * i], (sizes[i + 1], sizes[i])), jax.random.normal(keys[2 * i + 1], (sizes[i + 1],)))
        for i in range(len(sizes) - 1)
    ]


def apply(params, x, spec: TrainedMLPSpec, sig):
    h = x
    for i, (W, b) in enumerate(params):
        z = spec.W_std / jnp.sqrt(h.shape[-1]) * (h @ W.T) + spec.b_std * b
        h = sig(z) if i < len(params) - 1 else z
    return h


@dataclass(frozen=True)
class TrainedEnsemble:
    """Predictions ``preds[name]`` of shape ``(members, checkpoints, N, out_dim)`` at the steps ``steps``."""

    spec: TrainedMLPSpec | TrainedConvSpec
    steps: np.ndarray
    learning_rate: float
    preds: dict = field(default_factory=dict)
    train_loss: np.ndarray | None = None  # (members, checkpoints)


def train_ensemble(
    spec: TrainedMLPSpec | TrainedConvSpec,
    x_train,
    y_train,
    evals: dict,
    *,
    n_members: int,
    steps: int,
    every: int,
    learning_rate: float,
    key,
    chunk: int | None = None,
    progress: bool = False,
) -> TrainedEnsemble:
    """Train ``n_members`` independent networks by full-batch gradient descent; record ``evals`` every ``every`` steps.

    ``evals`` maps names to input arrays ``(N, n_0)``; members are processed in chunks of ``chunk`` (all by default).
    """
    import optax

    X = jnp.asarray(x_train, jnp.float64)
    Y = jnp.asarray(y_train, jnp.float64).reshape(X.shape[0], -1)
    if Y.shape[1] != spec.out_dim:
        raise SpecError(f"train_ensemble: y_train has {Y.shape[1]} outputs but spec.out_dim = {spec.out_dim}.")
    if n_members < 1 or steps < 0 or every < 1 or steps % every:
        raise SpecError(f"train_ensemble: need n_members >= 1 and steps a multiple of every >= 1; got {n_members}, {steps}, {every}.")
    sig = _sigma(spec.activation)
    opt = optax.sgd(learning_rate)
    names = sorted(evals)
    E = [jnp.asarray(evals[n], jnp.float64) for n in names]

    def loss(p):
        return 0.5 * jnp.mean((spec.apply(p, X, sig) - Y) ** 2)

    def member(k):
        p = spec.init(k, X.shape[1])
        state = opt.init(p)

        def segment(carry, _):
            p, s = carry

            def step(c, _):
                p, s = c
                l, g = jax.value_and_grad(loss)(p)
                u, s = opt.update(g, s, p)
                return (optax.apply_updates(p, u), s), l

            (p, s), _ = jax.lax.scan(step, (p, s), None, length=every)
            return (p, s), ([spec.apply(p, e, sig) for e in E], loss(p))

        (_, _), (outs, losses) = jax.lax.scan(segment, (p, state), None, length=steps // every)
        first = [spec.apply(p, e, sig)[None] for e in E]
        return [jnp.concatenate([f, o]) for f, o in zip(first, outs)], jnp.concatenate([loss(p)[None], losses])

    run = jax.jit(jax.vmap(member))
    keys = jax.random.split(key, n_members)
    chunk = chunk or n_members
    parts, losses = [], []
    for s in range(0, n_members, chunk):
        kk = keys[s : s + chunk]
        if progress:
            print(f"  width {spec.width}: members {s + 1}-{s + len(kk)} of {n_members}", file=sys.stderr)
        o, l = run(_shard(kk))
        parts.append([np.asarray(a) for a in o])
        losses.append(np.asarray(l))
    preds = {n: np.concatenate([p[i] for p in parts]) for i, n in enumerate(names)}
    return TrainedEnsemble(spec, np.arange(0, steps + 1, every), float(learning_rate), preds, np.concatenate(losses))


def _shard(keys):
    """Spread the members over all devices when there are several (a no-op on one device)."""
    devs = jax.devices()
    if len(devs) < 2 or keys.shape[0] % len(devs):
        return keys
    mesh = jax.sharding.Mesh(np.array(devs), ("m",))
    return jax.device_put(keys, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("m")))


def digits_data(n_train: int, n_test: int, *, seed: int = 0, classes: int = 10):
    """scikit-learn's bundled 8x8 digits (nothing downloaded): inputs scaled to ``|x|^2/n_0 = 1``, centred one-hot targets."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(np.float64)
    keep = d.target < classes
    X, t = X[keep], d.target[keep]
    if n_train + n_test > X.shape[0]:
        raise SpecError(f"digits_data: n_train + n_test must be <= {X.shape[0]}, got {n_train + n_test}.")
    idx = np.random.default_rng(seed).permutation(X.shape[0])
    X = X - X.mean(axis=1, keepdims=True)  # per image: commutes with pixel permutations
    X = X / np.sqrt(np.mean(X**2, axis=1, keepdims=True))
    Y = np.eye(classes)[t] - 1.0 / classes
    tr, te = idx[:n_train], idx[n_train : n_train + n_test]
    return X[tr], Y[tr], X[te], Y[te]


def _jackknife_rms(d):
    """RMS over inputs of the member mean of ``d (M, ...)``, with a jackknife standard error."""
    M = d.shape[0]
    full = np.sqrt(np.mean(np.mean(d, axis=0) ** 2))
    tot = np.sum(d, axis=0)
    loo = np.array([np.sqrt(np.mean(((tot - d[i]) / (M - 1)) ** 2)) for i in range(M)])
    se = np.sqrt((M - 1) / M * np.sum((loo - loo.mean()) ** 2))
    return full, se


def ntk_distance(ens: TrainedEnsemble, x_train, y_train, x_test, name: str = "test") -> dict:
    """Distance of the trained ensemble from the NTK prediction at every checkpoint (see the module docstring)."""
    kern = ens.spec.kernel()
    Ktt = kern(x_train)
    Kst = kern(x_test, x_train)
    Y = np.asarray(y_train).reshape(len(x_train), -1)
    f_test = ens.preds[name]  # (M, T, N, k)
    f_train0 = ens.preds["train"][:, 0]  # (M, N, k)
    M, T, Nt, k = f_test.shape
    mu = ntk_predict(Ktt.ntk, Kst.ntk, Y, ens.steps, learning_rate=ens.learning_rate, method="gd").mean  # (T, Nt, k)
    # each member's own linearised prediction: f0(x) + Theta_xX T_t (Y - f0(X))
    resid = (Y[None] - f_train0).transpose(1, 0, 2).reshape(len(x_train), M * k)
    # (members stacked as columns: the per-sample rate eta/size(Y) is passed explicitly)
    lin = ntk_predict(Ktt.ntk, Kst.ntk, resid, ens.steps, learning_rate=ens.learning_rate / Y.size, method="gd",
                      normalization="sum").mean
    lin = lin.reshape(T, Nt, M, k).transpose(2, 0, 1, 3) + f_test[:, :1]
    d = f_test - lin
    out = {"steps": ens.steps.tolist(), "width": ens.spec.width, "members": M}
    rows = [_jackknife_rms(d[:, t]) for t in range(T)]
    out["distance"] = [r[0] for r in rows]
    out["distance_se"] = [r[1] for r in rows]
    out["member_distance"] = [float(np.sqrt(np.mean(d[:, t] ** 2))) for t in range(T)]
    out["raw_ensemble_distance"] = [float(np.sqrt(np.mean((f_test[:, t].mean(0) - mu[t]) ** 2))) for t in range(T)]
    out["prediction_rms"] = [float(np.sqrt(np.mean(mu[t] ** 2))) for t in range(T)]
    return out


def invariance_errors(orbit_preds: np.ndarray, sizes) -> dict:
    r"""Invariance errors of ensemble means from predictions on orbits, ``orbit_preds (M, |G|, N, k)``.

    For each ensemble size ``m`` the ``M`` members are split into ``M // m`` disjoint sub-ensembles;
    returns the mean over them of the input-averaged :math:`\max_g\lVert\bar f(gx) - \bar f(x)\rVert` and its standard error.
    """
    M = orbit_preds.shape[0]
    out = {"sizes": [], "error": [], "error_se": [], "groups": []}
    for m in sizes:
        n = M // m
        if n < 2:
            continue
        errs = []
        for j in range(n):
            mean = orbit_preds[j * m : (j + 1) * m].mean(0)  # (|G|, N, k)
            err = np.max(np.linalg.norm(mean[1:] - mean[:1], axis=-1), axis=0)  # (N,)
            errs.append(err.mean())
        errs = np.array(errs)
        out["sizes"].append(int(m))
        out["error"].append(float(errs.mean()))
        out["error_se"].append(float(errs.std(ddof=1) / np.sqrt(n)))
        out["groups"].append(n)
    return out


@dataclass(frozen=True)
class TrainingResult:
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


ARCHITECTURES = ("mlp", "cnn", "gcnn")


def trained_spec(arch: str, activation, depth: int, width: int, W_std: float, b_std: float, out_dim: int,
                 image_size: int = 8) -> TrainedMLPSpec | TrainedConvSpec:
    """The network of ``arch``: ``"mlp"``, ``"cnn"`` (``n_rot = 1``) or ``"gcnn"`` (C4 lifting + group convolutions)."""
    if arch == "mlp":
        return TrainedMLPSpec(activation, depth, width, W_std, b_std, out_dim)
    if arch in ("cnn", "gcnn"):
        return TrainedConvSpec(activation, depth, width, W_std, b_std, out_dim, image_size, n_rot=1 if arch == "cnn" else 4)
    raise SpecError(f"arch must be one of {ARCHITECTURES}, got {arch!r}.")


def validate_training(
    *, activation="erf", widths=(64, 256, 1024), depth: int = 1, n_members: int = 32, n_train: int = 64,
    n_test: int = 64, steps: int = 200, every: int = 20, W_std: float = 1.5, b_std: float = 0.1, seed: int = 0,
    arch: str = "mlp", progress: bool = False,
) -> TrainingResult:
    """Ensembles of trained networks (``arch``: MLPs, CNNs or C4 GCNNs; digits, 10 outputs) against the NTK
    prediction over a width sweep (channels for the convolutional nets)."""
    if len(widths) < 3:
        raise SpecError(f"validate_training: need at least 3 widths, got {widths}.")
    xtr, ytr, xte, _ = digits_data(n_train, n_test, seed=seed)
    spec0 = trained_spec(arch, activation, depth, widths[0], W_std, b_std, ytr.shape[1])
    lam_max = float(np.linalg.eigvalsh(np.asarray(spec0.kernel()(xtr).ntk))[-1])
    lr = ytr.size / lam_max  # eta' lambda_max = 1: fast and stable
    rows = []
    for i, w in enumerate(widths):
        spec = trained_spec(arch, activation, depth, int(w), W_std, b_std, ytr.shape[1])
        ens = train_ensemble(spec, xtr, ytr, {"train": xtr, "test": xte}, n_members=n_members, steps=steps, every=every,
                             learning_rate=lr, key=jax.random.fold_in(jax.random.key(seed), i), progress=progress)
        rows.append(ntk_distance(ens, xtr, ytr, xte))
    settings = {"activation": spec0.activation.name, "arch": arch, "widths": list(map(int, widths)), "depth": depth, "n_members": n_members,
                "n_train": n_train, "n_test": n_test, "steps": steps, "every": every, "W_std": W_std, "b_std": b_std,
                "learning_rate": lr, "seed": seed, "data": "sklearn digits 8x8, 10 centred one-hot outputs",
                "parameterisation": "NTK (neural-tangents), loss 1/(2 size(Y)) sum (f - y)^2, full-batch GD"}
    return TrainingResult(settings, rows)


@dataclass(frozen=True)
class EquivarianceResult:
    settings: dict
    rows: dict  # rows[augmented|plain][train|test|noise] -> invariance_errors(...) plus member error
    theory: dict  # infinite-width invariance error per input set

    @property
    def passed(self) -> bool:
        ok = all(v < 1e-10 for v in self.theory["augmented"].values())
        for where, r in self.rows["augmented"].items():
            e, se = np.array(r["error"]), np.array(r["error_se"])
            ok &= bool(e[-1] + 2 * se[-1] < e[0] - 2 * se[0])  # falls with ensemble size
            ok &= bool(e[-1] < 0.5 * r["member_error"])  # far below the members' own error
        return ok


def validate_equivariance(
    *, activation="relu", width: int = 512, depth: int = 1, n_members: int = 64, n_train: int = 32, n_test: int = 32,
    n_noise: int = 32, steps: int = 100, sizes=(1, 2, 4, 8, 16), W_std: float = 1.4, b_std: float = 0.1, seed: int = 0,
    group: FiniteGroup | None = None, arch: str = "mlp", progress: bool = False,
) -> EquivarianceResult:
    """Deep ensembles (``arch`` ``"mlp"`` or ``"cnn"``) trained with and without full C4 augmentation of the
    digits (Gerken & Kessel 2024)."""
    if arch not in ("mlp", "cnn"):
        raise SpecError(f"validate_equivariance: arch must be 'mlp' or 'cnn' (a GCNN is invariant by construction), got {arch!r}.")
    G = group or image_rotations(8, 8, 4)
    xtr, ytr, xte, _ = digits_data(n_train, n_test, seed=seed)
    rng = np.random.default_rng(seed + 1)
    noise = rng.normal(size=(n_noise, xtr.shape[1]))
    noise /= np.sqrt(np.mean(noise**2, axis=1, keepdims=True))
    sets = {"train": xtr, "test": xte, "noise": noise}
    evals = {f"{n}/{g}": G.act(g, x) for n, x in sets.items() for g in range(G.order)}
    xa, ya = G.augment(xtr, ytr)
    spec = trained_spec(arch, activation, depth, width, W_std, b_std, ytr.shape[1])
    kern = spec.kernel()
    rows, theory = {}, {}
    for label, (X, Y) in {"augmented": (xa, ya), "plain": (xtr, ytr)}.items():
        Ktt = kern(X).ntk
        lr = Y.size / float(np.linalg.eigvalsh(np.asarray(Ktt))[-1])
        if progress:
            print(f"[{label}] training {n_members} networks of width {width} on {len(X)} inputs", file=sys.stderr)
        ens = train_ensemble(spec, X, Y, evals, n_members=n_members, steps=steps, every=steps, learning_rate=lr,
                             key=jax.random.fold_in(jax.random.key(seed), len(rows)))
        rows[label], theory[label] = {}, {}
        for n in sets:
            orbit = np.stack([ens.preds[f"{n}/{g}"][:, -1] for g in range(G.order)], axis=1)  # (M, |G|, N, k)
            r = invariance_errors(orbit, sizes)
            r["member_error"] = float(np.mean(np.max(np.linalg.norm(orbit[:, 1:] - orbit[:, :1], axis=-1), axis=1)))
            r["prediction_rms"] = float(np.sqrt(np.mean(orbit.mean(0) ** 2)))
            rows[label][n] = r
            mu = [ntk_predict(Ktt, kern(G.act(g, sets[n]), X).ntk, Y, [steps], learning_rate=lr, method="gd").mean[0]
                  for g in range(G.order)]
            # the statistic of the ensembles: input average of max_g |mu(gx) - mu(x)|
            theory[label][n] = float(np.mean(np.max([np.linalg.norm(m - mu[0], axis=-1) for m in mu[1:]], axis=0)))
    settings = {"activation": spec.activation.name, "arch": arch, "width": width, "depth": depth, "n_members": n_members, "n_train": n_train,
                "n_test": n_test, "n_noise": n_noise, "steps": steps, "W_std": W_std, "b_std": b_std, "seed": seed,
                "group": G.name, "sizes": list(sizes), "data": "sklearn digits 8x8, 10 centred one-hot outputs"}
    return EquivarianceResult(settings, rows, theory)

