"""Free disk space, checked before long work so that a full disk is found at the start, not at the end.

The commands that write after minutes or hours of work (``stylize``'s image, ``train``'s
checkpoints and model) estimate what they will write, from above, and refuse to start when
the file system holding the output has less free space than that. A full disk later (another
program filling it) is still a one-line error at write time.
"""

import os
import shutil
from pathlib import Path
from typing import Union

from ..errors import InputError, format_bytes

#: Bytes per pixel of an uncompressed RGBA image at 16 bits per sample: an upper bound for what
#: an image file of that size takes (PNG of noise is a little larger than raw: hence the margin).
IMAGE_FILE_BYTES_PER_PIXEL = 4 * 2 * 1.1


def nearest_existing(path: Union[str, os.PathLike]) -> Path:
    """``path`` (made absolute) or its nearest ancestor that exists, as a file or a folder."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def free_bytes(path: Union[str, os.PathLike]) -> int:
    """Free bytes (for an unprivileged user) on the file system that holds ``path`` or would hold it."""
    return shutil.disk_usage(nearest_existing(path)).free


def same_disk(first: Union[str, os.PathLike], second: Union[str, os.PathLike]) -> bool:
    """Whether ``first`` and ``second`` are (or would be) on the same file system."""
    return os.stat(nearest_existing(first)).st_dev == os.stat(nearest_existing(second)).st_dev


def require_space(path: Union[str, os.PathLike], need: int, what: str, smaller: str = "") -> None:
    """Refuse (InputError) to start a run whose files (``what``, about ``need`` bytes) cannot fit on the
    file system of ``path``.

    Args:
        smaller: the option that makes the files smaller (``"--size"``), named in the advice.

    Raises:
        InputError: "not enough disk space for <what>: about N MB needed, M MB free in 'FOLDER': ...".
    """
    usage = shutil.disk_usage(nearest_existing(path))
    if need <= usage.free:
        return
    folder = nearest_existing(Path(path).absolute().parent)
    advice = "choose another folder" if need > usage.total else "free some space or choose another folder"
    if smaller:
        advice = f"use a smaller {smaller}, {advice}"
    whole = f" (the whole disk holds {format_bytes(usage.total)})" if need > usage.total else ""
    raise InputError(f"not enough disk space for {what}: about {format_bytes(need)} needed, {format_bytes(usage.free)} "
                     f"free in '{folder}'{whole}: {advice}")


def image_file_bytes(height: int, width: int) -> int:
    """An upper bound on the size of an image file of ``height`` x ``width`` pixels, in bytes."""
    return int(height * width * IMAGE_FILE_BYTES_PER_PIXEL) + 65536  # headers, ICC profile, EXIF
