"""The one epilogue of the validation plots: title, layout, PNG bytes, figure closed."""

from __future__ import annotations

import io


def png_bytes(fig, title: str, *, dpi: int = 90) -> bytes:
    """Title the figure, lay it out, render it as PNG and close it (pyplot keeps no reference).

    Args:
        fig: a matplotlib figure made with ``matplotlib.pyplot``.
        title: the figure's title (``suptitle``, font size 10).
        dpi: the resolution.
    Returns:
        The PNG file's bytes.
    """
    import matplotlib.pyplot as plt

    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
