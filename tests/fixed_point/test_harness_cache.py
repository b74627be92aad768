"""The private cache of compiled C++ harnesses: refused when others could plant a binary; tampered binaries rebuilt."""

import json
import os
import stat

import numpy as np
import pytest

from nntheory.errors import HarnessError
from nntheory.numerics import FixedType
from nntheory.validation.fixed_point._cpp import FixedHarness, _cached_ok, cpp_compiler, harness_cache, hls4ml_templates

needs_cpp = pytest.mark.skipif(hls4ml_templates() is None or cpp_compiler() is None,
                               reason="needs hls4ml (extra 'fpga') for its ap_types headers, and g++")


def test_default_cache_is_private_and_per_user(tmp_path, monkeypatch):
    monkeypatch.delenv("NNTHEORY_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    c = harness_cache()
    assert c == tmp_path / "xdg" / "nntheory" / "cpp"
    assert stat.S_IMODE(os.lstat(c).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_group_or_world_writable_cache_is_refused(tmp_path, monkeypatch, mode):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, mode)
    monkeypatch.setenv("NNTHEORY_CACHE", str(d))
    with pytest.raises(HarnessError, match="writable by its group or by others"):
        harness_cache()
    os.chmod(d, 0o700)  # negative control: the same folder, private, is accepted
    assert harness_cache() == d


def test_symlinked_or_foreign_cache_is_refused(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv("NNTHEORY_CACHE", str(tmp_path / "link"))
    with pytest.raises(HarnessError, match="symbolic link"):
        harness_cache()
    if os.getuid() == 0:  # only root can hand a folder to another user
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 12345, 12345)
        monkeypatch.setenv("NNTHEORY_CACHE", str(other))
        with pytest.raises(HarnessError, match="owned by uid 12345"):
            harness_cache()


@needs_cpp
def test_planted_or_tampered_binary_is_rebuilt(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NNTHEORY_CACHE", str(cache))
    t = FixedType.parse("ap_fixed<8,3,AP_RND,AP_SAT>")
    x = np.array([0.1, -3.14159, 100.0, -0.0625])
    expected = [3, -101, 127, -2]  # by hand: LSB 1/32, 100 saturates
    h = FixedHarness([t])
    np.testing.assert_array_equal(h.codes(0, x), expected)
    record = json.loads(h.exe.with_name(h.exe.name + ".sha256.json").read_text())
    assert set(record) == {"binary_sha256", "source_sha256"}
    planted = b"#!/bin/sh\necho planted >&2\nexit 7\n"
    h.exe.write_bytes(planted)  # someone replaces the binary: its hash no longer matches, so it is rebuilt
    h2 = FixedHarness([t])
    assert h2.exe == h.exe and h2.exe.read_bytes() != planted
    np.testing.assert_array_equal(h2.codes(0, x), expected)
    rec = h2.exe.with_name(h2.exe.name + ".sha256.json")
    source_sha = json.loads(rec.read_text())["source_sha256"]
    assert _cached_ok(h2.exe, rec, source_sha)
    assert not _cached_ok(h2.exe, rec, "0" * 64)  # built from another source: rebuilt
    rec.unlink()
    assert not _cached_ok(h2.exe, rec, source_sha)  # a binary without its record is not trusted either
