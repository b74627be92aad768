"""The data of the training experiments: scikit-learn's 8x8 digits, bundled with scikit-learn."""

from __future__ import annotations

import numpy as np

from nntheory.errors import SpecError

__all__ = ["digits_data"]


def digits_data(n_train: int, n_test: int, *, seed: int = 0, classes: int = 10):
    """scikit-learn's bundled 8x8 digits (nothing downloaded): inputs scaled to ``|x|^2/n_0 = 1``, centred one-hot targets.

    Args:
        n_train, n_test: sizes of the two disjoint random subsets.
        seed: seed of the permutation that picks them.
        classes: keep the digits ``0 .. classes - 1``.

    Returns:
        ``(x_train, y_train, x_test, y_test)``; inputs ``(N, 64)``, each image centred and scaled to unit mean
        square, targets ``(N, classes)`` one-hot minus ``1/classes``.

    Raises:
        SpecError: more inputs asked for than there are.
    """
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
