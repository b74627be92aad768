"""``nntheory fixed quantize``: bit-exact ap_fixed / ap_ufixed arithmetic on a .npy array."""

from __future__ import annotations

import sys

from nntheory._io import atomic_write
from nntheory.errors import SpecError

HELP = "bit-exact ap_fixed / ap_ufixed arithmetic (hls4ml's fixed-point types)"
USES_JAX = True


def add_arguments(fx) -> None:
    """The flags of ``nntheory fixed``."""
    fx.add_argument("action", choices=("quantize",))
    fx.add_argument("--type", required=True, help="e.g. 'ap_fixed<16,6>' or 'ap_ufixed<8,0,AP_RND,AP_SAT>'")
    fx.add_argument("-i", "--input", required=True, help="a .npy array of numbers (never unpickled)")
    fx.add_argument("-o", "--output", required=True, help="a .npy file: the float64 values represented in the type")


def run(args) -> int:
    """Quantize the numbers of ``--input`` to ``--type`` and save the represented values."""
    import io

    import numpy as np

    from nntheory.numerics import FixedType

    t = FixedType.parse(args.type)
    try:
        x = np.load(args.input, allow_pickle=False)  # never unpickle
    except (OSError, ValueError) as exc:
        raise SpecError(f"-i/--input: cannot read {args.input!r} as a .npy array without pickles ({exc}).") from exc
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iuf":
        raise SpecError(f"-i/--input: expected a numeric .npy array, got {getattr(x, 'dtype', type(x))}.")
    out = np.asarray(t.represent(x.astype(np.float64)), dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    atomic_write(args.output, buf.getvalue())
    print(f"quantized {out.size} values to {t} -> {args.output}", file=sys.stderr)
    return 0
