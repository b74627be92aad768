"""``nntheory fixed quantize``: bit-exact ap_fixed / ap_ufixed arithmetic on a .npy array.

The output ``.npy`` gets a sidecar ``<output>.provenance.json``: the provenance block of the one table writer
(:func:`nntheory.numerics._export.provenance`: format version, generator, nntheory version, generator function,
parameters, ``data_sha256`` of the codes and values), the output file's ``sha256``, the input file's name and
``input_sha256``, and the command line.
"""

from __future__ import annotations

import sys

from nntheory._io import atomic_write
from nntheory.cli._args import json_text, output_file
from nntheory.errors import SpecError

HELP = "bit-exact ap_fixed / ap_ufixed arithmetic (hls4ml's fixed-point types)"
USES_JAX = True


def add_arguments(fx) -> None:
    """The flags of ``nntheory fixed``."""
    fx.add_argument("action", choices=("quantize",))
    fx.add_argument("--type", required=True, help="e.g. 'ap_fixed<16,6>' or 'ap_ufixed<8,0,AP_RND,AP_SAT>'")
    fx.add_argument("-i", "--input", required=True, help="a .npy array of numbers (never unpickled)")
    fx.add_argument("-o", "--output", required=True, help="a .npy file: the float64 values represented in the type "
                    "(a FILE.provenance.json sidecar is written beside it)")


def run(args) -> int:
    """Quantize the numbers of ``--input`` to ``--type`` and save the represented values."""
    import io

    import numpy as np

    from nntheory.numerics import FixedType

    try:
        t = FixedType.parse(args.type)
    except SpecError as exc:
        raise SpecError(f"--type: {exc}") from None
    output_file(args.output, "-o/--output")  # checked before any work
    output_file(args.output + ".provenance.json", "-o/--output (its provenance sidecar)")
    try:
        x = np.load(args.input, allow_pickle=False)  # never unpickle
    except (OSError, ValueError) as exc:
        raise SpecError(f"-i/--input: cannot read {args.input!r} as a .npy array without pickles ({exc}).") from exc
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iuf":
        raise SpecError(f"-i/--input: expected a numeric .npy array, got {getattr(x, 'dtype', type(x))}.")
    if not np.all(np.isfinite(x)):
        raise SpecError(f"-i/--input: {args.input!r} holds NaN or infinite numbers; only finite numbers have a fixed-point code.")
    codes = np.asarray(t.quantize(x.astype(np.float64)), dtype=np.int64)
    out = np.asarray(t.values(codes), dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    data = buf.getvalue()
    atomic_write(args.output, data)
    sidecar = args.output + ".provenance.json"
    atomic_write(sidecar, json_text(_provenance(t, codes, out, data, args, str(x.dtype)), indent=1) + "\n")
    print(f"quantized {out.size} values to {t} -> {args.output} (provenance: {sidecar})", file=sys.stderr)
    return 0


class _Quantized:
    """The output as the table writer's provenance sees it (layout ``codes``: int64 codes and float64 values)."""

    export_layout = "codes"

    def __init__(self, codes, values, desc: dict):
        self.codes, self.values, self._desc = codes.ravel(), values.ravel(), desc

    def description(self) -> dict:
        return dict(self._desc)


def _provenance(t, codes, values, data: bytes, args, input_dtype: str) -> dict:
    """The sidecar of ``fixed quantize`` (module docstring)."""
    import hashlib
    import os

    from nntheory.numerics._export import provenance

    with open(args.input, "rb") as fh:
        input_sha = hashlib.file_digest(fh, "sha256").hexdigest()
    desc = {"kind": "fixed-quantize", "generator_function": "nntheory.numerics.FixedType.quantize",
            "type": str(t), "shape": list(values.shape), "dtype": "float64", "input_dtype": input_dtype,
            "conventions": "value = code * 2^-(W-I); codes in the data hash are int64"}
    return {**provenance(_Quantized(codes, values, desc)), "file": os.path.basename(args.output), "file_format": "npy",
            "sha256": hashlib.sha256(data).hexdigest(), "input": os.path.basename(args.input), "input_sha256": input_sha,
            "command": ["nntheory", "fixed", "quantize", "--type", str(t)]}
