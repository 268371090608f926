"""The one existence check of every file a command reads: ``"<label> does not exist: <advice>"`` and,
where a file is asked for, ``"<label> is a directory: ..."``, raised as one line."""

import hashlib
from pathlib import Path
from typing import Optional, Type

from ..errors import InputError


def require_exists(path, label: str, advice: str = "check the path", *, error: Type[InputError] = InputError) -> None:
    """Refuse a ``path`` that does not exist, naming it by ``label`` (e.g. "input 'a.png'").

    Args:
        path: the file or folder.
        label: how the message names it, e.g. ``"model file 'm.pth'"``.
        advice: what to do, after the colon (default: ``"check the path"``).
        error: the exception class raised (:class:`~neural_style.errors.InputError` or a subclass).

    Raises:
        ``error``: ``"<label> does not exist: <advice>"``.
    """
    if not Path(path).exists():
        raise error(f"{label} does not exist: {advice}")


def require_file(path, label: str, kind: str = "an image file", *, advice: str = "check the path",
                 directory: Optional[str] = None, error: Type[InputError] = InputError) -> None:
    """Refuse a ``path`` that does not exist (:func:`require_exists`) or is a directory, naming it by
    ``label`` (e.g. "content image 'a.png'") and saying what to give instead.

    Args:
        path: the file.
        label: how the message names it.
        kind: what to give instead of a directory, e.g. "a video file".
        advice: what to do about a missing file, as for :func:`require_exists`.
        directory: what to do about a directory (default: ``"give the path of <kind>"``).
        error: the exception class raised (:class:`~neural_style.errors.InputError` or a subclass).

    Raises:
        ``error``: one line, as above.
    """
    require_exists(path, label, advice, error=error)
    if Path(path).is_dir():
        raise error(f"{label} is a directory: {directory or f'give the path of {kind}'}")


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes (hex), read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
