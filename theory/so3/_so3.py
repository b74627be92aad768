r"""SO(3)/SU(2) representations, exactly: Wigner d and D, spherical harmonics, real bases.

Convention (one, everywhere in nntheory):

* Condon–Shortley phases; basis ``|j m>`` with ``m`` ascending (``m = -j, ..., j``) along every axis.
* ``D^j_{m' m}(alpha, beta, gamma) = <j m'| exp(-i alpha J_z) exp(-i beta J_y) exp(-i gamma J_z) |j m>
  = exp(-i m' alpha) d^j_{m' m}(beta) exp(-i m gamma)``: active rotations, Euler angles ZYZ, so the
  rotation matrix is ``R = R_z(alpha) R_y(beta) R_z(gamma)``; ``D(R1 R2) = D(R1) D(R2)``.
* Complex spherical harmonics ``Y_l^m`` (orthonormal on the sphere, CS phase). They transform as
  ``conj(Y)(R x) = D^l(R) conj(Y)(x)``, i.e. ``Y(R x) = conj(D^l(R)) Y(x)``.
* Real spherical harmonics ``Y_{l m}`` (the common "tesseral" basis, CS phase folded out):
  ``m > 0: sqrt2 (-1)^m Re Y_l^m``, ``m = 0: Y_l^0``, ``m < 0: sqrt2 (-1)^m Im Y_l^{|m|}``; so for
  ``l = 1`` the components are proportional to ``(y, z, x)``. ``Y_real = U Y_complex`` with the unitary
  :func:`~nntheory.theory.so3._basis.real_basis_change` (coefficients defined once, in
  :mod:`nntheory.theory.so3._basis`). Real Wigner matrices ``D_real(R) = conj(U) D(R) U^T`` are real orthogonal
  and satisfy ``Y_real(R x) = D_real(R) Y_real(x)``.
* Real Clebsch–Gordan tensors ``C_real = (conj(U1) (x) conj(U2)) C U_J^T`` (times ``-i`` when
  ``l1 + l2 + L`` is odd, which makes them real) intertwine: ``(D1 (x) D2) C = C D_J`` in either basis.

Conversions to other libraries' conventions are explicit functions (``e3nn_basis_change``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy

from nntheory.errors import NNTheoryError, SpinError
from nntheory.theory._activations import as_expr
from nntheory.theory.so3._basis import int_l as _int_l
from nntheory.theory.so3._basis import real_basis_change
from nntheory.theory.so3._exact import ExactValue, _factorial, _sqrt_factorial_ratio
from nntheory.theory.so3._su2 import exact_3j, exact_clebsch_gordan, two_j

__all__ = [
    "clebsch_gordan_tensor",
    "e3nn_basis_change",
    "e3nn_clebsch_gordan",
    "projections",
    "rotation_matrix",
    "spherical_harmonics",
    "wigner_D",
    "wigner_D_real",
    "wigner_d_half_pi",
    "wigner_small_d",
]

beta_symbol = sympy.Symbol("beta", real=True)


def projections(j) -> list:
    """``[-j, ..., j]`` as sympy Rationals (the index order of every matrix here).

    Returns:
        ``2j + 1`` sympy Rationals.
    Raises:
        SpinError: for an invalid spin.
    """
    t = two_j(j, "j")
    return [sympy.Rational(tm, 2) for tm in range(-t, t + 1, 2)]


# --------------------------------------------------------------------------- Wigner d and D


def _d_terms(tj: int, tmp: int, tm: int) -> tuple[list[int], list[tuple[Fraction, int, int]]]:
    """The sum for ``d^j_{m' m}(beta)`` (doubled arguments), exactly, in plain Python.

    ``d = sqrt((j+m')!(j-m')!(j+m)!(j-m)!) * sum_k coeff_k c^(a_k) s^(b_k)`` with ``c = cos(beta/2)``,
    ``s = sin(beta/2)``, ``coeff_k = (-1)^(m'-m+k) / [(j+m-k)! k! (m'-m+k)! (j-m'-k)!]``,
    ``a_k = 2j+m-m'-2k``, ``b_k = m'-m+2k``. Returns ``(factorial arguments of the square root,
    [(coeff_k, a_k, b_k)])``.
    """
    jpmp, jmmp, jpm, jmm = (tj + tmp) // 2, (tj - tmp) // 2, (tj + tm) // 2, (tj - tm) // 2
    dm = (tmp - tm) // 2
    terms = [
        (Fraction(-1 if (dm + k) % 2 else 1,
                  _factorial(jpm - k) * _factorial(k) * _factorial(dm + k) * _factorial(jmmp - k)),
         tj - dm - 2 * k, dm + 2 * k)
        for k in range(max(0, -dm), min(jpm, jmmp) + 1)
    ]
    return [jpmp, jmmp, jpm, jmm], terms


def _d_entry(tj: int, tmp: int, tm: int, c, s) -> sympy.Expr:
    """d^j_{m' m} as a sympy expression in ``c = cos(beta/2)``, ``s = sin(beta/2)`` (see :func:`_d_terms`)."""
    args, terms = _d_terms(tj, tmp, tm)
    r, rad = _sqrt_factorial_ratio(args, [])
    pref = sympy.Rational(r.numerator, r.denominator) * sympy.sqrt(rad)
    return pref * sympy.Add(*(sympy.Rational(q.numerator, q.denominator) * c**a * s**b for q, a, b in terms))


def wigner_d_half_pi(j) -> list[list[ExactValue]]:
    """Exact ``d^j(pi/2)`` (the matrix FFT-based rotations use) as :class:`ExactValue` entries.

    Args:
        j: the spin (integer or half-integer).
    Returns:
        Rows ``m'``, columns ``m``, ascending; every entry ``±(p/q) sqrt(r)``.
    Raises:
        SpinError: for an invalid spin.
    """
    tj = two_j(j, "j")
    return [[_d_half_pi_entry(tj, tmp, tm) for tm in range(-tj, tj + 1, 2)] for tmp in range(-tj, tj + 1, 2)]


def _d_half_pi_entry(tj: int, tmp: int, tm: int) -> ExactValue:
    args, terms = _d_terms(tj, tmp, tm)
    total = sum((q for q, _, _ in terms), Fraction(0))
    if total == 0:
        return ExactValue.ZERO
    r, s = _sqrt_factorial_ratio(args, [])
    # times cos^a sin^b with a + b = 2j at pi/4: 2^(-j) = 2^(-tj/2)
    val = r * total / (2 ** (tj // 2))
    if tj % 2:  # one more 1/sqrt2
        if s % 2 == 0:
            s //= 2
        else:
            s *= 2
            val /= 2
    return ExactValue(1 if val > 0 else -1, abs(val.numerator), val.denominator, s)


def wigner_small_d(j, beta=beta_symbol) -> sympy.Matrix:
    r"""Wigner's small ``d^j(beta)``, exactly: entries are trigonometric polynomials in
    ``cos(beta/2)``, ``sin(beta/2)`` (numbers when ``beta`` is a number, e.g. exact sqrt-rationals
    at ``pi/2``). Rows ``m'``, columns ``m``, both ascending.

    >>> list(wigner_small_d(sympy.Rational(1, 2)))  # rows m' = -1/2, 1/2
    [cos(beta/2), sin(beta/2), -sin(beta/2), cos(beta/2)]

    Returns:
        The ``(2j+1, 2j+1)`` sympy matrix.
    Raises:
        SpinError: for an invalid spin.
    """
    tj = two_j(j, "j")
    beta = as_expr(beta, label="beta", error=SpinError)
    c, s = sympy.cos(beta / 2), sympy.sin(beta / 2)
    ms = range(-tj, tj + 1, 2)
    return sympy.Matrix([[_d_entry(tj, tmp, tm, c, s) for tm in ms] for tmp in ms])


def wigner_D(j, alpha, beta, gamma) -> sympy.Matrix:
    """``D^j(alpha, beta, gamma) = exp(-i m' alpha) d^j_{m'm}(beta) exp(-i m gamma)`` (ZYZ, active).

    Returns:
        The ``(2j+1, 2j+1)`` sympy matrix (rows ``m'``, columns ``m``, ascending).
    Raises:
        SpinError: for an invalid spin.
    """
    d = wigner_small_d(j, beta)
    ms = projections(j)
    alpha, gamma = as_expr(alpha, label="alpha", error=SpinError), as_expr(gamma, label="gamma", error=SpinError)
    n = len(ms)
    return sympy.Matrix(n, n, lambda a, b: sympy.exp(-sympy.I * ms[a] * alpha) * d[a, b] * sympy.exp(-sympy.I * ms[b] * gamma))


def rotation_matrix(alpha, beta, gamma) -> sympy.Matrix:
    """The 3x3 rotation ``R_z(alpha) R_y(beta) R_z(gamma)`` that ``D(alpha, beta, gamma)`` represents.

    Returns:
        The exact 3x3 sympy matrix.
    """

    def rz(t):
        return sympy.Matrix([[sympy.cos(t), -sympy.sin(t), 0], [sympy.sin(t), sympy.cos(t), 0], [0, 0, 1]])

    def ry(t):
        return sympy.Matrix([[sympy.cos(t), 0, sympy.sin(t)], [0, 1, 0], [-sympy.sin(t), 0, sympy.cos(t)]])

    angles = (as_expr(a, label=n, error=SpinError) for a, n in ((alpha, "alpha"), (beta, "beta"), (gamma, "gamma")))
    a, b, g = angles
    return rz(a) * ry(b) * rz(g)


# --------------------------------------------------------------------------- real basis


def wigner_D_real(l, alpha, beta, gamma) -> sympy.Matrix:
    """Real orthogonal ``D_real = conj(U) D U^T`` with ``Y_real(R x) = D_real(R) Y_real(x)``.

    Returns:
        The ``(2l+1, 2l+1)`` real sympy matrix (simplified).
    Raises:
        SpinError: for a half-integer or negative ``l``.
    """
    U = real_basis_change(l)
    D = wigner_D(l, alpha, beta, gamma)
    out = U.conjugate() * D * U.T
    return out.applyfunc(lambda e: sympy.simplify(sympy.expand_complex(e)))


# --------------------------------------------------------------------------- spherical harmonics


def spherical_harmonics(l, point=None, *, basis: str = "real", normalization: str = "integral") -> list:
    r"""Spherical harmonics of degree ``l`` as homogeneous harmonic polynomials in ``(x, y, z)``.

    ``point``: three sympy expressions (default symbols ``x, y, z``); on the unit sphere the
    polynomials are the usual ``Y``. ``basis``: ``"real"`` or ``"complex"`` (see module docstring).
    ``normalization``: ``"integral"`` (orthonormal on the sphere), ``"component"``
    (``sum_m Y_m^2 = 2l + 1`` on the unit sphere, e3nn's default) or ``"norm"`` (``= 1``).
    Returned in ``m`` ascending order.

    >>> spherical_harmonics(1, normalization="component")
    [sqrt(3)*y, sqrt(3)*z, sqrt(3)*x]

    Returns:
        ``2l + 1`` sympy polynomials.
    Raises:
        SpinError: for a bad ``l``, ``basis`` or ``normalization``.
    """
    l = _int_l(l)
    if basis not in ("real", "complex"):
        raise SpinError(f"basis must be 'real' or 'complex', got {basis!r}")
    if normalization not in ("integral", "component", "norm"):
        raise SpinError(f"normalization must be 'integral', 'component' or 'norm', got {normalization!r}")
    if point is None:
        point = sympy.symbols("x y z", real=True)
    x, y, z = (as_expr(p, label=f"point[{i}]", error=SpinError) for i, p in enumerate(point))
    ys = _complex_sh(l, x, y, z)
    if basis == "real":
        U = real_basis_change(l)
        ys = [sympy.expand(sympy.expand_complex(sum(U[a, b] * ys[b] for b in range(2 * l + 1)))) for a in range(2 * l + 1)]
    scale = {"integral": 1, "component": sympy.sqrt(4 * sympy.pi), "norm": sympy.sqrt(4 * sympy.pi / (2 * l + 1))}[normalization]
    return [sympy.expand(scale * e) for e in ys]


def _complex_sh(l: int, x, y, z) -> list:
    """Y_l^m, m = -l..l, homogeneous: (-1)^m N_lm P_l^(m)(z) (x + i y)^m with z^k -> z^k r^(l-m-k)."""
    t = sympy.Dummy("t")
    r2 = x**2 + y**2 + z**2
    Pl = sympy.legendre(l, t)
    out = {}
    for m in range(0, l + 1):
        dP = sympy.Poly(sympy.diff(Pl, t, m), t)
        legendre_part = sum(
            c * z**k * r2 ** ((l - m - k) // 2) for (k,), c in dP.terms()
        )
        norm = sympy.sqrt(sympy.Rational(2 * l + 1, 1) / (4 * sympy.pi) * sympy.Rational(_factorial(l - m), _factorial(l + m)))
        Y = (-1) ** m * norm * legendre_part * (x + sympy.I * y) ** m
        out[m] = sympy.expand(Y)
    for m in range(1, l + 1):
        out[-m] = sympy.expand((-1) ** m * sympy.conjugate(out[m]).subs({}))  # real x, y, z
    return [out[m] for m in range(-l, l + 1)]


# --------------------------------------------------------------------------- Clebsch–Gordan tensors


@lru_cache(maxsize=256)
def clebsch_gordan_tensor(j1, j2, J, *, basis: str = "complex", normalization: str = "cg") -> sympy.ImmutableDenseNDimArray:
    r"""The coupling tensor ``C[m1, m2, M]`` of shape ``(2j1+1, 2j2+1, 2J+1)``, exact.

    ``basis="complex"``: ``normalization="cg"`` gives ``<j1 m1 j2 m2|J M>`` (each ``M`` column is a
    unit vector, ``|C|_F^2 = 2J + 1``); ``"unit"`` divides by ``sqrt(2J + 1)`` (``|C|_F = 1``);
    ``"3j"`` gives the 3j symbol ``(j1 j2 J; m1 m2 M)`` itself (an invariant tensor, ``|C|_F = 1``).
    ``basis="real"`` (integer spins): the same tensors in the real basis, made real (see the
    module docstring); ``"3j"`` there is the real invariant tensor.
    The intertwining property ``(D1 (x) D2) C = C D_J`` holds for ``cg`` and ``unit`` in both bases.

    Returns:
        An exact ``ImmutableDenseNDimArray`` of shape ``(2j1+1, 2j2+1, 2J+1)``.
    Raises:
        SpinError: for invalid spins, a bad ``basis``/``normalization``, or half-integer spins with ``basis="real"``.
    """
    t1, t2, tJ = two_j(j1, "j1"), two_j(j2, "j2"), two_j(J, "J")
    if (t1 + t2 + tJ) % 2:
        raise SpinError(f"spins (j1, j2, J) = ({Fraction(t1, 2)}, {Fraction(t2, 2)}, {Fraction(tJ, 2)}) do not add to an integer")
    if basis not in ("complex", "real"):
        raise SpinError(f"basis must be 'complex' or 'real', got {basis!r}")
    if normalization not in ("cg", "unit", "3j"):
        raise SpinError(f"normalization must be 'cg', 'unit' or '3j', got {normalization!r}")
    if basis == "real" and (t1 % 2 or t2 % 2 or tJ % 2):
        raise SpinError("basis='real' needs integer spins (half-integer irreps of SU(2) have no real form)")
    n1, n2, nJ = t1 + 1, t2 + 1, tJ + 1
    C = sympy.MutableDenseNDimArray.zeros(n1, n2, nJ)
    for a, tm1 in enumerate(range(-t1, t1 + 1, 2)):
        for b, tm2 in enumerate(range(-t2, t2 + 1, 2)):
            tM = tm1 + tm2
            if abs(tM) > tJ:
                continue
            if normalization == "3j":
                # index the third slot by m3 = -(m1 + m2)
                v = exact_3j(Fraction(t1, 2), Fraction(t2, 2), Fraction(tJ, 2), Fraction(tm1, 2), Fraction(tm2, 2), Fraction(-tM, 2))
                C[a, b, (tJ - tM) // 2] = v.to_sympy()
            else:
                v = exact_clebsch_gordan(Fraction(t1, 2), Fraction(tm1, 2), Fraction(t2, 2), Fraction(tm2, 2), Fraction(tJ, 2), Fraction(tM, 2))
                C[a, b, (tM + tJ) // 2] = v.to_sympy() / (sympy.sqrt(nJ) if normalization == "unit" else 1)
    if basis == "real":
        C = _to_real(C, t1 // 2, t2 // 2, tJ // 2, invariant=normalization == "3j")
    return sympy.ImmutableDenseNDimArray(C)


def _to_real(C, l1: int, l2: int, L: int, *, invariant: bool):
    V1, V2 = real_basis_change(l1).conjugate(), real_basis_change(l2).conjugate()
    # intertwiner: (V1 x V2) C V_J^dagger with V_J = conj(U_J), V_J^dagger = U_J^T;
    # invariant tensor: (V1 x V2 x V3) T
    W = real_basis_change(L).T if not invariant else real_basis_change(L).conjugate().T
    phase = -sympy.I if (l1 + l2 + L) % 2 else 1
    out = _transform3(C, V1, V2, W, phase)
    for val in sympy.flatten(out.tolist()):
        if val != 0 and not val.is_real:  # pragma: no cover - guards the phase convention
            raise NNTheoryError(f"real CG tensor has a complex entry {val}")
    return out


def _transform3(C, A, B, W, factor):
    """``out[a, b, c] = factor * sum A[a, i] B[b, k] C[i, k, m] W[m, c]``, simplified exactly."""
    n1, n2, n3 = A.shape[0], B.shape[0], W.shape[1]
    out = sympy.MutableDenseNDimArray.zeros(n1, n2, n3)
    for a in range(n1):
        for b in range(n2):
            for c in range(n3):
                acc = 0
                for i in range(A.shape[1]):
                    if A[a, i] == 0:
                        continue
                    for k in range(B.shape[1]):
                        if B[b, k] == 0:
                            continue
                        for m in range(W.shape[0]):
                            if C[i, k, m] != 0 and W[m, c] != 0:
                                acc += A[a, i] * B[b, k] * C[i, k, m] * W[m, c]
                if acc != 0:
                    out[a, b, c] = sympy.radsimp(sympy.expand(sympy.nsimplify(sympy.expand(factor * acc))))
    return out


# --------------------------------------------------------------------------- other libraries


@lru_cache(maxsize=None)
def e3nn_basis_change(l) -> sympy.ImmutableMatrix:
    r"""Orthogonal ``Q`` with ``v_e3nn = Q v_nntheory`` for real degree-``l`` vectors.

    e3nn and e3nn-jax use ``y`` as the polar axis and order the ``l = 1`` block as ``(x, y, z)``.
    Their real spherical harmonics are ours composed with the axis relabelling
    ``P: (x, y, z) -> (z, x, y)``: ``Y_e3nn(v) = Y_nntheory(P v) = D_real(P) Y_nntheory(v)``,
    so ``Q = D_real(P)`` (``P`` is the rotation with Euler angles ``(0, pi/2, pi/2)``).
    Normalisation is separate: e3nn's ``"component"``/``"norm"``/``"integral"`` match the
    ``normalization=`` of :func:`spherical_harmonics`; e3nn's CG tensors have unit Frobenius norm.

    Returns:
        The exact orthogonal ``(2l+1, 2l+1)`` matrix ``Q``.
    Raises:
        SpinError: for a half-integer or negative ``l``.
    """
    l = _int_l(l)
    # P maps (x, y, z) -> (z, x, y); find its ZYZ angles exactly
    P = sympy.Matrix([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    angles = (0, sympy.pi / 2, sympy.pi / 2)
    if rotation_matrix(*angles) != P:  # pragma: no cover - guards the constant above
        raise NNTheoryError("Euler angles of the axis permutation are wrong")
    return sympy.ImmutableMatrix(wigner_D_real(l, *angles))


def e3nn_clebsch_gordan(l1, l2, L) -> sympy.ImmutableDenseNDimArray:
    r"""The tensor ``e3nn.clebsch_gordan(l1, l2, L)`` (e3nn / e3nn-jax) exactly.

    It is our real invariant tensor (``normalization="3j"``, unit Frobenius norm) in e3nn's basis,
    ``(Q1 (x) Q2 (x) Q3) C``, with e3nn's per-triple sign ``(-1)^ceil((l1 + l2 + L)/2)`` (which comes
    from the ``(-i)^l`` factors in e3nn's real-to-complex change of basis).

    Returns:
        An exact ``ImmutableDenseNDimArray`` of shape ``(2l1+1, 2l2+1, 2L+1)``.
    Raises:
        SpinError: for invalid degrees.
    """
    C = clebsch_gordan_tensor(l1, l2, L, basis="real", normalization="3j")
    l1, l2, L = _int_l(l1, "l1"), _int_l(l2, "l2"), _int_l(L, "L")
    Q1, Q2, Q3 = e3nn_basis_change(l1), e3nn_basis_change(l2), e3nn_basis_change(L)
    sign = -1 if ((l1 + l2 + L + 1) // 2) % 2 else 1
    return sympy.ImmutableDenseNDimArray(_transform3(C, Q1, Q2, Q3.T, sign))
