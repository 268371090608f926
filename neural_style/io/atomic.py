"""Atomic writes: a file is written to a temporary beside it, flushed to disk and renamed onto its
path, so that a crash, a full disk or Ctrl-C never leaves a half-written output or checkpoint."""

import contextlib
import errno
import io
import os
import re
import secrets
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import torch

from .. import signals
from ..errors import NeuralStyleError, one_line

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None


#: A temporary's name: ``.NAME.nstmp-XXXXXXXX.ext`` beside ``NAME.ext`` (the marker keeps other programs'
#: hidden files out of :func:`remove_dead_temporaries`).
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.nstmp-[0-9a-f]{8}(?P<suffix>\.[^.]*)?$")


def temporary_name(path: Path, token: str = "0" * 8) -> str:
    """The name of a temporary of ``path`` (the longest name a write of ``path`` makes)."""
    return f".{path.name}.nstmp-{token}{path.suffix}"


def _create_temporary(path: Path) -> Tuple[Path, Optional[int]]:
    """A new empty file ``.NAME.nstmp-XXXXXXXX.ext`` beside ``path``, created with mode 0666 so that the
    kernel applies the process umask (the usual permissions of a new file; the umask itself is
    never changed, which would affect other threads), and a descriptor holding its lock (``flock``;
    None where there is none) until it is renamed or removed: while it is held the temporary is being
    written, so :func:`remove_dead_temporaries` leaves it alone."""
    for _ in range(100):
        temporary = path.with_name(temporary_name(path, secrets.token_hex(4)))
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            if fcntl is None:
                raise OSError(errno.ENOSYS, "no flock")
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # a new file: nobody else holds it
        except OSError:  # a file system without locks: written all the same, unlocked
            os.close(descriptor)
            return temporary, None
        return temporary, descriptor
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def remove_dead_temporaries(folder, name: Optional[str] = None) -> List[Path]:
    """Remove the temporaries that runs which died (SIGKILL, the OOM killer, a power cut) left in
    ``folder`` while writing (only those of ``name`` when given): a temporary whose lock nobody holds.
    A temporary being written by a live run, here or in another container on the same disk, is locked
    and left alone. Returns the files removed; a folder that cannot be listed gives none."""
    if fcntl is None:
        return []
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = TEMPORARY.match(entry.name)
        if not match or (name is not None and match["name"] != name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            descriptor = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)  # while locked: a writer cannot have it
            removed.append(Path(entry.path))
        except OSError:  # held: a live run is writing it (BlockingIOError), or it cannot be removed
            pass
        finally:
            os.close(descriptor)
    return removed


def atomic_write(path, write_fn: Callable[[Path], None], *, interruptible: bool = False) -> Path:
    """Create or replace ``path`` atomically with a file written by ``write_fn``.

    ``write_fn`` writes a temporary file in the same directory (created if missing), which
    is flushed to disk and renamed onto ``path``. On failure the temporary file is removed
    and ``path`` is left untouched; an OSError becomes a NeuralStyleError, other
    exceptions propagate unchanged. Ctrl-C, SIGTERM and SIGHUP wait until the file is written
    (or its temporary removed): a signal between creating the temporary and cleaning it up
    would leave it behind.

    With ``interruptible`` (a file written while its content is made, a clip as its frames are
    stylised), the signals act at once while ``write_fn`` runs, which removes the temporary, and wait
    only while the temporary is created, renamed or removed.

    Args:
        path: the file to write.
        write_fn: called with the temporary path; must write the whole file there.
        interruptible: see above.

    Returns:
        ``path`` as a Path.
    """
    if interruptible:
        return _write_atomically(Path(path), write_fn, signals.deferred)
    with signals.deferred():
        return _write_atomically(Path(path), write_fn, contextlib.nullcontext)


def _write_atomically(path: Path, write_fn: Callable[[Path], None], hold: Callable) -> Path:
    """The write; ``hold()`` around creating, renaming and removing the temporary."""
    try:
        with hold():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary, held = _create_temporary(path)
    except OSError as exc:
        folder = path.parent
        reason = f"'{folder}' is not a folder" if folder.exists() and not folder.is_dir() else one_line(exc, strerror=True)
        raise NeuralStyleError(f"could not write '{path}': {reason}: choose another output folder") from exc
    try:
        write_fn(temporary)
        with hold():
            with open(temporary, "rb+") as stream:
                os.fsync(stream.fileno())
            os.replace(temporary, path)
    except BaseException as exc:
        with hold():
            temporary.unlink(missing_ok=True)
            _release(held)
        if isinstance(exc, OSError):
            reason = one_line(exc, whole=True, strerror=True)
            message = f"could not write '{path}': {reason}: check the permissions and free space"
            raise NeuralStyleError(message) from exc
        raise
    _release(held)
    return path


def _release(descriptor: Optional[int]) -> None:
    if descriptor is not None:
        os.close(descriptor)


def atomic_torch_save(path, obj) -> Path:
    """``torch.save(obj)`` to ``path`` with :func:`atomic_write`. The object is serialised in memory
    first and the bytes written by Python, so that a full disk or a lost permission is an OSError,
    reported as one line naming ``path`` (torch's own writers, to a path or to a Python file, turn
    them into a RuntimeError from their C++ code: "enforce fail at inline_container.cc")."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write(path, lambda temporary: Path(temporary).write_bytes(buffer.getbuffer()))
