"""One input planner for every command that takes several images: files and folders alike.

``denoise`` and ``transfer`` take files and folders the same way: a folder gives the files in it
(not in its subfolders) whose extension the command reads, sorted by name; outputs keep the
input names, so two inputs with one name are refused (one would overwrite the other); one input
file may go to an output file, anything else goes into an output folder. Every output path is
checked before any work (see :func:`~neural_style.io.images.check_output_path`).
"""

from pathlib import Path
from typing import Callable, List, Sequence, Tuple

from ..errors import InputError
from .images import check_output_path

Pair = Tuple[Path, Path]


def expand_inputs(inputs: Sequence, extensions: Sequence[str]) -> List[Path]:
    """The files named by ``inputs``: files as given, folders expanded to their files with one of
    ``extensions`` (lower case, matched case-insensitively), sorted by name.

    Raises:
        InputError: a path that does not exist, or a folder with no such file.
    """
    files: List[Path] = []
    for path in map(Path, inputs):
        if not path.exists():
            raise InputError(f"input '{path}' does not exist: check the path")
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in extensions)
            if not found:
                raise InputError(f"folder '{path}' holds no files this command reads ({', '.join(extensions)})")
            files += found
        else:
            files.append(path)
    return files


def plan_batch(inputs: Sequence, output, extensions: Sequence[str],
               output_extensions: Callable[[Path], Sequence[str]], protected: Sequence = ()) -> List[Pair]:
    """(input, output) pairs for a batch command.

    Args:
        inputs: files and folders (see :func:`expand_inputs`).
        output: the output file for one input file, else a folder (created when missing).
        extensions: what a folder contributes.
        output_extensions: the extensions an output may have, given its input.
        protected: other files the command reads (a model, references), never to be overwritten.

    Raises:
        InputError: see :func:`expand_inputs`; two inputs with one name; several inputs and an
            output that is a file; an output path that cannot be written or is an input.
    """
    output = Path(output)
    files = expand_inputs(inputs, extensions)
    names = [p.name for p in files]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise InputError(f"two inputs are named '{duplicate}': outputs keep input names, so rename one")
    if len(files) == 1 and not Path(inputs[0]).is_dir() and not output.is_dir():
        pairs = [(files[0], output)]
    else:
        if output.exists() and not output.is_dir():
            raise InputError(f"output '{output}' is a file but there are {len(files)} inputs: pass a folder as -o")
        if not output.exists() and output.suffix.lower() in extensions:  # a file name, not a folder to create
            raise InputError(f"output '{output}' looks like a file but there are {len(files)} inputs: pass a folder "
                             "as -o (it is created)")
        pairs = [(f, output / f.name) for f in files]
    for src, dst in pairs:
        check_output_path(dst, inputs=[*files, *protected], extensions=output_extensions(src))
    return pairs


def name_failure(path, message: str) -> str:
    """A batch failure's message naming its file (prefixed with it unless it already names it)."""
    return message if str(path) in message else f"'{path}': {message}"
