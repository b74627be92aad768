"""The one table writer: ``.npz``, JSON and C headers, each with the same provenance block and a sidecar.

Two layouts share the writer, the format version and the provenance:

* ``"coo"`` (SO(3) tables, :class:`~nntheory.numerics.so3.LookupTable`): integer ``index`` rows and their
  ``value`` entries; JSON ``{"meta": ..., "entries": [[i..., v...], ...]}``; a C header with
  ``<name>_index`` and ``<name>_value``.
* ``"codes"`` (activation tables, :class:`~nntheory.numerics.fixed_point.ActivationTable`): the int64
  ``codes`` of the table type and their float64 ``values``; JSON ``{"meta": ..., "table": [values],
  "codes": [codes]}``; a C header with ``<name>_codes``, ``<name>_values`` (exact hexadecimal floats) and
  ``<NAME>_SIZE``, ``<NAME>_FRAC_BITS``, ``<NAME>_HALF_RANGE``.

A table's layout is its ``export_layout`` attribute (default ``"coo"``); its description is
``table.description()`` if it has one, else ``table.meta``. The provenance block (:func:`provenance`) is the
format version, the generator (``"nntheory <version>"``), ``nntheory_version``, the ``generator_function``,
the table's parameters, conventions and dtype, the entry ``count``, and ``data_sha256``, a SHA-256 of the
data arrays (names, dtypes, shapes and bytes), so a table's content can be checked in any of its formats.
The sidecar ``<file>.provenance.json`` adds the file name, format, the file's own ``sha256`` and the command.

Every writer is deterministic (no timestamps, fixed zip member dates, sorted keys, floats printed so they
round-trip exactly), so regenerating a table gives identical bytes. Files are written atomically
(:func:`nntheory._io.atomic_write`). Nothing is pickled; ``.npz`` files load with
``numpy.load(path, allow_pickle=False)``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile

import numpy as np

from nntheory._io import atomic_write, check_output_path
from nntheory._version import __version__
from nntheory.errors import NNTheoryError, SpecError

__all__ = ["FORMATS", "FORMAT_VERSION", "atomic_write", "data_sha256", "load_table_npz", "provenance", "table_bytes",
           "write_table"]

FORMAT_VERSION = 1
FORMATS = ("npz", "json", "c-header")
_GENERATORS = {  # the public function that builds each kind of table
    "cg": "nntheory.numerics.cg_table",
    "sh": "nntheory.numerics.sh_table",
    "wigner-d": "nntheory.numerics.wigner_d_table",
    "activation": "nntheory.numerics.fixed_point.activation_table",
}
_C_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _layout(table) -> str:
    return getattr(table, "export_layout", "coo")


def _members(table) -> dict[str, np.ndarray]:
    """The data arrays of ``table``, as the ``.npz`` stores them."""
    if _layout(table) == "codes":
        return {"codes": np.ascontiguousarray(table.codes, dtype=np.int64),
                "values": np.ascontiguousarray(table.values, dtype=np.float64)}
    return {"index": np.ascontiguousarray(table.index), "value": np.ascontiguousarray(table.value)}


def data_sha256(arrays: dict[str, np.ndarray]) -> str:
    """Returns: the SHA-256 (hex) of named arrays: for each name in sorted order, the name, dtype, shape and C-order bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def provenance(table, *, name: str | None = None) -> dict:
    """The provenance block of ``table`` (module docstring): format version, generator, parameters, data hash.

    Args:
        table: an SO(3) ``LookupTable`` or an ``ActivationTable``.
        name: the table's name (the C identifier prefix), recorded as ``name`` if given.
    Returns:
        A JSON-ready dict; the ``meta`` of every file format and the base of the sidecar.
    """
    desc = table.description() if hasattr(table, "description") else dict(table.meta)
    members = _members(table)
    count = len(members["value" if "value" in members else "values"])
    out = {"format_version": FORMAT_VERSION, "generator": f"nntheory {__version__}", "nntheory_version": __version__,
           "generator_function": _GENERATORS.get(desc.get("kind"), "nntheory"), **desc, "count": count,
           "data_sha256": data_sha256(members)}
    if name is not None:
        out["name"] = name
    return out


_meta = provenance  # the old private name


def _npz_bytes(table, name: str | None = None) -> bytes:
    buf = io.BytesIO()
    members = {**_members(table), "meta": np.array(json.dumps(provenance(table, name=name), sort_keys=True))}
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in members.items():
            a = io.BytesIO()
            np.lib.format.write_array(a, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, a.getvalue())
    return buf.getvalue()


def _float_text(x: float, dtype: str) -> str:
    if dtype == "float32":
        return f"{float(x):.9g}"  # 9 significant digits round-trip any float32
    return repr(float(x))  # shortest round-trip representation


def _c_float(x: float, dtype: str) -> str:
    """A C floating literal (always has '.' or an exponent, so the 'f' suffix is valid)."""
    t = _float_text(x, dtype)
    if not any(ch in t for ch in ".en"):
        t += ".0"
    return t + ("f" if dtype == "float32" else "")


def _json_bytes(table, name: str | None = None) -> bytes:
    meta = provenance(table, name=name)
    if _layout(table) == "codes":
        doc = {"meta": meta, "table": [float(v) for v in table.values], "codes": [int(c) for c in table.codes]}
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()
    dtype = meta["dtype"]
    lines = []
    for idx, v in zip(table.index.tolist(), table.value.tolist()):
        vals = v if isinstance(v, list) else [v]
        lines.append("[" + ", ".join([str(i) for i in idx] + [_float_text(x, dtype) for x in vals]) + "]")
    head = json.dumps(meta, sort_keys=True)
    body = ",\n  ".join(lines)
    text = '{"meta": ' + head + ',\n "entries": [\n  ' + body + "\n ]}\n"
    json.loads(text)  # guard: the hand-assembled text is valid JSON
    return text.encode()


def _c_preamble(meta: dict, name: str) -> list[str]:
    """The shared head of every C header: a do-not-edit line, the provenance as JSON in a comment, the guard."""
    guard = f"NNTHEORY_{name.upper()}_H"
    out = [f"/* Generated by {meta['generator']} -- do not edit. */", "/* Provenance (JSON):"]
    out += [" * " + line.replace("*/", "* /") for line in json.dumps(meta, sort_keys=True, indent=1).splitlines()]
    return out + [" */", f"#ifndef {guard}", f"#define {guard}", "#include <stdint.h>", ""]


def _c_coo_body(table, meta: dict, name: str) -> list[str]:
    dtype = meta["dtype"]
    ctype = "float" if dtype == "float32" else "double"
    n, width = table.index.shape
    vwidth = 1 if table.value.ndim == 1 else table.value.shape[1]
    if np.abs(table.index).max(initial=0) > 32767:  # pragma: no cover - l is far below this
        raise NNTheoryError("index does not fit int16")
    out = [f"#define {name.upper()}_COUNT {n}", f"#define {name.upper()}_INDEX_WIDTH {width}", ""]
    out.append(f"/* columns: {', '.join(meta['index'])} */")
    out.append(f"static const int16_t {name}_index[{max(n, 1)}][{width}] = {{")
    out += ["  {" + ", ".join(str(i) for i in row) + "}," for row in table.index.tolist()] or ["  {0}"]
    out.append("};")
    if vwidth == 1:
        out.append(f"static const {ctype} {name}_value[{max(n, 1)}] = {{")
        out += [f"  {_c_float(v, dtype)}," for v in table.value.tolist()] or ["  0"]
    else:
        out.append(f"/* value columns: {', '.join(meta.get('value', []))} */")
        out.append(f"static const {ctype} {name}_value[{max(n, 1)}][{vwidth}] = {{")
        out += ["  {" + ", ".join(_c_float(v, dtype) for v in row) + "}," for row in table.value.tolist()] or ["  {0}"]
    return out + ["};"]


def _c_codes_body(table, name: str) -> list[str]:
    t, N = table.table_type, table.size
    ctype = "int64_t" if t.width > 32 else "int32_t"
    out = [f"/* value = code * 2^-{t.frac}; the C type of an entry is {t}. */",
           f"#define {name.upper()}_SIZE {N}", f"#define {name.upper()}_FRAC_BITS {t.frac}",
           f"#define {name.upper()}_HALF_RANGE {float(table.half_range).hex()}", "",
           f"static const {ctype} {name}_codes[{N}] = {{"]
    out += ["    " + ", ".join(str(int(c)) for c in table.codes[i : i + 12]) + "," for i in range(0, N, 12)]
    out += ["};", "", f"static const double {name}_values[{N}] = {{"]
    out += ["    " + ", ".join(float(v).hex() for v in table.values[i : i + 6]) + "," for i in range(0, N, 6)]
    return out + ["};"]


def _c_header_bytes(table, name: str) -> bytes:
    meta = provenance(table, name=name)
    body = _c_codes_body(table, name) if _layout(table) == "codes" else _c_coo_body(table, meta, name)
    return "\n".join(_c_preamble(meta, name) + body + ["", f"#endif /* NNTHEORY_{name.upper()}_H */", ""]).encode()


def table_bytes(table, fmt: str, *, name: str | None = None) -> bytes:
    """The bytes of ``table`` in format ``fmt``.

    Args:
        table: an SO(3) ``LookupTable`` or an ``ActivationTable``.
        fmt: ``npz``, ``json`` or ``c-header``.
        name: the table's name, a C identifier: the prefix of a header's identifiers (default: the table's
            ``default_name``, else ``nntheory_table``), recorded as ``name`` in the provenance of every format.
    Returns:
        The file's bytes (deterministic).
    Raises:
        SpecError: for an unknown format or a name that is not a C identifier.
    """
    if name is not None and not (isinstance(name, str) and _C_IDENT.fullmatch(name)):
        raise SpecError(f"name must be a C identifier, got {name!r}")
    if fmt == "npz":
        return _npz_bytes(table, name)
    if fmt == "json":
        return _json_bytes(table, name)
    if fmt == "c-header":
        return _c_header_bytes(table, name or getattr(table, "default_name", "nntheory_table"))
    raise SpecError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def write_table(table, path: str, fmt: str, *, name: str | None = None, command: list[str] | None = None,
                extra: dict | None = None) -> str:
    """Write ``table`` to ``path`` and its provenance to ``path + '.provenance.json'``.

    Args:
        table, fmt, name: as in :func:`table_bytes`.
        path: the table file.
        command: the command line that made it (recorded in the sidecar), or None.
        extra: more JSON-ready fields for the sidecar (e.g. measured errors), or None.
    Returns:
        The sidecar's path. The sidecar holds the provenance block (:func:`provenance`), ``extra``, the file name
        and format, the SHA-256 of the table file and the command line (if given).
    """
    data = table_bytes(table, fmt, name=name)
    side = {**provenance(table, name=name), **(extra or {}), "file": os.path.basename(path), "file_format": fmt,
            "sha256": hashlib.sha256(data).hexdigest()}
    if command is not None:
        side["command"] = command
    sidecar = path + ".provenance.json"
    side_bytes = (json.dumps(side, sort_keys=True, indent=1, allow_nan=False) + "\n").encode()
    check_output_path(sidecar, label="provenance sidecar")  # both targets are checked before either is written
    atomic_write(path, data)
    try:
        atomic_write(sidecar, side_bytes)
    except BaseException:
        try:  # no table without its provenance
            os.unlink(path)
        except OSError:
            pass
        raise
    return sidecar


def load_table_npz(path: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Read an ``.npz`` table written by :func:`write_table` (never unpickles).

    Returns:
        ``(index, value, meta)`` of a ``coo`` table, ``(codes, values, meta)`` of an activation table.
    Raises:
        NNTheoryError: for another format version.
    """
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        if meta.get("format_version") != FORMAT_VERSION:
            raise NNTheoryError(f"{path}: table format version {meta.get('format_version')} is not {FORMAT_VERSION}")
        if "codes" in f.files:
            return f["codes"], f["values"], meta
        return f["index"], f["value"], meta
