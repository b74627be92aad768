import pytest
import sympy

from nntheory.errors import ActivationError, SpecError
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


@pytest.mark.parametrize("text,match", [
    ("z**(10**10**10)", "exponent"),
    ("z*(10**1000)**1000", "digits"),
    ("z*((10**1000)**1000)**1000", "digits"),
    ("-" * 300 + "z", "nested deeper"),
    ("+".join(["z"] * 300), "longer than"),
])
def test_parser_limits_refuse_before_building(text, match):
    """Size, depth and exponent limits are checked before sympy builds (or evaluates) anything."""
    with pytest.raises(ActivationError, match=match):
        parse_activation(text)


def test_parser_limits_keep_ordinary_numbers():
    from nntheory.theory import parse_number

    assert parse_number("(10**100)**99", label="x") == sympy.Integer(10) ** 9900  # 9901 digits: allowed
    assert parse_number("2**-1000", label="x") == sympy.Rational(1, 2**1000)
    assert parse_number("(1/3)**1000", label="x") == sympy.Rational(1, 3**1000)
    assert parse_number("-(-(-(1)))", label="x") == -1
    with pytest.raises(SpecError, match="digits"):
        parse_number("(10**100)**101", label="x")
