r"""Lie algebra actions on manifolds and jet spaces, prolongation, and differential invariants.

A :class:`LieAlgebraAction` is a frozen descriptor: the coordinates of a :class:`JetSpace`
(independent variables ``x^i``, dependent variables ``u^alpha``) and ``r`` infinitesimal generators

.. math:: v_a = \sum_i \xi_a^i(x, u)\,\partial_{x^i} + \sum_\alpha \varphi_{a,\alpha}(x, u)\,\partial_{u^\alpha},

checked on construction to close into an ``r``-dimensional Lie algebra (exact structure constants
``[v_a, v_b] = c_{ab}^c v_c``; ``[v, w]`` is the commutator of vector fields, ``v(w^k) - w(v^k)``).

Jet coordinates are ``u_J`` for sorted multi-indices ``J`` and are named ``u_x``, ``u_xx``, ``u_xy``
(derivative letters in the order of the independent variables). Prolongation uses the
characteristic formula (Olver, *Applications of Lie Groups to Differential Equations*, Thm 2.36) in
its recursive form ``phi^{J,i} = D_i phi^J - sum_j D_i(xi^j) u_{J,j}``.

Counts: the number of functionally independent invariants of order ``<= k`` is
``dim J^k - (generic orbit dimension)``, the orbit dimension being the generic rank of the matrix of
prolonged generator coefficients (evaluated at random points in 50-digit arithmetic; exact rank is
not needed, only its generic value).

Invariants: Fels–Olver moving frame. A cross-section ``K = {z_c = const}`` is chosen transversal to
the orbits (coordinates taken in order of increasing jet order, constants 0 where the transversality
minor does not vanish there, else 1); the group element is a product of the generators' flows
(their characteristic ODEs, integrated exactly: matrix exponential for affine generators,
``dsolve`` for triangular ones) or the finite action supplied by the user; the normalisation
equations are solved for the group parameters and the remaining transformed coordinates are the
normalised invariants ``iota(z_j)``. They are then reduced to a functionally independent set at each
order (rank test) and checked to be annihilated by every prolonged generator (exact).

Second route, by solving the linear PDE system ``pr v_a(I) = 0`` (``method="characteristics"``, and
the fallback of the default where the frame fails): the prolonged generators are put in Jacobian
normal form ``w_a = d/dy_a + sum_j c_aj d/dz_j`` on the same transversal coordinates ``y``; these
commute (Frobenius), and an invariant is determined by its values on the cut ``{y = y0}``, so the
fundamental invariants are the ``z_j`` of the point where the leaf meets the cut, found by
integrating the characteristic ODEs of ``w_1, ..., w_s`` in turn (scalar ODEs by ``dsolve``,
including implicit general solutions; linear blocks with commuting coefficients by a matrix
exponential). On the same cut both routes give the same normalised invariants.

Third route (``method="ansatz"``, the first one ``"auto"`` tries for larger groups and rotations):
rational invariants without group parameters. For polynomial (or rational) generators the
conditions ``pr v_a(P) = c lambda_a P`` (``lambda_a = sum_i D_i xi_a^i``, integer weight ``c``) on a
polynomial ``P`` in the jet coordinates are linear and solved exactly over the rationals; ratios of
relative invariants of matching weights are invariants (``|r' x r''|^2 / |r'|^6``, Gaussian
curvature). Higher orders come from invariant derivatives of relative invariants (``p = 1``:
``cR R D_x P - c P D_x R``; ``p = 2``: covectors contracted with invariant contravariant tensors found
by the same kind of ansatz, and with the determinant). Every invariant is checked exactly
(polynomial division of ``pr v_a`` of each factor). Generators with trigonometric functions of angle
coordinates (SO(3) on the sphere in spherical coordinates) are solved over the ring
``QQ[cos z, sin z, ...] / (cos^2 z + sin^2 z - 1)`` (``_trig_ring``), whose unique normal forms
decide zero exactly and make every spelling of the generators give the same invariants (square roots
of squares, ``sqrt(1 - cos(z)^2)``, are replaced by their roots where the fields agree). This is the
route that scales to SO(3) and SE(3).

Equality of vector-field components (closure, annihilation) is decided by ``_zero._is_zero``:
symbolic normal forms (``cancel``; trigonometric/hyperbolic functions rewritten to ``exp``; ``tan``
to ``sin/cos`` with ``trigsimp``), then a randomized 60-digit test at rational points near reference
points where the expression is real: a refutation needs a non-zero value there, so rewritings of the
same field never cause a false refusal.

Time budget: ``differential_invariants(..., timeout=, progress=)`` (``_budget``): a deadline checked
between steps, and in the main thread a SIGALRM hard stop inside a single sympy call; the error names
the step that did not finish and what to try.

The invariant differential operators ``𝒟_i = sum_j (D_j X^i)^{-1}|_frame D_j`` (arc-length derivative
for SE(2)) and the Fels–Olver recurrence relations ``𝒟_i iota(z) = iota(D_i z) + sum_a R_i^a
iota(pr v_a (z))`` (``R`` from the phantom invariants) are computed symbolically.

Generator spec (:func:`action_from_spec`, :func:`lie_action`): a JSON-like object
``{"independent": ["x"], "dependent": ["u"], "generators": [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}]}``;
each generator maps coordinate names to its component (a sympy expression or a string parsed
safely; a missing component is 0). Optional keys: ``"names"`` (one per generator, default ``v1``,
``v2``, ...), ``"finite"`` (the transformed base coordinates, identity at all parameters 0) with
``"parameters"`` (their names), and ``"comment"``. Group elements built from flows are
``exp(e_1 v_1) ... exp(e_r v_r)`` with the innermost (last) flow acting first.

Modules: ``_jets`` (jet spaces), ``_actions`` (actions, closure, prolongation, construction),
``_flows`` (finite flows), ``_moving_frame``, ``_characteristics``, ``_invariants``
(:func:`differential_invariants`), ``_notes`` (warnings), ``_recurrences``, ``_fields``
(equivariant fields, tangent lift), ``_sampling`` (random points, generic ranks), ``_simplify``
(real branches), ``_ansatz`` (the ansatz route), ``_trig_ring`` (its ring for trigonometric generators),
``_zero`` (zero tests), ``_budget`` (time budget). sympy and mpmath only (no JAX, no numpy).
"""

from nntheory.errors import InvariantError as InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction as LieAlgebraAction
from nntheory.theory.lie._actions import action_from_spec as action_from_spec
from nntheory.theory.lie._actions import invariant_count as invariant_count
from nntheory.theory.lie._actions import lie_action as lie_action
from nntheory.theory.lie._fields import EquivariantFields as EquivariantFields
from nntheory.theory.lie._fields import equivariant_fields as equivariant_fields
from nntheory.theory.lie._fields import tangent_lift as tangent_lift
from nntheory.theory.lie._invariants import InvariantSet as InvariantSet
from nntheory.theory.lie._invariants import differential_invariants as differential_invariants
from nntheory.theory.lie._jets import JetSpace as JetSpace

__all__ = [
    "EquivariantFields",
    "InvariantError",
    "InvariantSet",
    "JetSpace",
    "LieAlgebraAction",
    "action_from_spec",
    "differential_invariants",
    "equivariant_fields",
    "invariant_count",
    "lie_action",
    "tangent_lift",
]
