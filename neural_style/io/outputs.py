"""Where outputs may go: the accepted extensions and :func:`check_output_path`, which refuses a
bad output path before any work (a folder, an unsupported extension, an input, another output of
the run, a read-only file or an unwritable folder)."""

import os
import stat
from pathlib import Path
from typing import Iterable, Mapping, Optional

from ..errors import InputError, NeuralStyleError
from .atomic import temporary_name
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
                      outputs: Optional[Mapping] = None, when_writing: bool = False) -> Path:
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
        when_writing: checked as the file is written, after the work (a writer's own check): a file or
            folder that became read-only or a file since the run began is then a runtime fault of the
            system (NeuralStyleError, exit 1), not a usage error (InputError, exit 2), which the run's
            checks before any work would have reported.

    Returns:
        The path as a Path.
    """
    path = Path(path)
    fault = NeuralStyleError if when_writing else InputError
    _check_name_lengths(path, what, fault)  # first: a name too long fails every other check's stat
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
        raise fault(f"{what} '{path}' exists and is read-only: make it writable (chmod u+w) to replace it, "
                    "or choose another path")
    folder = nearest_existing(path.absolute().parent)
    if not folder.is_dir():
        raise fault(f"cannot write {what} '{path}': '{folder}' is a file, not a folder: choose another output folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise fault(f"cannot write {what} '{path}': folder '{folder}' is not writable: choose another output folder")
    return path


def _check_name_lengths(path: Path, what: str, fault) -> None:
    """Every name the write will make (each folder still to create, the file's temporary, its lock) within
    the file system's limit on a name (NAME_MAX, usually 255 bytes): found before the work, not when the
    result is written."""
    limit = _name_max(path.absolute().parent)
    for name in path.absolute().parts[1:-1]:  # the folders (those to create, and any given)
        if len(os.fsencode(name)) > limit:
            raise fault(f"cannot write {what} '{path}': the folder name '{name}' is {len(os.fsencode(name))} bytes, "
                        f"more than the file system's {limit}: choose a shorter name")
    size = len(os.fsencode(path.name))
    longest = max(len(os.fsencode(temporary_name(path))), len(os.fsencode(f".{path.name}.lock")))
    if longest > limit:
        raise fault(f"cannot write {what} '{path}': its name is {size} bytes and it is written through a temporary "
                    f"file {longest - size} bytes longer, more than the file system's {limit}: choose a name of at "
                    f"most {limit - (longest - size)} bytes")


def _name_max(folder: Path) -> int:
    """The longest name (bytes) the file system of ``folder``'s nearest existing folder takes (255 if unknown)."""
    for candidate in (folder, *folder.parents):
        try:
            return os.pathconf(candidate, "PC_NAME_MAX")
        except (OSError, ValueError):  # missing, not a folder, or a name too long itself
            continue
    return 255


def _same_file(first: Path, second: Path) -> bool:
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()
