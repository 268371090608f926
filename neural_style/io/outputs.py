"""Where outputs may go: the accepted extensions and :func:`check_output_path`, which refuses a
bad output path before any work (a folder, an unsupported extension, an input, another output of
the run, a read-only file or an unwritable folder)."""

import os
import stat
from pathlib import Path
from typing import Iterable, Mapping, Optional

from ..errors import InputError
from .disk import nearest_existing

OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


class InputFiles:
    """The files a run reads, by identity (device and inode, so a link or another spelling of a path is
    the same file): made once for a batch, so checking each of N outputs against N inputs costs N
    lookups, not N^2 path comparisons. Items that are not paths, and paths that do not exist, are left
    out (a missing input cannot be overwritten; its own error comes when it is read)."""

    def __init__(self, inputs: Iterable = ()):
        self.by_identity = {}
        for source in inputs:
            identity = _identity(source) if isinstance(source, (str, os.PathLike)) else None
            if identity is not None:
                self.by_identity.setdefault(identity, source)

    def holding(self, path: Path):
        """The input that ``path`` is (the first given), or None."""
        identity = _identity(path) or _identity(Path(path).resolve())  # "sub/../in.png" with no "sub"
        return None if identity is None else self.by_identity.get(identity)


def _identity(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def check_output_path(path, *, inputs: Iterable = (), extensions=OUTPUT_EXTENSIONS, what: str = "output",
                      outputs: Optional[Mapping] = None) -> Path:
    """Validate an output path before any work: InputError for a directory, an unsupported extension,
    an input, or a folder that cannot be created or written (its nearest existing ancestor is a
    file, or is not writable).

    Args:
        path: the output file.
        inputs: the input files, which must not be overwritten (items that are not paths are ignored), or
            an :class:`InputFiles` made once for many outputs.
        extensions: the accepted lower-case extensions (matched case-insensitively).
        what: the role of the file in error messages.
        outputs: the run's other output files, path -> role ("output", "report"): none may be ``path``.

    Returns:
        The path as a Path.
    """
    path = Path(path)
    for other, role in (outputs or {}).items():
        if _same_file(path, Path(other)):
            raise InputError(f"{what} '{path}' is also the {role}: choose another {what} path")
    if path.is_dir():
        example = path / ("output" + extensions[0])
        raise InputError(f"{what} '{path}' is a directory: give a file name such as '{example}'")
    suffix = path.suffix.lower()
    if suffix not in extensions:
        problem = f"an unsupported extension '{suffix}'" if suffix else "no extension"
        raise InputError(f"{what} '{path}' has {problem}: use one of {', '.join(extensions)}")
    source = (inputs if isinstance(inputs, InputFiles) else InputFiles(inputs)).holding(path)
    if source is not None:
        raise InputError(f"refusing to overwrite input '{source}': choose another {what} path")
    if path.is_file() and not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"{what} '{path}' exists and is read-only: make it writable (chmod u+w) to replace it, "
                         "or choose another path")
    folder = nearest_existing(path.absolute().parent)
    if not folder.is_dir():
        raise InputError(f"cannot write {what} '{path}': '{folder}' is a file, not a folder: "
                         "choose another output folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what} '{path}': folder '{folder}' is not writable: "
                         "choose another output folder")
    return path


def _same_file(first: Path, second: Path) -> bool:
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()
