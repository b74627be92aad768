"""No public function hands user text to sympy's string parser (``sympify``/``parse_expr`` evaluate code).

Every public callable of the symbolic stages is called with a hostile string in each argument position
while sympy's string parser is replaced by a trap; whatever the call does (most refuse the string), it
must never reach the trap. Text enters only through nntheory's own whitelisting parser.
"""

import importlib
import inspect

import pytest
import sympy
import sympy.core.sympify as sympify_module
import sympy.parsing.sympy_parser as parser_module

HOSTILE = "__import__('os').getcwd()"
STAGES = ["nntheory.theory", "nntheory.diagrams", "nntheory.numerics"]


class Trap(Exception):
    pass


@pytest.fixture
def trapped(monkeypatch):
    def trap(*args, **kwargs):
        raise Trap(f"sympy's string parser was called with {args[:1]!r}")

    monkeypatch.setattr(parser_module, "parse_expr", trap)
    monkeypatch.setattr(sympify_module, "parse_expr", trap, raising=False)


def _public_callables():
    for stage in STAGES:
        mod = importlib.import_module(stage)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type) or isinstance(obj, type) and not issubclass(obj, BaseException):
                yield f"{stage}.{name}", obj


def _arities(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return 1
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return max(1, len(params))


@pytest.mark.parametrize("name,obj", list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_callables_never_reach_sympys_string_parser(trapped, name, obj):
    n = _arities(obj)
    for pos in range(min(n, 6)):
        args = [1] * n
        args[pos] = HOSTILE
        try:
            obj(*args)
        except Trap as exc:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"{name}(argument {pos} = hostile text) reached sympy's parser: {exc}")
        except Exception:  # noqa: BLE001 - refusing the text in any way is fine
            pass


@pytest.mark.parametrize("call", [
    lambda: __import__("nntheory.theory", fromlist=["x"]).wigner_small_d(1, HOSTILE),
    lambda: __import__("nntheory.theory", fromlist=["x"]).spherical_harmonics(1, point=(HOSTILE, 0, 1)),
    lambda: __import__("nntheory.theory", fromlist=["x"]).finite_width_recursion(
        __import__("nntheory.theory", fromlist=["x"]).activation("relu")).iterate(2, [[1]], C_W=HOSTILE, C_b=0),
    lambda: __import__("nntheory.theory", fromlist=["x"]).GaussianExpectation(HOSTILE, sympy.symbols("z1:2"), [[1]]),
])
def test_known_entry_points_refuse_hostile_text(trapped, call):
    from nntheory.errors import NNTheoryError

    with pytest.raises(NNTheoryError, match="is not allowed"):
        call()
