"""C++ reference harnesses over the ``ap_types`` and ``nnet_utils`` headers that hls4ml ships (g++ only).

These are the independent route for the fixed-point emulator: the Xilinx ``ap_fixed`` headers as hls4ml
compiles them in ``hls_model.compile()``. Nothing here needs a vendor tool. Programs are generated,
compiled once per set of types into a cache folder, and then serve requests over pipes in binary.

The cache is private: ``$NNTHEORY_CACHE`` if set, else ``$XDG_CACHE_HOME/nntheory/cpp`` (default
``~/.cache/nntheory/cpp``), created with mode 0700. A folder that is a symbolic link, is owned by another user,
or is writable by the group or by others is refused (:class:`~nntheory.errors.HarnessError`): a binary planted
there would be executed. Next to each binary a ``.sha256.json`` records the SHA-256 of the binary and of its
source; a binary whose hashes do not match (truncated, replaced, or built from another source) is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import numpy as np

from nntheory.errors import HarnessError, SpecError
from nntheory.numerics.fixed_point._fixed import FixedType

__all__ = ["ActivationHarness", "FixedHarness", "cpp_compiler", "harness_cache", "hls4ml_templates"]


def hls4ml_templates() -> Path | None:
    """The folder with hls4ml's Vivado templates (``ap_types/``, ``nnet_utils/``), or None without hls4ml."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado"
    return p if (p / "ap_types" / "ap_fixed.h").exists() else None


def cpp_compiler() -> str | None:
    """Returns: the path of the C++ compiler (``$CXX``, default ``g++``), or None if it is not on the PATH."""
    return shutil.which(os.environ.get("CXX", "g++"))


def _cpp_type(t: FixedType) -> str:
    return f"{'ap_fixed' if t.signed else 'ap_ufixed'}<{t.width},{t.integer},AP_{t.rounding},AP_{t.overflow}>"


_CXXFLAGS = ("-O1", "-std=c++14", "-w")


def harness_cache() -> Path:
    """The private folder of compiled harnesses (module docstring), created with mode 0700 if missing.

    Returns:
        The folder: ``$NNTHEORY_CACHE``, else ``$XDG_CACHE_HOME/nntheory/cpp``, else ``~/.cache/nntheory/cpp``.

    Raises:
        HarnessError: the folder is a symbolic link or not a folder, is owned by another user, or is writable
            by its group or by others.
    """
    env = os.environ.get("NNTHEORY_CACHE")
    if env:
        cache = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        cache = Path(base) / "nntheory" / "cpp"
    try:
        os.makedirs(cache, mode=0o700, exist_ok=True)
        st = os.lstat(cache)
    except OSError as exc:
        raise HarnessError(f"C++ harness cache {str(cache)!r}: cannot create it ({exc}); set NNTHEORY_CACHE to a private folder.") from exc
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise HarnessError(f"C++ harness cache {str(cache)!r} is a symbolic link or not a folder; set NNTHEORY_CACHE to a private folder.")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise HarnessError(f"C++ harness cache {str(cache)!r} is owned by uid {st.st_uid}, not by you (uid {os.getuid()}); "
                           "set NNTHEORY_CACHE to a folder of your own.")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise HarnessError(f"C++ harness cache {str(cache)!r} is writable by its group or by others (mode "
                           f"{stat.S_IMODE(st.st_mode):o}); run 'chmod 700' on it or set NNTHEORY_CACHE to a private folder.")
    return cache


def _sha256_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _cached_ok(exe: Path, record: Path, source_sha: str) -> bool:
    """True if ``exe`` exists and the record holds its SHA-256 and that of ``source`` (else it is rebuilt)."""
    try:
        rec = json.loads(record.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(rec, dict) and rec.get("source_sha256") == source_sha and rec.get("binary_sha256") == _sha256_file(exe)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _compile(source: str, tag: str) -> Path:
    templates, cxx = hls4ml_templates(), cpp_compiler()
    if templates is None or cxx is None:
        raise HarnessError("C++ harness: needs hls4ml (pip install 'nntheory[fpga]') and g++.")
    source_sha = hashlib.sha256(source.encode()).hexdigest()
    key = hashlib.sha256("\0".join([source, str(templates), cxx, *_CXXFLAGS]).encode()).hexdigest()[:16]
    cache = harness_cache()
    exe, record, src = cache / f"{tag}-{key}", cache / f"{tag}-{key}.sha256.json", cache / f"{tag}-{key}.cpp"
    if _cached_ok(exe, record, source_sha):
        return exe
    _write_private(src, source.encode())
    tmp = exe.with_name(f".{exe.name}.tmp{os.getpid()}")
    cmd = [cxx, *_CXXFLAGS, f"-I{templates / 'ap_types'}", f"-I{templates / 'nnet_utils'}", str(src), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise HarnessError(f"C++ harness: g++ failed:\n{r.stderr[-4000:]}")
    binary_sha = _sha256_file(tmp)
    os.replace(tmp, exe)  # atomic: a concurrent build never sees half a binary
    _write_private(record, (json.dumps({"binary_sha256": binary_sha, "source_sha256": source_sha}, sort_keys=True) + "\n").encode())
    return exe


def _request(exe: Path, case: int, x) -> np.ndarray:
    """One request to a harness: the uint64 bit patterns of case ``case`` for the float64 inputs ``x``."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64).ravel())
    req = np.array([case], np.int32).tobytes() + np.array([x.size], np.int64).tobytes() + x.tobytes()
    r = subprocess.run([str(exe)], input=req, capture_output=True)
    if r.returncode:
        raise HarnessError(f"C++ harness {exe.name} failed (exit {r.returncode}): {r.stderr.decode()[-2000:]}")
    return np.frombuffer(r.stdout, dtype=np.uint64).copy()


class FixedHarness:
    """``T t = x;`` for float64 ``x`` and each type ``T`` of ``types``, and ``T t = S(x)`` for the ``(S, T)`` of ``pairs``.

    ``codes(i, x)`` returns the int64 codes of ``types[i]``; ``convert_codes(j, x)`` those of ``pairs[j][1]``
    after the double went through ``pairs[j][0]``.
    """

    def __init__(self, types, pairs=()):
        self.types = [FixedType.parse(t) if isinstance(t, str) else t for t in types]
        self.pairs = [tuple(FixedType.parse(t) if isinstance(t, str) else t for t in p) for p in pairs]
        cases = []
        for i, t in enumerate(self.types):
            cases.append(f"    case {i}: run1<{_cpp_type(t)}, {t.width}>(x, out); break;")
        for j, (s, t) in enumerate(self.pairs):
            cases.append(f"    case {len(self.types) + j}: run2<{_cpp_type(s)}, {_cpp_type(t)}, {t.width}>(x, out); break;")
        source = (_HARNESS + _MAIN).replace("@CASES@", "\n".join(cases))
        self.exe = _compile(source, "fixed")

    def _run(self, k: int, x) -> np.ndarray:
        return _request(self.exe, k, x)

    @staticmethod
    def _signed(bits: np.ndarray, t: FixedType) -> np.ndarray:
        b = bits.astype(np.int64) & ((1 << t.width) - 1)
        if t.signed:
            b = np.where(b >= (1 << (t.width - 1)), b - (1 << t.width), b)
        return b

    def codes(self, i: int, x) -> np.ndarray:
        return self._signed(self._run(i, x), self.types[i])

    def convert_codes(self, j: int, x) -> np.ndarray:
        return self._signed(self._run(len(self.types) + j, x), self.pairs[j][1])


# the shared request loop of every harness: (int32 case, int64 n, n float64) in, n uint64 bit patterns out
_PRELUDE = r"""
#include <cstdio>
#include <cstdint>
#include <vector>
#include "ap_fixed.h"
"""
_MAIN = r"""
int main() {
    int32_t k; int64_t n;
    if (fread(&k, 4, 1, stdin) != 1 || fread(&n, 8, 1, stdin) != 1) return 2;
    std::vector<double> x(n); std::vector<uint64_t> out(n);
    if (n && fread(x.data(), 8, n, stdin) != (size_t)n) return 3;
    switch (k) {
@CASES@
    default: return 4;
    }
    fwrite(out.data(), 8, n, stdout);
    return 0;
}
"""

_HARNESS = _PRELUDE + r"""
template <class T, int W> void run1(const std::vector<double>& x, std::vector<uint64_t>& out) {
    for (size_t i = 0; i < x.size(); ++i) { T t = x[i]; out[i] = t.range(W - 1, 0).to_uint64(); }
}
template <class S, class T, int W> void run2(const std::vector<double>& x, std::vector<uint64_t>& out) {
    for (size_t i = 0; i < x.size(); ++i) { S s = x[i]; T t = s; out[i] = t.range(W - 1, 0).to_uint64(); }
}
"""


class ActivationHarness:
    """hls4ml's own ``nnet::tanh`` / ``nnet::sigmoid`` (``nnet_activation.h``) for ``(name, data_t, table_t, res_t, size)``
    configurations; ``run(i, x)`` returns the ``res_t`` codes for float64 inputs ``x`` (converted to ``data_t`` first)."""

    def __init__(self, configs):
        self.configs = [(n, FixedType.parse(d) if isinstance(d, str) else d, FixedType.parse(t) if isinstance(t, str) else t,
                         FixedType.parse(r) if isinstance(r, str) else r, int(size)) for n, d, t, r, size in configs]
        decls, cases = [], []
        for i, (name, d, t, r, size) in enumerate(self.configs):
            if name not in ("tanh", "sigmoid"):
                raise SpecError(f"ActivationHarness: hls4ml table activations here are tanh and sigmoid, got {name!r}.")
            decls.append(f"struct cfg{i} : nnet::activ_config {{ static const unsigned n_in = 1; "
                         f"static const unsigned table_size = {size}; typedef {_cpp_type(t)} table_t; }};")
            cases.append(f"    case {i}: runact<{_cpp_type(d)}, {_cpp_type(r)}, cfg{i}, {r.width}>(x, out, {int(name == 'tanh')}); break;")
        source = (_ACT_HARNESS + _MAIN).replace("@DECLS@", "\n".join(decls)).replace("@CASES@", "\n".join(cases))
        self.exe = _compile(source, "activation")

    def run(self, i: int, x) -> np.ndarray:
        return FixedHarness._signed(_request(self.exe, i, x), self.configs[i][3])


_ACT_HARNESS = _PRELUDE + r"""
#include "nnet_activation.h"
@DECLS@
template <class D, class R, class C, int W> void runact(const std::vector<double>& x, std::vector<uint64_t>& out, int is_tanh) {
    for (size_t i = 0; i < x.size(); ++i) {
        D d[1]; R r[1]; d[0] = x[i];
        if (is_tanh) nnet::tanh<D, R, C>(d, r); else nnet::sigmoid<D, R, C>(d, r);
        out[i] = r[0].range(W - 1, 0).to_uint64();
    }
}
"""
