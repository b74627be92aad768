"""The layer descriptors of a quantized MLP: :class:`QDense` and :class:`QActivation`, with hls4ml's defaults.

Every precision is a :class:`~nntheory.numerics.fixed_point._fixed.FixedType` (or its C++ spelling, parsed
on construction). The defaults are hls4ml 1.3.0's: ``table_t = ap_fixed<18,8>`` for tanh and sigmoid tables,
``ap_fixed<18,8,AP_RND,AP_SAT>`` for the softmax's exp and inverse tables and its accumulator, and, for the
stable softmax, ``inp_norm_t = ap_ufixed<W - s, I - s>`` of its input type (``s = 1`` if signed).
"""

from __future__ import annotations

from dataclasses import dataclass

from nntheory._checks import check_int
from nntheory.errors import FixedPointError, SpecError
from nntheory.numerics.fixed_point._fixed import FixedType, fixed_type

__all__ = ["PLAIN_ACTIVATIONS", "QActivation", "QDense", "SOFTMAX_IMPLEMENTATIONS", "TABLE_ACTIVATIONS"]

TABLE_ACTIVATIONS = ("tanh", "sigmoid")
PLAIN_ACTIVATIONS = ("relu", "linear")
SOFTMAX_IMPLEMENTATIONS = ("stable", "latency")
_DEFAULT_TABLE = "ap_fixed<18,8>"  # hls4ml's default table_t
_DEFAULT_SOFTMAX_TABLE = "ap_fixed<18,8,AP_RND,AP_SAT>"  # its default exp/inv table types


def _ft(spec, what: str) -> FixedType:
    """``spec`` as a :class:`FixedType`; a bad spelling is reported with ``what`` in front."""
    try:
        return fixed_type(spec)
    except SpecError as exc:
        raise FixedPointError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class QDense:
    """A dense layer's precisions, as hls4ml's ``Precision`` keys ``weight``, ``bias``, ``accum``, ``result``.

    Raises:
        FixedPointError: for a bad ``n_out`` or precision, or an ``accum`` wider than 52 bits.
    """

    n_out: int
    weight: FixedType
    bias: FixedType
    accum: FixedType
    result: FixedType

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_out", check_int(self.n_out, "n_out", lo=1, where="QDense", error=FixedPointError))
        for k in ("weight", "bias", "accum", "result"):
            object.__setattr__(self, k, _ft(getattr(self, k), f"QDense {k} precision"))
        if self.accum.width > 52:
            raise FixedPointError(f"QDense: accum precision {self.accum} is wider than 52 bits (sums must stay exact in float64).")

    def precision(self) -> dict:
        """Returns: hls4ml's ``Precision`` dictionary ``{weight, bias, accum, result}`` (C++ spellings)."""
        return {k: str(getattr(self, k)) for k in ("weight", "bias", "accum", "result")}


@dataclass(frozen=True)
class QActivation:
    """An activation layer: ``relu``, ``linear``, ``tanh``, ``sigmoid`` (hls4ml tables) or ``softmax``.

    ``table`` / ``table_size``: the table type and size of tanh and sigmoid. Softmax uses ``exp_table``,
    ``inv_table``, ``accum``, ``inv_inp`` (default: ``exp_table``), ``inp_norm`` (``stable`` only; default as
    hls4ml derives it from the input type) and ``table_size`` for both tables.

    Raises:
        FixedPointError: for an unknown kind or implementation, a bad precision, or a table size that is not
            a power of two >= 2.
    """

    kind: str
    result: FixedType
    table: FixedType | None = None
    table_size: int = 1024
    implementation: str = "stable"
    exp_table: FixedType | None = None
    inv_table: FixedType | None = None
    accum: FixedType | None = None
    inv_inp: FixedType | None = None
    inp_norm: FixedType | None = None

    def __post_init__(self) -> None:
        kinds = PLAIN_ACTIVATIONS + TABLE_ACTIVATIONS + ("softmax",)
        if self.kind not in kinds:
            raise FixedPointError(f"QActivation: kind must be one of {', '.join(kinds)}, got {self.kind!r}.")
        object.__setattr__(self, "result", _ft(self.result, f"{self.kind} result precision"))
        n = check_int(self.table_size, "table_size", lo=2, where="QActivation", error=FixedPointError)
        if n & (n - 1):
            raise FixedPointError(f"QActivation: table_size must be a power of two >= 2, got {n!r}.")
        object.__setattr__(self, "table_size", n)
        if self.kind in TABLE_ACTIVATIONS:
            object.__setattr__(self, "table", _ft(self.table or _DEFAULT_TABLE, f"{self.kind} table precision"))
        if self.kind == "softmax":
            self._resolve_softmax()

    def _resolve_softmax(self) -> None:
        if self.implementation not in SOFTMAX_IMPLEMENTATIONS:
            raise FixedPointError(f"QActivation: softmax implementation must be one of {', '.join(SOFTMAX_IMPLEMENTATIONS)}, "
                                  f"got {self.implementation!r} (hls4ml's 'legacy' and 'argmax' are not emulated).")
        for k in ("exp_table", "inv_table", "accum"):
            object.__setattr__(self, k, _ft(getattr(self, k) or _DEFAULT_SOFTMAX_TABLE, f"softmax {k} precision"))
        object.__setattr__(self, "inv_inp", _ft(self.inv_inp or self.exp_table, "softmax inv_inp precision"))
        if self.inp_norm is not None:
            object.__setattr__(self, "inp_norm", _ft(self.inp_norm, "softmax inp_norm precision"))


def default_inp_norm(t: FixedType) -> FixedType:
    """Returns: hls4ml 1.3.0's stable-softmax ``inp_norm_t``, ``ap_ufixed<W - s, I - s>`` of the input type ``t``."""
    s = int(t.signed)
    return FixedType(t.width - s, t.integer - s, signed=False)


def exp_table_size(layer: QActivation, data_t: FixedType) -> int:
    """Returns: the softmax exp table's size; hls4ml caps the stable one at ``2^(W-1)`` entries for a signed input."""
    if layer.implementation == "stable" and data_t.signed:
        return min(layer.table_size, 1 << (data_t.width - 1))
    return layer.table_size


def address_bits(size: int, t: FixedType, what: str) -> int:
    """Returns: the number of top bits of a ``t`` code that address a table of ``size`` entries.

    Raises:
        FixedPointError: if the table needs more bits than ``t`` has.
    """
    n = int(size).bit_length() - 1
    if n > t.width:
        raise FixedPointError(f"softmax: a table of {size} entries needs {n} address bits, more than the width of {what} {t}.")
    return n
