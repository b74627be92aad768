"""Complete sets of fundamental differential invariants (:func:`differential_invariants`) and the
:class:`InvariantSet` that holds them with counts, cross-section, invariant derivatives and warnings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import sympy

from nntheory._checks import check_int, check_real
from nntheory.errors import InvariantError
from nntheory.theory.lie._actions import LieAlgebraAction, invariant_count
from nntheory.theory.lie._ansatz import _annihilated_exactly, _ansatz_route, _AnsatzState, _polynomial_action, _rational_action
from nntheory.theory.lie._trig_ring import _action_ring
from nntheory.theory.lie._budget import _budget, _step
from nntheory.theory.lie._characteristics import _characteristics
from nntheory.theory.lie._moving_frame import _frame, _normalised
from nntheory.theory.lie._notes import _global_notes, _power_notes, _singular_notes
from nntheory.theory.lie._recurrences import _recurrence
from nntheory.theory.lie._sampling import _jacobian_rank
from nntheory.theory.lie._simplify import _tidy
from nntheory.theory.lie._zero import _is_zero

__all__ = ["InvariantSet", "differential_invariants"]


@dataclass(frozen=True)
class InvariantSet:
    """A complete set of fundamental differential invariants up to ``order``.

    Attributes:
        action: the Lie algebra action.
        order: the highest jet order ``N``.
        counts: ``counts[k]`` functionally independent invariants of order ``<= k``.
        orbit_dimensions: generic orbit dimension of the prolonged action on ``J^k``.
        invariants: ``invariants[k]``: the new invariants of exactly order ``k``; with those of lower
            orders they form a complete set of order ``<= k``.
        cross_section: the normalisations ``z_c = const`` of the moving frame at the highest order.
        frame: the group parameters of the frame as functions of the jet coordinates.
        derivatives: ``W`` with invariant differential operators ``𝒟_i = sum_j W[i][j] D_j`` (free
            actions with dependent variables), else None.
        warnings: non-freeness, singular sets, local (sign-changing) invariants, fractional powers.
    """

    action: LieAlgebraAction
    order: int
    counts: tuple[int, ...]
    orbit_dimensions: tuple[int, ...]
    invariants: tuple[tuple[sympy.Expr, ...], ...]
    cross_section: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    frame: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    derivatives: tuple[tuple[sympy.Expr, ...], ...] | None
    warnings: tuple[str, ...]
    method: str = "moving frame"

    def all(self, order: int | None = None) -> list[sympy.Expr]:
        """Every fundamental invariant of order ``<= order`` (default: all)."""
        order = self.order if order is None else order
        return [I for k in range(order + 1) for I in self.invariants[k]]

    def invariant_derivative(self, expr: sympy.Expr, i: int = 0) -> sympy.Expr:
        """``𝒟_i expr``: again an invariant when ``expr`` is one (e.g. the arc-length derivative)."""
        if self.derivatives is None:
            raise InvariantError("invariant derivatives need a free action with dependent variables (see warnings).")
        jet = self.action.jet
        k = jet.order_of(expr)
        return _tidy(sum(self.derivatives[i][j] * jet.total_derivative(expr, j, k) for j in range(jet.p)))

    def recurrence(self) -> list[tuple[str, sympy.Expr, sympy.Expr]]:
        """Fels–Olver recurrence relations ``𝒟_i I_z = I_{D_i z} + sum_a R_i^a iota(pr v_a z)``.

        Returns ``(name, lhs, rhs)`` with ``I_<coordinate>`` symbols for the normalised invariants
        (phantom invariants replaced by their constants), for every non-phantom coordinate of order
        ``< order`` and every ``i``. ``R`` (the Maurer–Cartan invariants) is solved from the phantoms.
        """
        return _recurrence(self)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: coordinates, brackets, per-order counts and invariants, cross-section, warnings."""
        out: dict[str, Any] = {
            "independent": [s.name for s in self.action.jet.independent],
            "dependent": [s.name for s in self.action.jet.dependent],
            "dimension": len(self.action.generators),
            "structure_constants": self.action.bracket_table(),
            "orders": {
                str(k): {
                    "count": self.counts[k], "orbit_dimension": self.orbit_dimensions[k],
                    "jet_dimension": self.action.jet.dimension(k), "invariants": [str(I) for I in self.invariants[k]],
                }
                for k in range(self.order + 1)
            },
            "cross_section": {str(s): str(c) for s, c in self.cross_section},
            "method": self.method,
            "warnings": list(self.warnings),
        }
        if self.derivatives is not None:
            jet = self.action.jet
            out["invariant_derivatives"] = [
                " + ".join(f"({w})*D_{jet.independent[j].name}" for j, w in enumerate(row) if w != 0) for row in self.derivatives
            ]
        return out

    def to_text(self) -> str:
        """A human-readable table of the same content as :meth:`to_json`."""
        jet = self.action.jet
        lines = [
            f"Lie algebra of dimension {self.action.r} acting on J^k with independent {[s.name for s in jet.independent]}, "
            f"dependent {[s.name for s in jet.dependent]}",
        ]
        for name, val in self.action.bracket_table().items():
            lines.append(f"  {name} = {val}")
        lines.append(f"{'order':>5} {'dim J^k':>8} {'orbit':>6} {'count':>6}  new invariants")
        for k in range(self.order + 1):
            inv = "; ".join(str(I) for I in self.invariants[k]) or "-"
            lines.append(f"{k:>5} {jet.dimension(k):>8} {self.orbit_dimensions[k]:>6} {self.counts[k]:>6}  {inv}")
        if self.derivatives is not None:
            for i, row in enumerate(self.derivatives):
                terms = " + ".join(f"({w}) D_{jet.independent[j].name}" for j, w in enumerate(row) if w != 0)
                lines.append(f"invariant derivative 𝒟_{i + 1} = {terms}")
        lines.append("cross-section: " + ", ".join(f"{s} = {c}" for s, c in self.cross_section))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _annihilated(action: LieAlgebraAction, I: sympy.Expr, order: int) -> bool:
    fast = _annihilated_exactly(action, I, order)
    if fast is not None:
        return fast
    for a in range(action.r):
        val = action.apply(a, I, order)
        if val == 0:
            continue
        v = sympy.cancel(sympy.together(val))
        if v != 0 and sympy.simplify(v) != 0 and not _is_zero(v, seed=a):
            return False
    return True


_METHODS = ("auto", "moving frame", "characteristics", "ansatz")


def differential_invariants(action: LieAlgebraAction, order: int, *, method: str = "auto", check: bool = True,
                            timeout: float | None = None, progress: Callable[[str], None] | None = None) -> InvariantSet:
    """A complete set of fundamental differential invariants of orders ``0..order``.

    Two routes give the invariants at each order (both return the normalised coordinates: the
    value each non-cut coordinate takes where the orbit meets a cross-section):

    * ``"moving frame"``: Fels–Olver; group elements from the generators' flows (or the finite
      action), normalisation equations solved for the group parameters;
    * ``"characteristics"``: the linear PDE system ``pr v_a(I) = 0`` itself, in Jacobian normal
      form (commuting fields, Frobenius) integrated along its characteristics; no group
      parameters, so it works where the normalisation cannot be solved or the group's flows are
      not integrable;
    * ``"ansatz"``: rational invariants as ratios of polynomial relative invariants, solved exactly
      over QQ (for curves ``u(x)`` with two scalings, with two multipliers class by class of the
      grading: the projective group of the plane at order 7 in seconds; for trigonometric generators
      over the ring of the angles' cosines and sines: SO(3) on the sphere in ``(theta, phi)``);
    * ``"auto"`` (default): the moving frame for small groups with rational generators, the ansatz
      first for larger polynomial actions and for trigonometric ones, and the other routes at the
      orders where one fails.

    Invariant derivatives and recurrence relations need the moving frame; with
    ``"characteristics"`` they are not computed (``derivatives`` is None).

    Args:
        action: the Lie algebra action.
        order: the highest jet order ``N >= 0``.
        method: ``"auto"``, ``"moving frame"``, ``"characteristics"`` or ``"ansatz"``.
        check: verify that every invariant is annihilated by the prolonged generators (exactly)
            and test invariance under group elements far from the identity.
        timeout: seconds allowed for the whole computation (None: no limit). Checked between
            steps, and in the main thread also enforced inside a single sympy call (SIGALRM).
        progress: called with a one-line message as each step starts (e.g. ``print`` to stderr).

    Returns:
        The :class:`InvariantSet` of orders ``0..order``.

    Raises:
        InvariantError: ``order`` negative or below the first order with invariants, an unknown
            ``method``, ``timeout`` not positive or exceeded (the message names the step that did
            not finish and what to try), or no route that succeeds (flows or characteristic ODEs not integrable in
            closed form, normalisation not solvable).

    Example:
        >>> from nntheory.theory.lie import lie_action
        >>> se2 = lie_action(["x"], ["u"], [{"x": "1"}, {"u": "1"}, {"x": "-u", "u": "x"}])
        >>> inv = differential_invariants(se2, 3)
        >>> inv.invariants[2]
        (u_xx/(u_x**2 + 1)**(3/2),)
        >>> inv.invariant_derivative(inv.invariants[2][0]) == inv.invariants[3][0]
        True
    """
    order = check_int(order, "order", lo=0, where="differential_invariants", error=InvariantError)
    if method not in _METHODS:
        raise InvariantError(f"method: must be one of {list(_METHODS)}, got {method!r}.")
    if timeout is not None:
        timeout = check_real(timeout, "timeout", lo=0.0, lo_open=True, where="differential_invariants", error=InvariantError)
    with _budget(timeout, progress):
        return _differential_invariants(action, order, method, check)


def _differential_invariants(action: LieAlgebraAction, order: int, method: str, check: bool) -> InvariantSet:
    counts, dims = [], []
    for k in range(order + 1):
        _step(f"orbit dimension and invariant count at order {k}")
        counts.append(invariant_count(action, k))
        dims.append(action.orbit_dimension(k))
    _require_invariants(action, order, counts[-1])
    per_order, frame, section, routes, warnings = _invariants_by_order(action, order, counts, method, check)
    running = [I for new in per_order for I in new]
    warnings += _freeness_notes(dims, action.r, order)
    k0 = min(k for k in range(order + 1) if dims[k] == dims[-1])  # where the frame is fixed
    _step(f"singular set of the action at order {k0}")
    warnings += _singular_notes(action, k0, dims[-1])
    warnings += _power_notes(running)
    if check:
        # rational invariants from the ansatz are annihilated exactly by the algebra: invariant under
        # the connected group wherever they are defined; the sampled check is for frame branches
        sampled = [I for k, new in enumerate(per_order) for I in new if routes.get(k) != "ansatz" or _has_fractional_power(I)]
        if sampled:
            _step("invariance under group elements far from the identity")
            warnings += _global_notes(action, sampled, order)
    final = frame if routes[max(routes)] == "moving frame" else None
    _step("invariant derivatives")
    derivs, note = _invariant_derivatives(action, dims[-1], final, order, routes[max(routes)])
    warnings += note
    return InvariantSet(action, order, tuple(counts), tuple(dims), tuple(per_order),
                        final.cross_section if final is not None else section,
                        final.solution if final is not None else (), derivs, tuple(warnings), _route_label(routes))


def _has_fractional_power(I: sympy.Expr) -> bool:
    """``I`` has a non-integer power of a non-constant base (a branch)."""
    return any(not p.exp.is_Integer and p.base.free_symbols for p in I.atoms(sympy.Pow))


def _require_invariants(action: LieAlgebraAction, order: int, count: int) -> None:
    """Raise when there is no invariant of order ``<= order``, naming the first order with one."""
    if count == 0:
        first = next((k for k in range(order + 1, order + 12) if invariant_count(action, k) > 0), None)
        where = f"the first appear at order {first}" if first is not None else f"none up to order {order + 11}"
        raise InvariantError(f"order: there are no differential invariants of order <= {order}; {where}.")


def _invariants_by_order(action: LieAlgebraAction, order: int, counts: list[int], method: str, check: bool):
    """``(per_order, frame, section, routes, warnings)``: the new invariants of each order ``0..order``,
    the last moving frame built (or None), the last cross-section, the route used at each order
    where invariants were added, and the frame's branch notes."""
    warnings: list[str] = []
    running: list[sympy.Expr] = []
    per_order: list[tuple[sympy.Expr, ...]] = []
    frame = None
    section: tuple = ()
    routes: dict[int, str] = {}
    plan = _auto_plan(action) if method == "auto" else (method,)
    state = _AnsatzState()
    for k in range(order + 1):
        new: list[sympy.Expr] = []
        if counts[k] > len(running):
            new, routes[k], frame_k, sec_k = _order_invariants(action, k, plan, running, counts[k], state)
            if frame_k is not None:
                frame = frame_k
                for note in frame.branches:
                    if note not in warnings:
                        warnings.append(note)
            section = sec_k if sec_k is not None else section
        if check:
            if new:
                _step(f"exact annihilation check of the invariants of order {k}")
            for I in new:
                if not _annihilated(action, I, k):
                    raise InvariantError(f"internal: {I} is not annihilated by the prolonged generators (please report).")
        running += new
        per_order.append(tuple(new))
    return per_order, frame, section, routes, warnings


def _new_invariants(action: LieAlgebraAction, k: int, values, section, running: list[sympy.Expr], count: int) -> list[sympy.Expr]:
    """The normalised invariants of order ``k`` that are functionally independent of ``running``,
    until ``count`` invariants are reached in all."""
    new: list[sympy.Expr] = []
    phantoms = {s for s, _ in section}
    coords = action.jet.coordinates(k)
    for s in coords:
        if len(running) + len(new) == count:
            break
        if s in phantoms:
            continue
        I = values(s)
        if not I.free_symbols:
            continue
        if _jacobian_rank(running + new + [I], coords, seed=77 + k) == len(running) + len(new) + 1:
            new.append(I)
    if len(running) + len(new) < count:
        raise InvariantError(
            f"found only {len(running) + len(new)} of {count} independent invariants at order {k}; "
            "the moving frame may be singular here (try giving the finite action)."
        )
    return new


def _freeness_notes(dims: list[int], r: int, order: int) -> list[str]:
    """A warning when the prolonged action is not (locally) free at some orders."""
    nonfree = [k for k in range(order + 1) if dims[k] < r]
    if not nonfree:
        return []
    if dims[-1] < r:
        return [
            f"the action is not free up to order {order}: generic orbit dimension {dims[-1]} < {r} = dim g "
            f"(isotropy of dimension {r - dims[-1]}); invariant derivatives and recurrences need a free action."
        ]
    return [
        f"the prolonged action is not free at orders {nonfree[0]}..{nonfree[-1]} (orbit dimensions "
        f"{[dims[k] for k in nonfree]} < {r}); it is locally free from order {nonfree[-1] + 1}."
    ]


def _invariant_derivatives(action: LieAlgebraAction, dim: int, final, order: int, route: str = "characteristics"):
    """``(W, notes)``: the invariant differential operators ``𝒟_i = sum_j W[i][j] D_j`` from the final
    moving frame (None without dependent variables, for a non-free action or without a frame)."""
    jet = action.jet
    if jet.q and dim == action.r and final is not None and final.Tinv is not None:
        sub = dict(final.solution)
        return tuple(tuple(_tidy(final.Tinv[j, i].xreplace(sub)) for j in range(jet.p)) for i in range(jet.p)), []
    if jet.q and dim == action.r:
        return None, ["invariant derivatives and recurrence relations need the moving frame, which was not built "
                      f"at order {order} (route: {route})."]
    return None, []


def _route_label(routes: dict[int, str]) -> str:
    """The route of an invariant set: one method, or which method at which orders."""
    used = sorted(set(routes.values()))
    label = used[0] if len(used) == 1 else "; ".join(
        f"{m} at orders {', '.join(str(k) for k in sorted(routes) if routes[k] == m)}" for m in used)
    return label or "moving frame"


def _rotation_like(action: LieAlgebraAction) -> int:
    """The number of linear generators whose matrix has complex eigenvalues (``tr A^2 < 0``): rotations,
    whose flows bring trigonometric normalisations into the moving frame."""
    base = action.jet.base
    n = 0
    for g in action.generators:
        comps = [sympy.sympify(c) for c in g]
        if not all(c.is_polynomial(*base) and sympy.Poly(c, *base).total_degree() <= 1 for c in comps):
            continue
        A = sympy.Matrix(len(base), len(base), lambda i, j: sympy.diff(comps[i], base[j]))
        if (A * A).trace() < 0:
            n += 1
    return n


def _auto_plan(action: LieAlgebraAction) -> tuple[str, ...]:
    """Routes tried in turn by ``method="auto"``: the moving frame first for small groups with at most
    one rotation and rational generators (its normalisations stay simple), else the ansatz
    (polynomial actions: rotations, Euclidean, affine and projective groups; trigonometric ones
    over the ring of their angles' cosines and sines) and characteristics before the frame."""
    if action.r <= 5 and _rotation_like(action) <= 1 and _rational_action(action):
        return ("moving frame", "characteristics")
    if _polynomial_action(action):
        return ("ansatz", "characteristics", "moving frame")
    if _action_ring(action, 0) is not None:
        return ("ansatz", "characteristics", "moving frame")
    return ("characteristics", "moving frame")


def _order_invariants(action: LieAlgebraAction, k: int, plan: tuple[str, ...], running, count: int, state):
    """``(new invariants, route, frame or None, cross-section or None)`` at order ``k``: the routes of
    ``plan`` in turn until one gives a complete set."""
    errors = []
    for i, route in enumerate(plan):
        try:
            if route == "ansatz":
                share = None
                if len(plan) > 1:
                    from nntheory.theory.lie._budget import _CURRENT

                    left = None if not _CURRENT or _CURRENT[-1].deadline is None else _CURRENT[-1].deadline - time.monotonic()
                    share = time.monotonic() + (60.0 if left is None else max(1.0, min(60.0, left / 3)))
                new = _ansatz_route(action, k, running, count, state, deadline=share)
                return new, "ansatz", None, None
            values, section, frame_k, label = _route(action, k, route)
            _step(f"functionally independent invariants at order {k} ({label})")
            return _new_invariants(action, k, values, section, running, count), label, frame_k, section
        except InvariantError as exc:
            if len(plan) == 1:
                raise
            errors.append(f"{route}: {exc}")
        except (ArithmeticError, TypeError, ValueError, NotImplementedError, AttributeError, RecursionError) as exc:
            # sympy failing inside a route (e.g. an undecidable relational in a solver): that route fails
            if len(plan) == 1:
                raise InvariantError(f"{route} at order {k}: sympy failed ({type(exc).__name__}: {exc}).") from None
            errors.append(f"{route}: sympy failed ({type(exc).__name__}: {exc})")
    raise InvariantError(f"no route gave the invariants of order {k}: " + " | ".join(errors))


def _route(action: LieAlgebraAction, k: int, method: str):
    """``(values, cross_section, frame or None, route)`` for order ``k`` by one route: ``values(z)``
    is the normalised invariant of the non-cut coordinate ``z``."""
    if method == "moving frame":
        _step(f"moving frame at order {k}")
        fr = _frame(action, k)
        return (lambda s: _normalised(fr, s)), fr.cross_section, fr, "moving frame"
    _step(f"characteristics at order {k}")
    ch = _characteristics(action, k)
    vals = dict(ch.values)
    return (lambda s: vals[s]), ch.cross_section, None, "characteristics"
