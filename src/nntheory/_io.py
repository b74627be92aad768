"""Small file helpers shared by the CLI and the exporters (standard library only).

:func:`atomic_write` writes regular files only: the data go to a temporary file in the target's folder,
which is flushed and ``fsync``-ed, given the mode a new file would get under the current umask, and
renamed over the target; the folder is ``fsync``-ed after the rename. A target that is a directory, a
device, a FIFO, a socket or a symbolic link is refused (a symlink is followed only with
``follow_symlinks=True``; the others never), so writing a table "to /dev/null" can never replace the
device with a regular file. On any failure, Ctrl-C included, the temporary file is removed and the
target is untouched. :func:`check_output_path` makes the same checks before any work is done.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading

from nntheory.errors import NNTheoryError

__all__ = ["OutputPathError", "atomic_write", "check_output_folder", "check_output_path", "note_interrupt",
           "was_interrupted"]

#: set by the command line's SIGINT handler: an interrupt that a library swallowed (a KeyboardInterrupt raised
#: inside code that catches it) still stops every later write, so Ctrl-C never leaves a finished-looking output
_INTERRUPTED = threading.Event()


def note_interrupt() -> None:
    """Record a Ctrl-C (the ``nntheory`` command's SIGINT handler calls this before raising KeyboardInterrupt)."""
    _INTERRUPTED.set()


def was_interrupted() -> bool:
    """Whether :func:`note_interrupt` was called in this process."""
    return _INTERRUPTED.is_set()


class OutputPathError(NNTheoryError):
    """An output path that cannot be written: a folder, a device, a symlink, a missing or unwritable folder."""


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (``/proc/self/status`` on Linux).

    Elsewhere it is set and restored under a lock, so two threads of nntheory never see a zero umask; a thread
    of another library creating a file in that instant could still (the OS offers no read-only query).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_output_path(path: str, *, label: str = "output", make_folder: bool = True,
                      follow_symlinks: bool = False) -> str:
    """Check that ``path`` can be written as a regular file, before any work is done.

    Args:
        path: the file to be written.
        label: the option's name for messages (e.g. ``'-o/--output'``).
        make_folder: True: a missing folder is fine if it can be created (it is not created here); False: the
            folder must exist.
        follow_symlinks: allow the target to be a symbolic link (the link is then replaced, never written through).
    Returns:
        The absolute path.
    Raises:
        OutputPathError: if the target is a directory, device, FIFO, socket or (unless allowed) a symlink, if
            its folder is missing (``make_folder=False``) or is not a folder, or if the folder is not writable.
    """
    if not isinstance(path, str) or not path:
        raise OutputPathError(f"{label}: expected a file name, got {path!r}.")
    full = os.path.abspath(path)
    if path.endswith(os.sep):
        raise OutputPathError(f"{label}: {path!r} names a folder; give a file name.")
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):  # the folder checks below say which
        st = None
    except OSError as exc:
        raise OutputPathError(f"{label}: cannot inspect {path!r} ({exc.strerror}).") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode) and not follow_symlinks:
            raise OutputPathError(f"{label}: {path!r} is a symbolic link; refusing to replace it (remove it, or write "
                                  "to another name).")
        if not stat.S_ISLNK(st.st_mode) and not stat.S_ISREG(st.st_mode):
            raise OutputPathError(f"{label}: {path!r} is {_kind(st.st_mode)}, not a regular file; refusing to "
                                  "replace it.")
    folder = os.path.dirname(full)
    probe = folder
    while not os.path.exists(probe):  # the first existing ancestor decides whether the folder can be made
        if not make_folder:
            raise OutputPathError(f"{label}: the folder {os.path.dirname(path) or '.'!r} of {path!r} does not exist.")
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputPathError(f"{label}: {probe!r} (in the path {path!r}) is not a folder.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(f"{label}: the folder {probe!r} is not writable, so {path!r} cannot be written.")
    return full


def check_output_folder(folder: str, *, label: str = "--out") -> str:
    """Check that ``folder`` is (or can be made) a writable folder, before any work is done.

    Args:
        folder: the output folder.
        label: the option's name for messages.
    Returns:
        The absolute path.
    Raises:
        OutputPathError: if it exists and is not a folder, or it (or its first existing ancestor) is not writable.
    """
    if not isinstance(folder, str) or not folder:
        raise OutputPathError(f"{label}: expected a folder name, got {folder!r}.")
    full = os.path.abspath(folder)
    probe = full
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputPathError(f"{label}: {probe!r} is not a folder.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(f"{label}: the folder {probe!r} is not writable.")
    return full


def atomic_write(path: str, data: bytes | str, *, follow_symlinks: bool = False) -> None:
    """Write ``data`` to the regular file ``path`` atomically (module docstring): all or nothing.

    Args:
        path: the target file; its folder is created if missing.
        data: bytes, or text (written as UTF-8).
        follow_symlinks: allow replacing a symbolic link at ``path`` (never writes through it).
    Raises:
        OutputPathError: if ``path`` is a directory, device, FIFO, socket or symlink (see
            :func:`check_output_path`).
        OSError: if the folder cannot be created or written.
        KeyboardInterrupt: after a Ctrl-C was recorded (:func:`note_interrupt`), even one a library swallowed.
    """
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt
    full = check_output_path(path, follow_symlinks=follow_symlinks)
    folder = os.path.dirname(full)
    os.makedirs(folder, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + os.path.basename(full)[:40])
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, 0o666 & ~_umask())  # what open(path, "w") would give a new file
            os.fsync(fd)
        finally:
            os.close(fd)
        check_output_path(path, follow_symlinks=follow_symlinks)  # the target may have changed meanwhile
        os.replace(tmp, full)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - some platforms cannot open folders
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover - fsync of a folder is not supported everywhere
        pass
    finally:
        os.close(dfd)
