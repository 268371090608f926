"""The ``restore`` command as a Python function: inputs to outputs under denoise's file rules.

A restore batch is a denoise batch (:func:`~.runner.denoise_files`: mode, bit depth, alpha, ICC and EXIF
kept, atomic writes, inputs never overwritten, one line per bad file, worker processes) whose settings are
a :class:`~neural_style.settings.RestoreSettings`; here the degradation's own files (a kernel, a mask)
are checked before any work, and never overwritten either.
"""

from pathlib import Path
from typing import Optional, Sequence

from ..core.files import require_exists
from ..errors import InputError, setting
from ..io.decode import read_image
from ..io.outputs import check_output_path
from ..rules import validate
from ..settings import RestoreSettings, with_overrides
from .files import Pair
from .report import DenoiseBatch
from .restore_api import parse_color, read_kernel
from .runner import denoise_files


def restore_files(pairs: Sequence[Pair], settings: Optional[RestoreSettings] = None, **options) -> DenoiseBatch:
    """Restore each input into its output (see :func:`~.runner.denoise_files` for the keyword arguments:
    reference (clean images of the output's size), report, on_file, on_failure, callback, warn, jobs).

    Raises:
        InputError: bad settings, a bad kernel or mask colour, a missing or unreadable mask, both a mask and
            a mask colour, or an output that is the kernel or the mask; before any file is processed.
    """
    names = set(RestoreSettings.__dataclass_fields__)
    s = with_overrides(settings, RestoreSettings, {k: v for k, v in options.items() if k in names})
    rest = {k: v for k, v in options.items() if k not in names}
    validate(s)
    read_kernel(s.blur)
    if s.mask is not None and s.mask_color is not None:
        raise InputError(f"both {setting('mask')} and {setting('mask_color')} were given: pass one")
    if s.mask_color is not None:
        parse_color(s.mask_color)
    if s.mask is not None:
        mask = Path(s.mask)
        require_exists(mask, f"mask '{mask}'", "pass a mask image: white marks known pixels, black those to fill")
        read_image(mask, what="mask image")  # readable, before any work (its size is checked per image)
    owned = [Path(p) for p in (s.mask, s.blur) if p is not None and Path(str(p)).exists()]
    for _, out in pairs:
        check_output_path(out, inputs=owned)
    return denoise_files(pairs, s, **rest)

