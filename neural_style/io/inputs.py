"""One input planner for every command that takes several images: files and folders alike.

``denoise``, ``transfer`` and ``train`` read folders the same way (:func:`folder_files`): every file
in the folder's tree whose extension the command reads, sorted by path, except hidden files and
folders (names starting with ``.``: macOS's ``._NAME`` AppleDouble files, our own temporary files).
For ``denoise`` and ``transfer``, outputs keep the input names and a folder's tree is mirrored in
the output folder, so two inputs with one output path are refused (one would overwrite the other);
one input file may go to an output file, anything else goes into an output folder. Every output
path is checked before any work (see :func:`~neural_style.io.outputs.check_output_path`).
"""

import os
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

from ..core.files import require_exists
from ..errors import InputError, setting
from .outputs import InputFiles, check_output_path

Pair = Tuple[Path, Path]


def as_list(value) -> list:
    """One input or several, as a list: the one rule of every API entry that takes several inputs.

    A ``str`` or ``bytes``, a path (``os.PathLike``), or an image (anything with a ``shape``: a numpy
    array, a tensor; or a PIL image) is *one* input, never iterated (a path's characters, an array's
    rows); a list or tuple is several, in order; any other iterable (a generator) is several; anything
    else is one.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, bytes, os.PathLike)) or hasattr(value, "shape") or hasattr(value, "getpixel"):
        return [value]
    try:
        return list(iter(value))
    except TypeError:
        return [value]


def folder_files(folder, extensions: Sequence[str], exclude: Sequence = ()) -> List[Path]:
    """Every file in ``folder``'s tree with one of ``extensions`` (lower case, matched
    case-insensitively), sorted by path; hidden files and folders (a name starting with ``.`` below
    ``folder``) and anything inside ``exclude`` (folders the run writes into) left out."""
    folder = Path(folder)
    skip = [Path(p).absolute() for p in exclude]
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or path.suffix.lower() not in extensions:
            continue
        if path.is_file() and not any(_inside(path.absolute(), s) for s in skip):
            found.append(path)
    return sorted(found)


def _inside(path: Path, folder: Path) -> bool:
    return folder == path or folder in path.parents


def _some_files(folder, extensions: Sequence[str], exclude: Sequence, what: str, noun: str) -> List[Path]:
    """:func:`folder_files`, refusing a folder that gives none."""
    found = folder_files(folder, extensions, exclude)
    if not found:
        raise InputError(f"{what} '{folder}' holds no {noun} ({', '.join(extensions)}; hidden files skipped)")
    return found


def expand_inputs(inputs: Sequence, extensions: Sequence[str], exclude: Sequence = ()) -> List[Tuple[Path, Path]]:
    """The files named by ``inputs`` with their output-relative paths: a file as given (its name),
    a folder expanded by :func:`folder_files` (paths relative to the folder; nothing in ``exclude``).

    Raises:
        InputError: a path that does not exist, or a folder with no such file.
    """
    files: List[Tuple[Path, Path]] = []
    for path in map(Path, inputs):
        require_exists(path, f"input '{path}'")
        if path.is_dir() and any(Path(e).exists() and os.path.samefile(path, e) for e in exclude):
            raise InputError(f"output folder '{path}' is also an input folder: choose another {setting('output')} "
                             "(a folder inside it is fine)")
        if path.is_dir():
            found = _some_files(path, extensions, exclude, "folder", "files this command reads")
            files += [(p, p.relative_to(path)) for p in found]
        else:
            files.append((path, Path(path.name)))
    return files


def expand_folders(paths: Sequence, extensions: Sequence[str], what: str) -> list:
    """``paths`` with each folder replaced by its files (:func:`folder_files`); anything else
    (files, tensors) kept as given.

    Raises:
        InputError: a folder with no such file.
    """
    expanded: list = []
    for path in as_list(paths):
        if isinstance(path, (str, os.PathLike)) and Path(path).is_dir():
            expanded += _some_files(path, extensions, (), f"{what} folder", "images")
        else:
            expanded.append(path)
    return expanded


def plan_batch(inputs: Sequence, output, extensions: Sequence[str],
               output_extensions: Callable[[Path], Sequence[str]], protected: Sequence = ()) -> List[Pair]:
    """(input, output) pairs for a batch command.

    Args:
        inputs: files and folders (see :func:`expand_inputs`; a folder's tree is mirrored in ``output``).
        output: the output file for one input file, else a folder (created when missing); a path
            ending in a separator (``out/``) is a folder.
        extensions: what a folder contributes.
        output_extensions: the extensions an output may have, given its input.
        protected: other files the command reads (a model, references), never to be overwritten.

    Raises:
        InputError: see :func:`expand_inputs`; two inputs with one output path; several inputs and an
            output that is a file; an output path that cannot be written or is an input.
    """
    folder = str(output).endswith(("/", os.sep))  # "out/": a folder to create, even for one input
    output, inputs = Path(output), as_list(inputs)
    planned = expand_inputs(inputs, extensions, exclude=[output])  # an output folder inside an input folder
    files = [source for source, _ in planned]
    seen: dict = {}
    for source, relative in planned:
        if relative in seen:
            raise InputError(f"two inputs are named '{relative}' ('{seen[relative]}' and '{source}'): outputs keep "
                             "input names, so rename one")
        seen[relative] = source
    if len(files) == 1 and not Path(inputs[0]).is_dir() and not output.is_dir() and not folder:
        pairs = [(files[0], output)]
    else:
        if output.exists() and not output.is_dir():
            raise InputError(f"output '{output}' is a file but there are {len(files)} inputs: pass a folder as "
                             f"{setting('output')}")
        if not output.exists() and output.suffix.lower() in extensions:  # a file name, not a folder to create
            raise InputError(f"output '{output}' looks like a file but there are {len(files)} inputs: pass a folder "
                             f"as {setting('output')} (it is created)")
        for source, _ in planned:
            if not source.is_file():  # a pipe (<(...), /dev/stdin): its name is a descriptor's number
                raise InputError(f"input '{source}' is a pipe, with no name for its output: give an output file "
                                 f"name as {setting('output')}")
        pairs = [(source, output / relative) for source, relative in planned]
    read = InputFiles([*files, *protected])  # once: N outputs checked against N inputs in N lookups
    for src, dst in pairs:
        check_output_path(dst, inputs=read, extensions=output_extensions(src))
    return pairs


def name_failure(path, message: str) -> str:
    """A batch failure's message naming its file (prefixed with it unless it already names it)."""
    return message if str(path) in message else f"'{path}': {message}"
