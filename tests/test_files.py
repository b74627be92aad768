"""Files the tool writes: regular files only, umask-respecting modes, all-or-nothing, with provenance.

The atomic writer (``nntheory._io.atomic_write``) refuses to replace a directory, a device or FIFO, or a
symlink; the final mode follows the umask; a failure at any point (Ctrl-C included) leaves the target
untouched and no temporary file. Every file the CLI writes carries provenance: nntheory version, generator,
parameters and a sha256 that matches the data (recomputed here from the data, independently).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import numpy as np
import pytest

from nntheory._io import OutputPathError, atomic_write, check_output_path
from nntheory._version import __version__
from nntheory.cli import main


def _sha(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


# ------------------------------------------------------------------------------------------ the writer


def test_writes_bytes_and_text(tmp_path):
    atomic_write(str(tmp_path / "a" / "b.bin"), b"\x00\x01")
    atomic_write(str(tmp_path / "c.txt"), "héllo\n")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "c.txt").read_bytes() == "héllo\n".encode()
    assert sorted(os.listdir(tmp_path)) == ["a", "c.txt"]  # no temporary file left


def test_replaces_a_regular_file(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("old")
    atomic_write(str(p), "new")
    assert p.read_text() == "new"


def test_refuses_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputPathError, match="is a directory"):
        atomic_write(str(tmp_path / "d"), "x")
    assert (tmp_path / "d").is_dir()


def test_refuses_a_symlink_unless_asked(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(OutputPathError, match="symbolic link"):
        atomic_write(str(link), "x")
    assert target.read_text() == "keep" and link.is_symlink()
    atomic_write(str(link), "new", follow_symlinks=True)  # opt-in: the link is replaced, never written through
    assert target.read_text() == "keep" and not link.is_symlink() and link.read_text() == "new"


def test_refuses_a_fifo_and_a_link_to_a_device(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputPathError, match="FIFO"):
        atomic_write(str(fifo), "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "null"
    link.symlink_to(os.devnull)  # like writing a table "to /dev/null"
    with pytest.raises(OutputPathError, match="symbolic link"):
        atomic_write(str(link), "x")
    assert link.is_symlink()
    with pytest.raises(OutputPathError, match="character device"):
        atomic_write(os.devnull, "x")
    with pytest.raises(OutputPathError, match="character device"):
        check_output_path(os.devnull)
    atomic_write(str(link), "x", follow_symlinks=True)  # opt-in: the link is replaced, the device untouched
    assert link.read_text() == "x" and not link.is_symlink()
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_refuses_a_path_through_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="not a folder"):
        atomic_write(str(tmp_path / "f" / "y.json"), "x")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_mode_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(str(tmp_path / "x"), "x")
        open(tmp_path / "ref", "w").close()  # what a plain open() gives
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "x").st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE(os.stat(tmp_path / "ref").st_mode)


def test_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode))),
                                                 real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", None)), real_replace(a, b))[1])
    atomic_write(str(tmp_path / "x"), b"data")
    assert events == [("fsync", False), ("replace", None), ("fsync", True)]


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError])
def test_failure_leaves_target_and_no_temporary(tmp_path, monkeypatch, where, exc):
    p = tmp_path / "x.txt"
    p.write_text("old")
    real = getattr(os, where)
    calls = []

    def fail(*a, **k):
        calls.append(1)
        raise exc("injected")

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(exc):
        atomic_write(str(p), "new")
    monkeypatch.setattr(os, where, real)
    assert calls and p.read_text() == "old" and os.listdir(tmp_path) == ["x.txt"]


# ------------------------------------------------------------------------------------------ provenance


def _check_provenance(meta: dict) -> None:
    assert meta["nntheory_version"] == __version__
    assert meta["generator"] == f"nntheory {__version__}"
    assert meta["generator_function"].startswith("nntheory.")


def _data_sha(arrays: dict) -> str:
    """The documented data hash, recomputed here: for each name in sorted order, name|dtype|shape| and the bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def test_activation_table_json_carries_version_and_hash(tmp_path, capsys):
    out = tmp_path / "tanh.json"
    assert main(["tables", "activation", "tanh", "--table-size", "64", "--name", "my_tanh", "-o", str(out)]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    meta = doc["meta"]
    _check_provenance(meta)
    assert meta["name"] == "my_tanh" and meta["table_size"] == 64 and meta["parameters"]["act"] == "tanh"
    codes = np.array(doc["codes"], dtype=np.int64)
    values = np.array(doc["table"], dtype=np.float64)
    assert meta["data_sha256"] == _data_sha({"codes": codes, "values": values})
    side = json.loads((tmp_path / "tanh.json.provenance.json").read_text())
    _check_provenance(side)
    assert side["sha256"] == _sha(out) and side["data_sha256"] == meta["data_sha256"]
    assert "--name" in side["command"] and side["name"] == "my_tanh"
    assert side["max_error"] >= 0


def test_activation_table_to_stdout_carries_provenance(capsys):
    assert main(["tables", "activation", "sigmoid", "--table-size", "32"]) == 0
    doc = json.loads(capsys.readouterr().out)
    _check_provenance(doc["meta"])
    assert doc["meta"]["data_sha256"] == _data_sha({"codes": np.array(doc["codes"], dtype=np.int64),
                                                    "values": np.array(doc["table"], dtype=np.float64)})


@pytest.mark.parametrize("fmt,ext", [("npz", "npz"), ("json", "json"), ("c-header", "h")])
def test_so3_tables_honour_name_and_hash(tmp_path, capsys, fmt, ext):
    out = tmp_path / f"t.{ext}"
    assert main(["tables", "cg", "--lmax", "2", "--format", fmt, "--name", "my_cg", "-o", str(out)]) == 0
    capsys.readouterr()
    side = json.loads((tmp_path / f"t.{ext}.provenance.json").read_text())
    _check_provenance(side)
    assert side["name"] == "my_cg" and side["sha256"] == _sha(out) and side["lmax"] == 2
    if fmt == "npz":
        with np.load(out, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            assert meta["name"] == "my_cg"
            assert meta["data_sha256"] == _data_sha({"index": f["index"], "value": f["value"]})
    elif fmt == "json":
        assert json.loads(out.read_text())["meta"]["name"] == "my_cg"
    else:
        text = out.read_text()
        assert "my_cg_index" in text and "my_cg_value" in text and '"name": "my_cg"' in text


def test_no_table_without_its_sidecar(tmp_path, capsys):
    """The sidecar is checked before the table is written: both or neither."""
    (tmp_path / "t.npz.provenance.json").mkdir()
    assert main(["tables", "cg", "--lmax", "1", "-o", str(tmp_path / "t.npz")]) == 2
    capsys.readouterr()
    assert sorted(os.listdir(tmp_path)) == ["t.npz.provenance.json"]


@pytest.mark.parametrize("ext", ["png", "svg", "tex"])
def test_drawings_carry_provenance(tmp_path, capsys, ext):
    out = tmp_path / f"v.{ext}"
    assert main(["diagrams", "draw", "--statistic", "V", "--order", "1", "-o", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    side = json.loads((tmp_path / f"v.{ext}.provenance.json").read_text())
    assert printed["provenance"] == str(out) + ".provenance.json"
    _check_provenance(side)
    assert side["sha256"] == _sha(out) and side["statistics"] == ["V"] and side["count"] == printed["count"]
    assert side["parameters"] == {"statistic": "V", "m": 2, "order": 1, "init": "gaussian"}
    from nntheory.diagrams import diagrams

    canon = json.dumps([d.to_dict() for d in diagrams("V")], sort_keys=True).encode()
    assert side["diagrams_sha256"] == hashlib.sha256(canon).hexdigest()
    data = out.read_bytes()
    assert side["diagrams_sha256"].encode() in data  # embedded in the picture (PNG text chunk, SVG, TeX comment)
    if ext == "png":
        from PIL import Image

        with Image.open(out) as im:
            embedded = json.loads(im.text["nntheory"])
        assert embedded["nntheory_version"] == __version__ and embedded["parameters"]["order"] == 1


def test_same_drawing_same_bytes(tmp_path, capsys):
    for name in ("a.png", "b.png"):
        assert main(["diagrams", "draw", "--statistic", "K1", "-o", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_json_scan_catches_non_finite_tokens(tmp_path, json_scan):
    """The session-end scan (tests/conftest.py) fails on NaN/Infinity and invalid JSON, and skips bad inputs."""
    (tmp_path / "good.json").write_text('{"a": [1, 2.5e300]}')
    (tmp_path / "nan.json").write_text('{"a": NaN}')
    (tmp_path / "inf.json").write_text('[-Infinity]')
    (tmp_path / "cut.json").write_text('{"a": ')
    (tmp_path / "bad-inputs").mkdir()
    (tmp_path / "bad-inputs" / "x.json").write_text("[NaN]")
    (tmp_path / "bad_x.json").write_text("[NaN]")
    try:
        found = sorted(os.path.basename(p.split(":")[0]) for p in json_scan(tmp_path))
    finally:  # these are deliberately bad: they must not fail the session's own scan
        for name in ("nan.json", "inf.json", "cut.json"):
            (tmp_path / name).unlink()
    assert found == ["cut.json", "inf.json", "nan.json"]


@pytest.mark.slow
def test_validate_outputs_have_a_manifest(tmp_path, capsys):
    """``validate`` writes provenance.json: version, settings and the sha256 of every file it wrote."""
    out = tmp_path / "v"
    rc = main(["validate", "--out", str(out), "--depth", "2", "--widths", "4,8,16", "--n-nets", "16",
               "--activation", "relu"])
    capsys.readouterr()
    assert rc in (0, 1)
    man = json.loads((out / "provenance.json").read_text())
    _check_provenance(man)
    assert man["job"] == "validate finite-width" and man["settings"]["widths"] == [4, 8, 16] and man["settings"]["nntheory"] == __version__
    assert set(man["files_sha256"]) == {"results.json", "table.txt", "relu-critical.png", "relu-off-critical.png"}
    for name, digest in man["files_sha256"].items():
        assert _sha(out / name) == digest
    assert sorted(os.listdir(out)) == sorted([*man["files_sha256"], "provenance.json"])
