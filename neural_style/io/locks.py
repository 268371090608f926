"""Ownership of the files and folders a run writes: an OS file lock (``flock``) held for the run's life.

Two runs with one output would each finish and one result would be lost without a word (two ``train``
runs with one ``-o``), or the second would trip over the first's frame folder. A run takes the lock of
every file or folder it owns (a checkpoint folder, a frame folder, an output while it is made) before any
work; a second run is refused in one line naming the process that holds it (exit 1). The kernel releases
a lock when its process ends, however it ends (SIGKILL, the OOM killer, a power cut), so a folder whose
owner died is simply taken over: there is no stale lock to clean by hand, and the temporaries a dead run
left while writing there are removed (:func:`~neural_style.io.atomic.remove_dead_temporaries`).

The lock is a hidden file: ``.NAME.lock`` beside a file, ``.neural-style.lock`` inside a folder, holding
the owner's process id (for the message); it is removed when the lock is released. Where the platform has
no ``flock`` (Windows), nothing is locked.
"""

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from ..errors import NeuralStyleError
from .atomic import remove_dead_temporaries

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None

#: The lock file inside a folder a run owns.
FOLDER_LOCK = ".neural-style.lock"


def lock_path(path: Path, folder: bool) -> Path:
    """The lock file of ``path``: inside it for a folder, ``.NAME.lock`` beside it for a file."""
    return path / FOLDER_LOCK if folder else path.with_name(f".{path.name}.lock")


@contextmanager
def owned(path, what: str, *, folder: bool = False) -> Iterator[Path]:
    """Hold the lock of ``path`` (a file, or a folder when ``folder``, created if missing) for the block.

    Args:
        path: the file or folder the run owns.
        what: its role in the message (``"output"``, ``"checkpoint folder"``).
        folder: ``path`` is a folder. The folder (``path``, or a file's folder) is created if missing, and
            removed again at the end if it was made here and is left empty (a run that failed leaves
            nothing behind; another run that needs it meanwhile makes it again).

    Raises:
        NeuralStyleError: another process holds it (exit 1): "checkpoint folder 'ck' is in use by process
            1234 (another neural-style run): wait for it to end, or choose another checkpoint folder".
        NeuralStyleError: the lock file cannot be made (no permission, a read-only file system, a folder
            such as /proc where no file can be made): the message names the folder and the system's reason.
    """
    path = Path(path)
    if fcntl is None:
        yield path
        return
    where = path if folder else path.parent
    made = [p for p in (where, *where.parents) if not p.exists()]  # deepest first
    lock = lock_path(path, folder)
    descriptor = _acquire(lock, path, what)  # None: no locks here, the run goes on as it would on Windows
    if descriptor is not None:  # what runs that died while writing here left behind
        remove_dead_temporaries(path) if folder else remove_dead_temporaries(path.parent, path.name)
    try:
        yield path
    finally:
        try:
            if descriptor is not None:
                lock.unlink(missing_ok=True)  # while still held: a waiting run then makes a new one
            _remove_empty(made)  # made for a run that wrote nothing there
        finally:
            if descriptor is not None:
                os.close(descriptor)


def _remove_empty(folders) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (the run wrote there), or already gone
            return


#: What ``flock`` raises on a file system that has no locks: the run goes on without one.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def _acquire(lock: Path, path: Path, what: str) -> Optional[int]:
    """The descriptor of ``lock``, locked; retried when the file was removed under us by its last owner
    (a lock on a file no longer at its path would lock nothing); None where the file system has no
    locks."""
    missing = None  # the last FileNotFoundError: on every try, the folder is one where no file can be made (/proc)
    for _ in range(100):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError as exc:  # the folder was removed as we made the lock (by a run that made it): again
            missing = exc
            continue
        except OSError as exc:  # no permission, a read-only file system, a full disk
            raise _unwritable(what, path, lock, exc) from exc
        missing = None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _owner(descriptor)
            os.close(descriptor)
            holder = f"process {owner}" if owner else "another process"
            raise NeuralStyleError(f"{what} '{path}' is in use by {holder} (another neural-style run): wait for it to "
                                   f"end, or choose another {what}") from None
        except OSError as exc:
            os.close(descriptor)
            if exc.errno in _NO_LOCKS:  # a file system without flock (some network or FUSE mounts): unlocked
                lock.unlink(missing_ok=True)
                return None
            raise
        except BaseException:
            os.close(descriptor)
            raise
        if _same_file(descriptor, lock):
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode())
            return descriptor
        os.close(descriptor)  # its owner removed it as we opened it: take the new one
    if missing is not None:
        raise _unwritable(what, path, lock, missing) from missing
    raise NeuralStyleError(f"could not take the lock of {what} '{path}': its lock file '{lock}' keeps changing")


def _unwritable(what: str, path: Path, lock: Path, exc: OSError) -> NeuralStyleError:
    """The error of a lock file that cannot be made: it names the folder and the system's reason."""
    reason = "it takes no new file" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
    return NeuralStyleError(f"cannot write {what} '{path}': no file can be made in folder '{lock.parent}' "
                            f"({reason}): choose another folder")


def _same_file(descriptor: int, lock: Path) -> bool:
    try:
        here, there = os.fstat(descriptor), os.stat(lock)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _owner(descriptor: int) -> Optional[int]:
    try:
        text = os.pread(descriptor, 32, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
