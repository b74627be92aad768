import pytest
import sympy

from nntheory.errors import ActivationError
from nntheory.theory import BUILTIN_ACTIVATIONS, activation, parse_activation, z


@pytest.mark.parametrize("name", sorted(BUILTIN_ACTIVATIONS))
def test_builtins_build(name):
    act = activation(name)
    assert act.expr.free_symbols <= {z}


def test_families():
    assert activation("relu").family == "scale_invariant"
    assert activation("Max(0, x)").params == (1, 0)
    assert activation("erf").family == "erf"
    assert activation("linear").family == "polynomial"
    assert activation("tanh").family == "generic"
    assert activation("gelu").expr == z * (1 + sympy.erf(z / sympy.sqrt(2))) / 2


def test_parser_exact_decimals_and_kinks():
    act = parse_activation("Max(0.1*x, x)")
    assert act.family == "scale_invariant" and act.params == (1, sympy.Rational(1, 10))
    hard = parse_activation("Max(-1, Min(1, z))")
    assert hard.kinks == (-1, 1)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "z.__class__", "open('f')", "lambda z: z", "[z]", "z if z else 1",
    "exec('1')", "tanh", "x*y", "3", "", "tanh(z",
])
def test_parser_rejects_bad_text(text):
    with pytest.raises(ActivationError, match="--activation"):
        parse_activation(text)
