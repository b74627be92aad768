r"""The NTK sector at order ``1/n``, Gaussian or orthogonal weights: NTK fluctuations and the NLO NTK mean (PDLT ch. 8).

Network and learning-rate conventions as in :mod:`nntheory.theory.finite_width._recursions` (PDLT):
``H_{i1 i2; a1 a2} = sum_mu lambda_mu dz_{i1;a1}/dtheta_mu dz_{i2;a2}/dtheta_mu`` with ``lambda_b`` on
biases and ``lambda_W/n_{l-1}`` on weights, the same at every layer. Neuron indices ``i1..i4`` belong to
layer ``l``; ``n = n_{l-1}``; ``Delta H = H - E[H]``; ``a1..a4`` are inputs. Each tensor is *defined* by
its moment (``d_jk`` the Kronecker delta of neuron indices):

* ``Theta1``: ``E[H_{i1 i2; a1 a2}] = d_12 (Theta_{a1a2} + Theta1_{a1a2}/n) + O(1/n^2)``;
* ``D`` and ``F`` (NTK-preactivation cross-correlation):
  ``E[Delta H_{i1i2;a1a2} z_{i3;a3} z_{i4;a4}] = (1/n)[d_12 d_34 D_{a1a2a3a4} + d_13 d_24 F_{a1a3a2a4}
  + d_14 d_23 F_{a1a4a2a3}]``;
* ``A`` and ``B`` (NTK variance):
  ``E[Delta H_{i1i2;a1a2} Delta H_{i3i4;a3a4}] = (1/n)[d_12 d_34 A_{(a1a2)(a3a4)} + d_13 d_24 B_{a1a3a2a4}
  + d_14 d_23 B_{a1a4a2a3}]``.

Array layout: ``D[a1,a2,a3,a4]`` (first pair: the NTK's inputs, second pair: the two ``z``'s);
``F[a1,a3,a2,a4]`` and ``B[a1,a3,a2,a4]`` list the inputs neuron by neuron (``a1, a3`` sit on neuron
``i1 = i3``, ``a2, a4`` on neuron ``i2 = i4``); ``A[a1,a2,a3,a4]`` like ``V``. Symmetries: ``D`` is
symmetric within each pair (not under the pair swap); ``A`` within each pair and under the pair swap;
``F`` under the pair swap ``F_{a1a3a2a4} = F_{a2a4a1a3}``; ``B`` under the pair swap and under
reversing both pairs, ``B_{a1a3a2a4} = B_{a3a1a4a2}``.

Recursions (derived at ``1/n`` by conditioning on layer ``l``, Wick contractions of the layer-``l+1``
weights, and the nearly-Gaussian linear response ``E[X F(z)]_c = sum_p E[X z_{p1} z_{p2}]_c d<F>/dK_p`` in the
symmetric kernel variables ``K_p``; the method of PDLT ch. 8, §8.1–8.3; the equations here were derived
independently and checked against Monte Carlo, not copied). Notation: ``G_p = <s_a s_b>_K``,
``T_p = <s'_a s'_b>_K`` for ``p = (a, b)``; ``dX_p[q] = dX_p/dK_q``;
``dOm_{ab}[q] = lambda_W dG_{ab}[q] + C_W Theta_{ab} dT_{ab}[q]`` (response of the stochastic NTK kernel);
``<V u w> = sum_{q,s} u[q] V_{qs} w[s]``; ``S_b(a, c) = <d/dz_b (s'_a s_c)>`` (Stein: ``sum_e K^{-1}_{be}
<z_e s'_a s_c>`` over the inputs ``{a, c}``); ``r = n_l/n_{l-1}``::

    D'_{a1a2a3a4} = C_W lambda_W (<s1 s2 s3 s4> - G12 G34) + C_W^2 Theta12 (<s'1 s'2 s3 s4> - T12 G34)
                    + r [C_W <V dOm12 dG34> + C_W^2 T12 sum_q D_{a1a2 q} dG34[q]]
    F'_{a1a3a2a4} = C_W^2 Theta12 <s'1 s3 s'2 s4>
                    + r C_W^2 sum_{b1 in {a1,a3}, b2 in {a2,a4}} F_{a1 b1 a2 b2} S_b1(a1, a3) S_b2(a2, a4)
    A'_{(a1a2)(a3a4)} = lambda_W^2 (<s1 s2 s3 s4> - G12 G34)
                    + lambda_W C_W [Theta34 (<s1 s2 s'3 s'4> - G12 T34) + Theta12 (<s'1 s'2 s3 s4> - T12 G34)]
                    + C_W^2 Theta12 Theta34 (<s'1 s'2 s'3 s'4> - T12 T34)
                    + r [<V dOm12 dOm34> + C_W T34 sum_q D_{a3a4 q} dOm12[q] + C_W T12 sum_q D_{a1a2 q} dOm34[q]
                         + C_W^2 T12 T34 A_{(a1a2)(a3a4)}]
    B'_{a1a3a2a4} = C_W^2 Theta12 Theta34 <s'1 s'2 s'3 s'4> + r C_W^2 T13 T24 B_{a1a3a2a4}
    Theta1'_{a1a2} = r [lambda_W (sum_q K1_q dG12[q] + 1/2 <V d2G12>)
                    + C_W (T12 Theta1_12 + Theta12 (sum_q K1_q dT12[q] + 1/2 <V d2T12>)
                           + sum_q (D_{a1a2 q} + F_{a1 q1 a2 q2} + F_{a1 q2 a2 q1}) dT12[q])]

(``<V d2X>`` = ``sum_{q,s} V_{qs} d^2X/dK_q dK_s``; four-point brackets are single-neuron Gaussian
expectations at the kernel ``K`` of layer ``l``; in ``B'``, ``Theta12 = Theta_{a1a2}``, ``Theta34 =
Theta_{a3a4}``, ``T13 = T_{a1a3}``, ``T24 = T_{a2a4}``.) First layer: ``H^(1)`` is deterministic and
``z^(1)`` Gaussian, so ``D = F = A = B = Theta1 = 0``.

dNTK (``ntk_recursion(..., dntk=True)``, smooth activations only). This module's ``P, Q`` are the tensors of
the second-derivative piece ``S_{i0i1i2;d0d1d2} = sum_{mu,nu} lambda_mu lambda_nu d^2 z_{i0;d0}/dtheta_mu dtheta_nu
dz_{i1;d1}/dtheta_mu dz_{i2;d2}/dtheta_nu``: ``E[S_{i0i1i2;d0d1d2} z_{i3;d3}] = (1/n)[d_01 d_23 P_{d0d1d2d3} + d_02 d_13
P_{d0d2d1d3} + d_03 d_12 Q_{d0d1d2d3}]`` (``Q`` symmetric in ``d1, d2``; ``S^(1) = 0``). PDLT's dNTK is the
derivative of the NTK along the gradient, ``dH_{i0i1i2;d0d1d2} = sum_mu lambda_mu dz_{i0;d0}/dtheta_mu
dH_{i1i2;d1d2}/dtheta_mu = S_{i1i0i2;d1d0d2} + S_{i2i0i1;d2d0d1}``, so its decomposition ``E[dH_{i0i1i2} z_{i3}] =
(1/n)[d_01 d_23 P^PDLT_{0123} + d_02 d_13 P^PDLT_{0213} + d_03 d_12 Q^PDLT_{0123}]`` has
``P^PDLT_{0123} = P_{1023} + Q_{2013}`` and ``Q^PDLT_{0123} = P_{1203} + P_{2103}`` (digits: inputs ``d0..d3``).
The plain moments of PDLT's dNTK (what Monte Carlo and training measure; ``i != k``) are
``n E[dH_iik z_k] = P^PDLT``, ``n E[dH_ikk z_i] = Q^PDLT``, ``n E[dH_iii z_i] = P^PDLT_{0123} + P^PDLT_{0213} +
Q^PDLT_{0123}``; single input: ``P + Q``, ``2P``, ``2(2P + Q)`` in this module's ``P, Q``
(:func:`nntheory.validation.dntk_moments_from_pq` maps any number of inputs; ``nntheory recursions`` prints them as
``dNTK_moments``). With ``R_b(a, c) = <d/dz_b (s''_a s'_c)>``::

    P'_{0123} = lambda_W C_W Theta02 <s'0 s1 s'2 s3> + C_W^2 Theta01 Theta02 <s''0 s'1 s'2 s3>
                + r [lambda_W C_W sum_{b1,b2} F_{0 b1 2 b2} S_b1(0, 1) S_b2(2, 3)
                     + C_W^2 Theta01 sum_{b1,b2} F_{0 b1 2 b2} R_b1(0, 1) S_b2(2, 3) + C_W^2 T01 sum_b P_{012b} S_b(2, 3)]
    Q'_{0123} = C_W^2 Theta01 Theta02 <s''0 s'1 s'2 s3> + r C_W^2 T12 [B_{0012} <s''0 s3> + sum_b Q_{012b} S_b(0, 3)]

(digits stand for the inputs ``d0..d3``; ``b1`` runs over ``{d0, d1}``, ``b2`` and ``b`` over the inputs of
the Stein factor).

Single input: ``D' = C_W lambda_W (<s^4> - <s^2>^2) + C_W^2 Theta (<s'^2 s^2> - <s'^2><s^2>)
+ r[(lambda_W/C_W) chi_par^2 V + C_W Theta chi_par (d<s'^2>/dK) V + chi_par chi_perp D]``,
``F' = C_W^2 Theta <s'^2 s^2> + r (C_W <z s' s>/K)^2 F``, ``B' = C_W^2 Theta^2 <s'^4> + r chi_perp^2 B``,
with ``chi_par = C_W d<s^2>/dK``, ``chi_perp = C_W <s'^2>``.

Checked (tests/finite_width/test_ntk_recursions.py): exact polynomials in ``l`` for critical ReLU and linear
nets (hand-derived closed forms), the tensor symmetries, compiled = exact to 1e-12 (ReLU, linear, tanh with an
independent Gauss-Hermite rule). Against exact-NTK Monte Carlo of two-input networks (neuron-pair
estimators, widths 32 and 64, linear extrapolation in ``1/n``): ReLU at criticality, depth 3, and tanh at
``C_W = 1.5, C_b = 0.1``, depth 4: every entry of ``A, B, D, F`` and ``Theta1`` within 2.1 standard errors.

Orthogonal weights (``ntk_recursion(..., init="orthogonal")``; Guillen & Gerken's setting): the first layer is
Gaussian, ``W^(1) ~ N(0, C_W/n_0)``, every later layer square, ``W^(l) = sqrt(C_W) O`` with ``O`` Haar on ``O(n)``
(square hidden layers are assumed: ``r = 1`` and ``r`` does not appear). Two-weight moments are exactly Gaussian
(``E[O_ij O_kl] = d_ik d_jl / n``), so the means ``K, K1, Theta, Theta1`` keep their Gaussian form in the layer-``l``
statistics. Four weights follow the Weingarten calculus, ``E[O_{i1j1}..O_{i4j4}] = sum_{p,q} d_p(i) d_q(j) Wg(p,q)``
over pairings ``p`` (rows), ``q`` (columns), ``Wg(p,p) = (n+1)/(n(n-1)(n+2)) = n^-2 (1 + O(n^-2))``, ``Wg(p,q != p) =
-1/(n(n-1)(n+2)) = -n^-3 (1 + O(1/n))``: relative to Gaussian weights each row pairing ``p`` gains ``-(C_W^2/n^3)
sum_{q != p}`` over the two crossed column pairings, summed over the layer-``l`` neurons. A crossed pairing counts at
``1/n`` only where it leaves two free neuron sums over an ``O(1)`` summand; where it puts a cross-neuron object
(``H_jm``, ``S_jmm``, ..., ``j != m``: mean ``O(1/n)``) or the square of one in the summand it is ``O(1/n^2)``. What
survives at ``1/n`` (derived here; checked against Haar Monte Carlo in tests/finite_width/test_orthogonal.py)::

    V'_{(a1a2)(a3a4)} = [Gaussian] - C_W^2 (G13 G24 + G14 G23)
    F'_{a1a3a2a4}     = [Gaussian] - C_W^2 Theta12 T12 G34
    B'_{a1a3a2a4}     = [Gaussian] - C_W^2 Theta12 T12 Theta34 T34

(digits: the inputs ``a1..a4``; ``G = <s s>``, ``T = <s' s'>`` at the layer-``l`` kernel). ``D``, ``A``, ``Theta1``,
``K1`` and the dNTK tensors ``P``, ``Q`` get no explicit term (each crossed pairing there carries a cross-neuron
``H_jm``, ``S_jmm`` or ``H_jm^2``): they are the Gaussian updates evaluated on the orthogonal ``V, F, B, ..`` of layer
``l``. Single input: ``V' = chi_par^2 V + C_W^2 (<s^4> - 3 <s^2>^2)``, ``F' = C_W^2 Theta (<s'^2 s^2> - <s'^2>
<s^2>) + (C_W <z s' s>/K)^2 F``, ``B' = C_W^2 Theta^2 (<s'^4> - <s'^2>^2) + chi_perp^2 B``. Linear networks: ``V = F
= B = 0`` at every depth (``H^(L)`` is ``1`` times a scalar, ``z^(L) = M z^(1)`` with ``M`` orthogonal).

The ddNTK tensors ``R, S, T, U`` get no explicit term either (``ntk_recursion(..., ddntk=True, init="orthogonal")``).
Each ddNTK of layer ``l+1`` carries at most four weights of that layer, one per slot (``z_{i0}`` or ``g_{i}``); a
derivative with respect to ``W^(l+1)`` itself removes two (the differentiated slot's and the contracted slot's), so
the weight count is even (``O -> -O`` leaves Haar invariant) and terms with two or none are exactly Gaussian. In every
four-weight term the layer-``l`` summand is a *chain*: the three slot neurons ``m1, m2, m3`` (ddIH) or ``m, m3, m4``
(ddIIH) are tied to the first slot's neuron ``j`` through ``H_{j m}``, ``S_{j m m'}``, ``ddIH_{j m m' m''}`` (the
gradient of each slot is ``g_{i} = sum_m W_{im} s'_m g_m``). A crossed column pairing identifies the columns across
the row pairing, so it leaves either a single neuron sum (``n^-3 . n``: ``O(1/n^2)``) or two neuron sums whose
summand holds a cross-neuron object linking them (``H_jm``, ``S_jmm``, ``S_jmj``, ``ddIH_jmjm``, ``H_jm^2``, each of
mean ``O(1/n)``: ``n^-3 . n^2 . n^-1 = O(1/n^2)``). Unlike ``V, F, B`` (whose summands have a factor such as
``s_k s_k`` with no ``H`` attached), no term survives at ``1/n``: ``R, S, T, U`` are the Gaussian updates at ``r = 1``
evaluated on the orthogonal ``B, F, P, Q`` of layer ``l``. Checked against Haar Monte Carlo (ddNTK moments, width
sweeps 32/64/128, 640 networks per width unless said): tanh at criticality, depth 2 (the fresh terms; 400 networks:
every moment within 1.8 SE) and depth 3 (within 1.0 SE; the Gaussian recursion off by up to 22 SE); tanh at ``C_W =
1.5, C_b = 0.1``, depth 5 (within 2.2 SE; Gaussian off by 47 SE); two inputs, tanh critical, depth 3 (256 networks,
widths 32/64/96: all 16 entries of every moment within 1.6 SE; Gaussian off by 9 SE); erf and exact GELU at
criticality, depth 4 (within 1.2 SE; Gaussian off by 62 and 17 SE). ``U`` has no carried ``B, F, P, Q`` term, so its
orthogonal and Gaussian values agree (as the Monte Carlo does). Tests: tests/finite_width/test_orthogonal.py.

ddNTK (``ntk_recursion(..., ddntk=True)``; smooth activations; any number of inputs; PDLT ch. 11 definitions, with
``g_{i;a} = Lambda grad_theta z_{i;a}`` the learning-rate-weighted gradient; inputs ``a0..a3`` follow the neuron
slots)::

    ddIH_{i0i1i2i3}  = d^3 z_{i0}[g_{i1}, g_{i2}, g_{i3}]
                     = sum lambda_{mu1nu1} lambda_{mu2nu2} lambda_{mu3nu3} d3z_{i0}/dmu1 dmu2 dmu3
                           dz_{i1}/dnu1 dz_{i2}/dnu2 dz_{i3}/dnu3
    ddIIH_{i1i2i3i4} = d^2 z_{i1}[g_{i3}, Lambda d^2 z_{i2}[g_{i4}]]
                     = sum lambda_{mu1nu1} lambda_{mu2nu2} lambda_{mu3nu3} d2z_{i1}/dmu1 dmu2 d2z_{i2}/dnu1 dmu3
                           dz_{i3}/dnu2 dz_{i4}/dnu3
    E[ddIH_{i0i1i2i3;a0a1a2a3}]  = (1/n)[d01 d23 R_{a0a1a2a3} + d02 d13 R_{a0a2a1a3} + d03 d12 R_{a0a3a1a2}]
    E[ddIIH_{i1i2i3i4;a1a2a3a4}] = (1/n)[d12 d34 S_{a1a2a3a4} + d13 d24 T_{a1a2a3a4} + d14 d23 U_{a1a2a3a4}]

so each tensor is the plain moment ``n E[ddH]`` over two distinct neurons ``i != k`` (:func:`ddntk_moments`):
``R = n E[ddIH_iikk]`` (symmetric in ``a2, a3``), ``S = n E[ddIIH_iikk]``, ``T = n E[ddIIH_ikik]``,
``U = n E[ddIIH_ikki]``; ``n E[ddIH_iiii] = R_{0123} + R_{0213} + R_{0312}``, ``n E[ddIIH_iiii] = S + T + U``
(single input: ``3R`` and ``S + T + U``). ``ddIH`` is symmetric in its last three slots, ``ddIIH_{1234} =
ddIIH_{2143}``; both vanish at the first layer. Recursions (derived here as above: Wick contractions of the new
weights; ``E[H_{jm;..} H_{jm;..} f(z_j) g(z_m)]`` factorises into ``B/n`` times single-neuron means; the odd
cross-neuron objects ``H_jm``, ``dH_jmm``, ``dH_mjm``, ``dH_jjm`` act by linear response, e.g. ``E[dH_{jmm;d0d1d2}
f(z_j)] = sum_e Q_{d0d1d2e} <d_e f>/n``; products of two odd cross-neuron objects are ``O(1/n^2)``). Digits are the
inputs ``a0..a3`` (``R``) or ``a1..a4`` (``S, T, U``); ``<s''0 s1 ..>`` single-neuron Gaussian means;
``St_e(x, y; p, q) = <d/dz_e (s^(p)_x s^(q)_y)>`` (Stein, ``e`` over ``{x, y}``); ``B_{xy|uv}`` is ``n E[H_{jm;xu}
H_{jm;yv}]`` (``j != m``) = ``B[x, y, u, v]`` in the layout above; ``sum_{ef} F St St`` means
``sum_{e,f} F[a1, e, a2, f] St_e(1, 3; .) St_f(2, 4; .)``::

    R'_{0123} = lambda_W C_W [Th02 Th03 <s1 s''0 s'2 s'3> + r B_{00|23} <s1 s''0> T23 + r sum_e Q_{023e} St_e(0,1;1,0) T23]
                + C_W^2 [Th01 Th02 Th03 <s'''0 s'1 s'2 s'3> + r Th01 B_{00|23} <s'''0 s'1> T23
                         + r Th01 sum_e Q_{023e} St_e(0,1;2,1) T23] + r C_W^2 T01 T23 R_{0123}
    S'_{1234} = lambda_W C_W [Th13 Th24 <s'1 s'2 s'3 s'4> + r B_{12|34} T12 T34]
                + C_W^2 [Th12 Th13 Th24 <s''1 s''2 s'3 s'4> + r Th12 B_{12|34} <s''1 s''2> T34] + r C_W^2 T12 T34 S_{1234}
    T'_{1234} = lambda_W^2 [Th12 <s'1 s'2 s3 s4> + r sum_{ef} F St(1,3;1,0) St(2,4;1,0)]
                + lambda_W C_W [Th12 Th24 <s'1 s''2 s3 s'4> + Th12 Th13 <s''1 s'2 s'3 s4>
                                + r Th24 sum_{ef} F St(1,3;1,0) St(2,4;2,1) + r Th13 sum_{ef} F St(1,3;2,1) St(2,4;1,0)
                                + r T24 sum_e P_{241e} St_e(1,3;1,0) + r T13 sum_f P_{132f} St_f(2,4;1,0)]
                + C_W^2 [Th12 Th13 Th24 <s''1 s''2 s'3 s'4> + r Th13 Th24 sum_{ef} F St(1,3;2,1) St(2,4;2,1)
                         + r Th13 T24 sum_e P_{241e} St_e(1,3;2,1) + r Th24 T13 sum_f P_{132f} St_f(2,4;2,1)]
                + r C_W^2 T13 T24 T_{1234}
    U'_{1234} = C_W^2 Th12 Th13 Th24 <s''1 s''2 s'3 s'4> + r C_W^2 T14 T23 U_{1234}

(``Th = Theta``, ``Txy = <s'_x s'_y>``.) Single input: ``R' = lambda_W C_W [Theta^2 <s s'' s'^2> + r B <s s''>
<s'^2> + r Q <(s s')'> <s'^2>] + C_W^2 [Theta^3 <s''' s'^3> + r Theta (B <s''' s'> + Q <(s' s'')'>) <s'^2>]
+ r chi_perp^2 R``, ``T' = Theta <(lambda_W s s' + C_W Theta s' s'')^2> + r F (lambda_W <(s s')'> + C_W Theta
<(s' s'')'>)^2 + 2 r P C_W <s'^2> (lambda_W <(s s')'> + C_W Theta <(s' s'')'>) + r chi_perp^2 T``,
``U' = C_W^2 Theta^3 <s''^2 s'^2> + r chi_perp^2 U``. Checked against exact-derivative Monte Carlo
(:mod:`nntheory.validation.finite_width._ddntk_monte_carlo`, width sweeps 32/64/128 extrapolated in ``1/n``):
tanh, erf and exact GELU at criticality, tanh at ``C_W = 1.5, C_b = 0.1``, depth 2 to 6, one and two inputs; and
against hand-derived closed forms for linear networks (tests/finite_width/test_ddntk.py).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import sympy

from nntheory.errors import SpecError
from nntheory.theory._activations import Activation
from nntheory.theory._gaussian import activation_function, kernel_symbols, product_mean, stein_mean
from nntheory.theory.finite_width._recursions import (
    C_W,
    Recursion,
    Statistic,
    V_index,
    _array4,
    _matrix,
    _pair,
    _two_point,
    finite_width_recursion,
    lambda_W,
    pairs,
    r,
)

__all__ = ["DDNTK_STATISTICS", "NTK_STATISTICS", "ddntk_moments", "ntk_recursion"]

#: the statistics of :func:`ntk_recursion`, in order
NTK_STATISTICS = ("K", "V", "K1", "Theta", "Theta1", "D", "F", "A", "B")


def _D_key(a1, a2, a3, a4):
    return (_pair(a1, a2), _pair(a3, a4))


def _F_key(a1, a3, a2, a4):
    x, y = (a1, a3), (a2, a4)
    return min((x, y), (y, x))


def _B_key(a1, a3, a2, a4):
    x, y = (a1, a3), (a2, a4)
    xr, yr = (a3, a1), (a4, a2)
    return min((x, y), (y, x), (xr, yr), (yr, xr))


KEYS = {"D": _D_key, "F": _F_key, "A": V_index, "B": _B_key}


def _symbols(name: str, m: int) -> dict:
    """One symbol per canonical key of tensor ``name`` (``D``, ``F``, ``A``, ``B``) for ``m`` inputs."""
    key = KEYS[name]
    out = {}
    for idx in product(range(m), repeat=4):
        k = key(*idx)
        if k not in out:
            label = name if m == 1 else f"{name}_{k[0][0] + 1}{k[0][1] + 1}_{k[1][0] + 1}{k[1][1] + 1}"
            out[k] = sympy.Symbol(label, real=True)
    return out


class _Moments:
    """Single-neuron Gaussian expectations at the kernel symbols ``K`` (cached, closed forms where known)."""

    def __init__(self, act: Activation, K: sympy.ImmutableMatrix) -> None:
        self.act, self.K, self.s = act, K, activation_function(act)
        self._cache: dict = {}

    def four(self, idx: tuple[int, ...], ders: tuple[int, ...]) -> sympy.Expr:
        """``<prod_k s^(ders_k)(z_{idx_k})>``."""
        key = ("four", idx, ders)
        if key not in self._cache:
            self._cache[key] = product_mean(self.s, self.K, tuple(zip(idx, ders)))
        return self._cache[key]

    def stein(self, b: int, a: int, c: int, da: int = 1, dc: int = 0) -> sympy.Expr:
        """``<d/dz_b (s^(da)(z_a) s^(dc)(z_c))>`` by Stein's lemma (default ``S_b(a, c)``, ``da=1, dc=0``)."""
        key = ("stein", b, a, c, da, dc)
        if key not in self._cache:
            self._cache[key] = stein_mean(self.s, self.K, b, ((a, da), (c, dc)))
        return self._cache[key]


def _vsum(Vs: dict, u: dict, w: dict, P: list) -> sympy.Expr:
    return sympy.Add(*[u[p] * w[q] * Vs[V_index(*p, *q)] for p in P for q in P if u[p] != 0 and w[q] != 0])


def _ntk_updates(act: Activation, m: int, all_indices: bool = False, init: str = "gaussian") -> tuple[dict, dict, dict]:
    """Symbols and updates of ``D, F, A, B`` (keyed by array index: canonical ones, or all with
    ``all_indices``) and of ``Theta1`` (keyed by input pair); ``init="orthogonal"`` adds the Weingarten terms of
    ``F`` and ``B`` (module docstring; ``r`` is left in, :func:`ntk_recursion` sets it to 1)."""
    base = finite_width_recursion(act, m, init=init)
    K = kernel_symbols(m, "K")
    K1 = kernel_symbols(m, "K1")
    Th = kernel_symbols(m, "Theta")
    Th1 = kernel_symbols(m, "Theta1")
    Vs = {V_index(*p, *q): base["V"].symbols[p + q] for p in pairs(m) for q in pairs(m)}
    syms = {name: _symbols(name, m) for name in ("D", "F", "A", "B")}
    D, F, A, B = (lambda *i, n=name: syms[n][KEYS[n](*i)] for name in ("D", "F", "A", "B"))
    mom = _Moments(act, K)
    P = pairs(m)
    G = {p: _two_point(act, K, *p) for p in P}
    T = {p: _two_point(act, K, *p, deriv=1) for p in P}
    dG = {p: {q: sympy.diff(G[p], K[q]) for q in P} for p in P}
    dT = {p: {q: sympy.diff(T[p], K[q]) for q in P} for p in P}

    def g(a, b):
        return G[_pair(a, b)]

    def t(a, b):
        return T[_pair(a, b)]

    def dom(a, b):
        p = _pair(a, b)
        return {q: lambda_W * dG[p][q] + C_W * Th[a, b] * dT[p][q] for q in P}

    def d_contract(a, b, w):
        """``sum_q D_{ab q} w[q]``."""
        return sympy.Add(*[D(a, b, *q) * w[q] for q in P if w[q] != 0])

    upd = {n: {} for n in ("D", "F", "A", "B")}

    def indices(name):
        return list(product(range(m), repeat=4)) if all_indices else [k[0] + k[1] for k in syms[name]]

    for idx in indices("D"):
        a1, a2, a3, a4 = idx
        p34 = _pair(a3, a4)
        upd["D"][idx] = (
            C_W * lambda_W * (mom.four(idx, (0, 0, 0, 0)) - g(a1, a2) * g(a3, a4))
            + C_W**2 * Th[a1, a2] * (mom.four(idx, (1, 1, 0, 0)) - t(a1, a2) * g(a3, a4))
            + r * (C_W * _vsum(Vs, dom(a1, a2), dG[p34], P) + C_W**2 * t(a1, a2) * d_contract(a1, a2, dG[p34]))
        )
    for idx in indices("F"):
        a1, a3, a2, a4 = idx
        carried = sympy.Add(*[
            F(a1, b1, a2, b2) * mom.stein(b1, a1, a3) * mom.stein(b2, a2, a4)
            for b1 in sorted({a1, a3}) for b2 in sorted({a2, a4})
        ])
        upd["F"][idx] = C_W**2 * Th[a1, a2] * mom.four((a1, a3, a2, a4), (1, 0, 1, 0)) + r * C_W**2 * carried
        if init == "orthogonal":
            upd["F"][idx] -= C_W**2 * Th[a1, a2] * t(a1, a2) * g(a3, a4)
    for idx in indices("A"):
        a1, a2, a3, a4 = idx
        d12, d34 = dom(a1, a2), dom(a3, a4)
        upd["A"][idx] = (
            lambda_W**2 * (mom.four(idx, (0, 0, 0, 0)) - g(a1, a2) * g(a3, a4))
            + lambda_W * C_W * (Th[a3, a4] * (mom.four(idx, (0, 0, 1, 1)) - g(a1, a2) * t(a3, a4))
                                + Th[a1, a2] * (mom.four(idx, (1, 1, 0, 0)) - t(a1, a2) * g(a3, a4)))
            + C_W**2 * Th[a1, a2] * Th[a3, a4] * (mom.four(idx, (1, 1, 1, 1)) - t(a1, a2) * t(a3, a4))
            + r * (_vsum(Vs, d12, d34, P) + C_W * t(a3, a4) * d_contract(a3, a4, d12)
                   + C_W * t(a1, a2) * d_contract(a1, a2, d34) + C_W**2 * t(a1, a2) * t(a3, a4) * A(a1, a2, a3, a4))
        )
    for idx in indices("B"):
        a1, a3, a2, a4 = idx
        upd["B"][idx] = (C_W**2 * Th[a1, a2] * Th[a3, a4] * mom.four((a1, a2, a3, a4), (1, 1, 1, 1))
                         + r * C_W**2 * t(a1, a3) * t(a2, a4) * B(a1, a3, a2, a4))
        if init == "orthogonal":
            upd["B"][idx] -= C_W**2 * Th[a1, a2] * t(a1, a2) * Th[a3, a4] * t(a3, a4)
    th1 = {}
    for p in P:
        a1, a2 = p
        d2G = sympy.Add(*[
            sympy.diff(dG[p][q], K[s]) * Vs[V_index(*q, *s)] for q in P for s in P if dG[p][q] != 0])
        d2T = sympy.Add(*[sympy.diff(dT[p][q], K[s]) * Vs[V_index(*q, *s)] for q in P for s in P if dT[p][q] != 0])
        lin_G = sympy.Add(*[K1[q] * dG[p][q] for q in P])
        lin_T = sympy.Add(*[K1[q] * dT[p][q] for q in P])
        cross = sympy.Add(*[(D(a1, a2, *q) + F(a1, q[0], a2, q[1]) + F(a1, q[1], a2, q[0])) * dT[p][q]
                            for q in P if dT[p][q] != 0])
        th1[p] = r * (lambda_W * (lin_G + d2G / 2)
                      + C_W * (T[p] * Th1[a1, a2] + Th[a1, a2] * (lin_T + d2T / 2) + cross))

    return syms, upd, th1


def _P_key(d0, d1, d2, d3):
    return (d0, d1, d2, d3)


def _Q_key(d0, d1, d2, d3):
    return (d0, min(d1, d2), max(d1, d2), d3)


DNTK_KEYS = {"P": _P_key, "Q": _Q_key}


def _dntk_updates(act: Activation, m: int, all_indices: bool = False) -> tuple[dict, dict]:
    """Symbols and updates of the dNTK tensors ``P, Q`` keyed by array index (canonical, or all)."""
    K = kernel_symbols(m, "K")
    Th = kernel_symbols(m, "Theta")
    F = _symbols("F", m)
    Bs = _symbols("B", m)
    syms = {}
    for name, key in DNTK_KEYS.items():
        syms[name] = {}
        for idx in product(range(m), repeat=4):
            k = key(*idx)
            if k not in syms[name]:
                syms[name][k] = sympy.Symbol(name if m == 1 else name + "_" + "".join(str(i + 1) for i in k), real=True)
    mom = _Moments(act, K)

    def Fs(a1, b1, a2, b2):
        return F[_F_key(a1, b1, a2, b2)]

    T = {p: _two_point(act, K, *p, deriv=1) for p in pairs(m)}
    upd = {"P": {}, "Q": {}}
    for idx in (product(range(m), repeat=4) if all_indices else list(syms["P"])):
        d0, d1, d2, d3 = idx
        f_resp = sympy.Add(*[Fs(d0, b1, d2, b2) * mom.stein(b1, d0, d1) * mom.stein(b2, d2, d3)
                             for b1 in sorted({d0, d1}) for b2 in sorted({d2, d3})])
        f_resp2 = sympy.Add(*[Fs(d0, b1, d2, b2) * mom.stein(b1, d0, d1, 2, 1) * mom.stein(b2, d2, d3)
                              for b1 in sorted({d0, d1}) for b2 in sorted({d2, d3})])
        p_resp = sympy.Add(*[syms["P"][_P_key(d0, d1, d2, b)] * mom.stein(b, d2, d3) for b in sorted({d2, d3})])
        upd["P"][idx] = (
            lambda_W * C_W * Th[d0, d2] * mom.four((d0, d1, d2, d3), (1, 0, 1, 0))
            + C_W**2 * Th[d0, d1] * Th[d0, d2] * mom.four((d0, d1, d2, d3), (2, 1, 1, 0))
            + r * (lambda_W * C_W * f_resp + C_W**2 * Th[d0, d1] * f_resp2 + C_W**2 * T[_pair(d0, d1)] * p_resp)
        )
    for idx in (product(range(m), repeat=4) if all_indices else [k for k in syms["Q"]]):
        d0, d1, d2, d3 = idx
        q_resp = sympy.Add(*[syms["Q"][_Q_key(d0, d1, d2, b)] * mom.stein(b, d0, d3) for b in sorted({d0, d3})])
        upd["Q"][idx] = (
            C_W**2 * Th[d0, d1] * Th[d0, d2] * mom.four((d0, d1, d2, d3), (2, 1, 1, 0))
            + r * C_W**2 * T[_pair(d1, d2)] * (Bs[_B_key(d0, d0, d1, d2)] * mom.four((d0, d3), (2, 0)) + q_resp)
        )
    return syms, upd


DDNTK_STATISTICS = ("R", "S", "T", "U")


def ddntk_moments(R, S, T, U) -> dict:
    """The plain ddNTK moments as combinations of ``R, S, T, U`` (the Monte Carlo keys ``DDNTK_MOMENTS``).

    With ``i != k`` and ``n = n_{l-1}`` (definitions in the module docstring; ``[a0, a1, a2, a3]`` the inputs in
    the ddNTK's own index order): ``n E[ddIH_{iikk}] = R[a0,a1,a2,a3]``, ``n E[ddIH_{ikik}] = R[a0,a2,a1,a3]``,
    ``n E[ddIH_{ikki}] = R[a0,a3,a1,a2]``, ``n E[ddIH_{iiii}]`` their sum; ``n E[ddIIH_{iikk}] = S``,
    ``n E[ddIIH_{ikik}] = T``, ``n E[ddIIH_{ikki}] = U``, ``n E[ddIIH_{iiii}] = S + T + U``. Single input:
    ``R, R, R, 3R, S, T, U, S + T + U``.

    Args:
        R, S, T, U: the ddNTK tensors of one layer: numbers or sympy expressions (single input), or arrays of shape
            ``(m, m, m, m)`` (sympy ``NDimArray`` or any array with a ``transpose(*axes)`` method).

    Returns:
        ``{"ddI_iikk", "ddI_ikik", "ddI_ikki", "ddI_iiii", "ddII_iikk", "ddII_ikik", "ddII_ikki", "ddII_iiii"}``.
    """
    if getattr(R, "shape", ()) in ((), None):
        R1, R2, R3 = R, R, R
    elif isinstance(R, sympy.NDimArray):
        R1, R2, R3 = R, sympy.permutedims(R, (0, 2, 1, 3)), sympy.permutedims(R, (0, 2, 3, 1))
    else:
        R1, R2, R3 = R, R.transpose(0, 2, 1, 3), R.transpose(0, 2, 3, 1)
    return {"ddI_iikk": R1, "ddI_ikik": R2, "ddI_ikki": R3, "ddI_iiii": R1 + R2 + R3,
            "ddII_iikk": S, "ddII_ikik": T, "ddII_ikki": U, "ddII_iiii": S + T + U}


def _dd_symbols(m: int) -> dict:
    """One symbol per input index ``(a1, a2, a3, a4)`` of each ddNTK tensor (no symmetry reduction)."""
    return {name: {idx: sympy.Symbol(name if m == 1 else name + "_" + "".join(str(i + 1) for i in idx), real=True)
                   for idx in product(range(m), repeat=4)} for name in DDNTK_STATISTICS}


def _ddntk_updates(act: Activation, m: int) -> tuple[dict, dict]:
    """Symbols and updates of the ddNTK tensors ``R, S, T, U`` keyed by input index (see the module docstring)."""
    K = kernel_symbols(m, "K")
    Th = kernel_symbols(m, "Theta")
    F, Bs = _symbols("F", m), _symbols("B", m)
    P = {k: sympy.Symbol("P" if m == 1 else "P_" + "".join(str(i + 1) for i in k), real=True)
         for k in product(range(m), repeat=4)}
    Q = {}
    for idx in product(range(m), repeat=4):
        k = _Q_key(*idx)
        Q[idx] = sympy.Symbol("Q" if m == 1 else "Q_" + "".join(str(i + 1) for i in k), real=True)
    syms = _dd_symbols(m)
    mom = _Moments(act, K)
    T = {p: _two_point(act, K, *p, deriv=1) for p in pairs(m)}

    def t(a, b):
        return T[_pair(a, b)]

    def b_jm(xj, xm, yj, ym):
        """``n E[H_{jm;xj xm} H_{jm;yj ym}]`` (``j != m``) = ``B[xj, yj, xm, ym]``."""
        return Bs[_B_key(xj, yj, xm, ym)]

    def st(e, a, c, da, dc):
        return mom.stein(e, a, c, da, dc)

    def f_resp(a1, a3, a2, a4, d13, d24):
        """``sum_{e,f} F[a1, e, a2, f] <d_e (s^(d13[0])_a1 s^(d13[1])_a3)> <d_f (s^(d24[0])_a2 s^(d24[1])_a4)>``."""
        return sympy.Add(*[F[_F_key(a1, e, a2, f)] * st(e, a1, a3, *d13) * st(f, a2, a4, *d24)
                           for e in sorted({a1, a3}) for f in sorted({a2, a4})])

    def q_resp(d0, d1, d2, a, da, dc):
        """``sum_e Q[d0, d1, d2, e] <d_e (s^(da)_d0 s^(dc)_a)>``."""
        return sympy.Add(*[Q[(d0, d1, d2, e)] * st(e, d0, a, da, dc) for e in sorted({d0, a})])

    def p_resp(d0, d1, d2, a, c, da, dc):
        """``sum_e P[d0, d1, d2, e] <d_e (s^(da)_a s^(dc)_c)>``."""
        return sympy.Add(*[P[(d0, d1, d2, e)] * st(e, a, c, da, dc) for e in sorted({a, c})])

    upd = {name: {} for name in DDNTK_STATISTICS}
    for idx in product(range(m), repeat=4):
        a0, a1, a2, a3 = idx
        b = Bs[_B_key(a0, a0, a2, a3)]
        upd["R"][idx] = (
            lambda_W * C_W * (Th[a0, a2] * Th[a0, a3] * mom.four((a1, a0, a2, a3), (0, 2, 1, 1))
                              + r * b * mom.four((a1, a0), (0, 2)) * t(a2, a3)
                              + r * q_resp(a0, a2, a3, a1, 1, 0) * t(a2, a3))
            + C_W**2 * (Th[a0, a1] * Th[a0, a2] * Th[a0, a3] * mom.four((a0, a1, a2, a3), (3, 1, 1, 1))
                        + r * Th[a0, a1] * b * mom.four((a0, a1), (3, 1)) * t(a2, a3)
                        + r * Th[a0, a1] * q_resp(a0, a2, a3, a1, 2, 1) * t(a2, a3))
            + r * C_W**2 * t(a0, a1) * t(a2, a3) * syms["R"][idx])
    for idx in product(range(m), repeat=4):
        a1, a2, a3, a4 = idx
        th3 = Th[a1, a2] * Th[a1, a3] * Th[a2, a4]
        upd["S"][idx] = (
            lambda_W * C_W * (Th[a1, a3] * Th[a2, a4] * mom.four(idx, (1, 1, 1, 1))
                              + r * b_jm(a2, a4, a1, a3) * t(a1, a2) * t(a3, a4))
            + C_W**2 * (th3 * mom.four(idx, (2, 2, 1, 1))
                        + r * Th[a1, a2] * b_jm(a1, a3, a2, a4) * mom.four((a1, a2), (2, 2)) * t(a3, a4))
            + r * C_W**2 * t(a1, a2) * t(a3, a4) * syms["S"][idx])
        upd["T"][idx] = (
            lambda_W**2 * (Th[a1, a2] * mom.four(idx, (1, 1, 0, 0)) + r * f_resp(a1, a3, a2, a4, (1, 0), (1, 0)))
            + lambda_W * C_W * (Th[a1, a2] * Th[a2, a4] * mom.four(idx, (1, 2, 0, 1))
                                + r * Th[a2, a4] * f_resp(a1, a3, a2, a4, (1, 0), (2, 1))
                                + Th[a1, a2] * Th[a1, a3] * mom.four(idx, (2, 1, 1, 0))
                                + r * Th[a1, a3] * f_resp(a1, a3, a2, a4, (2, 1), (1, 0))
                                + r * p_resp(a2, a4, a1, a1, a3, 1, 0) * t(a2, a4)
                                + r * p_resp(a1, a3, a2, a2, a4, 1, 0) * t(a1, a3))
            + C_W**2 * (th3 * mom.four(idx, (2, 2, 1, 1))
                        + r * Th[a1, a3] * Th[a2, a4] * f_resp(a1, a3, a2, a4, (2, 1), (2, 1))
                        + r * Th[a1, a3] * p_resp(a2, a4, a1, a1, a3, 2, 1) * t(a2, a4)
                        + r * Th[a2, a4] * p_resp(a1, a3, a2, a2, a4, 2, 1) * t(a1, a3))
            + r * C_W**2 * t(a1, a3) * t(a2, a4) * syms["T"][idx])
        upd["U"][idx] = C_W**2 * th3 * mom.four(idx, (2, 2, 1, 1)) + r * C_W**2 * t(a1, a4) * t(a2, a3) * syms["U"][idx]
    return syms, upd


def _flat_key(key):
    return key[0] + key[1]


def ntk_recursion(act: Activation, n_inputs: int = 1, dntk: bool = False, ddntk: bool = False,
                  init: str = "gaussian") -> Recursion:
    r"""Recursions of :math:`K, V, K^{\{1\}}, \Theta` plus the NTK sector at order ``1/n`` (Gaussian or orthogonal weights).

    The statistics, in order: ``K, V, K1, Theta`` (as :func:`finite_width_recursion`), then
    ``Theta1`` (NLO NTK mean), ``D``, ``F`` (NTK-preactivation cross-correlations), ``A``, ``B``
    (NTK variance), each of order ``1/n_{l-1}``. Definitions by moments, array layouts, symmetries and
    the recursions: see :mod:`nntheory.theory.finite_width._ntk`. In short, with ``n = n_{l-1}``:
    ``E[H_{i1i2;a1a2}] = d12 (Theta + Theta1/n)``,
    ``E[dH_{i1i2;a1a2} z_{i3;a3} z_{i4;a4}] = (d12 d34 D_{a1a2a3a4} + d13 d24 F_{a1a3a2a4} + d14 d23 F_{a1a4a2a3})/n``,
    ``E[dH_{i1i2;a1a2} dH_{i3i4;a3a4}] = (d12 d34 A_{(a1a2)(a3a4)} + d13 d24 B_{a1a3a2a4} + d14 d23 B_{a1a4a2a3})/n``.
    Single input (``n_inputs=1``): ``E[dH_ii z_i z_i] = (D + 2F)/n``, ``E[dH_ii z_k z_k] = D/n`` and
    ``E[dH_ik z_i z_k] = F/n`` (``i != k``); ``Var(H_ii) = (A + 2B)/n``, ``Cov(H_ii, H_kk) = A/n``,
    ``Var(H_ik) = B/n``.

    Args:
        act: the activation.
        n_inputs: the number of inputs (the Gram matrix is ``n_inputs x n_inputs``).
        dntk: also the tensors ``P``, ``Q`` of the dNTK's second-derivative piece ``S`` (module docstring); PDLT's
            dNTK moments are ``n E[dH_iik z_k] = P + Q``, ``n E[dH_ikk z_i] = 2P``, ``n E[dH_iii z_i] = 2(2P + Q)``
            for one input (:func:`nntheory.validation.dntk_moments_from_pq` for several).
        ddntk: also the ddNTK tensors ``R, S, T, U`` (implies ``dntk``): ``n E[ddIH_{iikk}] = R``,
            ``n E[ddIIH_{iikk}] = S``, ``n E[ddIIH_{ikik}] = T``, ``n E[ddIIH_{ikki}] = U`` (``i != k``, inputs in
            the slot order); :func:`ddntk_moments` lists all plain moments.
        init: ``"gaussian"`` (default) or ``"orthogonal"``: Gaussian first layer, then square layers ``sqrt(C_W) O``
            with ``O`` Haar-orthogonal (square hidden layers assumed, ``r = 1``); the Weingarten terms of ``V, F, B``
            are in the module docstring (``R, S, T, U``: none, the Gaussian updates on orthogonal inputs).

    Returns:
        A :class:`Recursion` with the statistics ``NTK_STATISTICS`` = ``K, V, K1, Theta, Theta1, D, F, A, B``
        (then ``P, Q`` with ``dntk=True``, then ``R, S, T, U`` with ``ddntk=True``); it prints, ``latex()``-s,
        iterates exactly and compiles like any :class:`Recursion`.

    Raises:
        SpecError: ``n_inputs`` not an int >= 1; ``dntk=True`` or ``ddntk=True`` with an activation that has kinks;
            ``init`` not ``"gaussian"`` or ``"orthogonal"``.

    Example:
        >>> from nntheory.theory import activation
        >>> rec = ntk_recursion(activation("relu"))
        >>> rec.update("B")
        B*C_W**2*r/4 + C_W**2*Theta**2/2
        >>> ntk_recursion(activation("relu"), init="orthogonal").update("B")
        B*C_W**2/4 + C_W**2*Theta**2/4
    """
    from nntheory._checks import check_int
    from nntheory.theory.finite_width._recursions import _check_init

    m = check_int(n_inputs, "n_inputs", lo=1, where="ntk_recursion")
    init = _check_init(init, "ntk_recursion")
    return _ntk_recursion(act, m, bool(dntk), bool(ddntk), init)


@lru_cache(maxsize=32)
def _ntk_recursion(act: Activation, m: int, dntk: bool, ddntk: bool, init: str) -> Recursion:
    from nntheory.theory.finite_width._recursions import _square

    base = finite_width_recursion(act, m, init=init)
    syms, upd, th1 = _ntk_updates(act, m, init=init)
    Th1 = kernel_symbols(m, "Theta1")

    def tensor(name):
        return Statistic(
            name, 1, _DESCRIPTIONS[name], _array4(m, lambda *i: syms[name][KEYS[name](*i)]),
            _array4(m, lambda *i: upd[name][_flat_key(KEYS[name](*i))]), _array4(m, lambda *i: 0),
        )

    theta1 = Statistic("Theta1", 1, _DESCRIPTIONS["Theta1"], _matrix(m, lambda a, b: Th1[a, b]),
                       _matrix(m, lambda a, b: th1[_pair(a, b)]), _matrix(m, lambda a, b: 0))
    stats = base.statistics + (theta1,) + tuple(tensor(n) for n in ("D", "F", "A", "B"))
    if ddntk:
        if not act.is_smooth:
            raise SpecError(f"ntk_recursion: the ddNTK tensors R, S, T, U need sigma'' and sigma''' as functions; "
                            f"activation {act.name!r} has kinks (Stein's lemma does not apply to them). Use a smooth "
                            "activation, or ddntk=False.")
    if dntk or ddntk:
        if not act.is_smooth:
            raise SpecError(f"ntk_recursion: the dNTK tensors P, Q need sigma'' as a function; activation {act.name!r} "
                            "has kinks (sigma'' is a distribution). Use a smooth activation, or dntk=False.")
        dsyms, dupd = _dntk_updates(act, m)
        stats += tuple(
            Statistic(name, 1, _DESCRIPTIONS[name], _array4(m, lambda *i, n=name: dsyms[n][DNTK_KEYS[n](*i)]),
                      _array4(m, lambda *i, n=name: dupd[n][DNTK_KEYS[n](*i)]), _array4(m, lambda *i: 0))
            for name in ("P", "Q"))
    if ddntk:
        ddsyms, ddupd = _ddntk_updates(act, m)
        stats += tuple(
            Statistic(name, 1, _DESCRIPTIONS[name], _array4(m, lambda *i, n=name: ddsyms[n][i]),
                      _array4(m, lambda *i, n=name: ddupd[n][i]), _array4(m, lambda *i: 0))
            for name in DDNTK_STATISTICS)
    if init == "orthogonal":
        stats = base.statistics + _square(stats[len(base.statistics):])
    return Recursion(activation=act, n_inputs=m, statistics=stats, gram=base.gram, init=init)


_DESCRIPTIONS = {
    "Theta1": "NLO NTK mean: E[H_ii] = Theta + Theta1/n_{l-1}",
    "D": "NTK-preactivation: E[dH_{i1i2} z_i3 z_i4] = (d12 d34 D + d13 d24 F + d14 d23 F)/n_{l-1}",
    "F": "NTK-preactivation: the d13 d24 term F_{a1a3a2a4} of E[dH_{i1i2} z_i3 z_i4]",
    "A": "NTK variance: E[dH_{i1i2} dH_{i3i4}] = (d12 d34 A + d13 d24 B + d14 d23 B)/n_{l-1}",
    "B": "NTK variance: the d13 d24 term B_{a1a3a2a4} of E[dH_{i1i2} dH_{i3i4}]",
    "P": "dNTK piece S = d2z_i0[g_i1, g_i2]: E[S_{i0i1i2} z_i3] = (d01 d23 P_{0123} + d02 d13 P_{0213} + d03 d12 Q_{0123})/n_{l-1}",
    "Q": "dNTK piece S: the d03 d12 term Q_{d0d1d2d3} of E[S_{i0i1i2} z_i3]",
    "R": "ddNTK: E[ddIH_{i0i1i2i3}] = (d01 d23 R_{0123} + d02 d13 R_{0213} + d03 d12 R_{0312})/n_{l-1}",
    "S": "ddNTK: E[ddIIH_{i1i2i3i4}] = (d12 d34 S + d13 d24 T + d14 d23 U)/n_{l-1}",
    "T": "ddNTK: the d13 d24 term T of E[ddIIH_{i1i2i3i4}]",
    "U": "ddNTK: the d14 d23 term U of E[ddIIH_{i1i2i3i4}]",
}
