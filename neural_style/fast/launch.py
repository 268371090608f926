"""Whether this process was started by ``torchrun``, decided from the whole set of variables it sets.

``torchrun`` (and torch's other launchers) give each process ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``. Deciding from ``WORLD_SIZE`` alone took variables left over from a
cluster job or a torchrun shell for a launch: ``WORLD_SIZE=2`` without ``RANK`` was an internal error,
``WORLD_SIZE=abc`` too, and with ``MASTER_ADDR`` set a run waited for peers that never came. Here a world
of one (or no such variable) is one process; a world of more needs the whole set, well formed, else one
line says what is missing. No torch import: the command line asks this before anything is loaded.
"""

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from ..errors import InputError

#: What every launched process must have, besides ``WORLD_SIZE``.
REQUIRED = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Launch:
    """One process of a launched group: its rank among ``world_size`` processes, its rank on this machine,
    and where the group meets (``MASTER_ADDR:MASTER_PORT``)."""

    world_size: int
    rank: int
    local_rank: int
    master: str


def launch_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[Launch]:
    """The :class:`Launch` of this process, or None for a single process (no ``WORLD_SIZE``, or 1).

    Raises:
        InputError: a malformed ``WORLD_SIZE``, or a world of more than one process without the rest of
            the set (``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) or with a malformed one:
            one line naming them, and what to do.
    """
    env = os.environ if environ is None else environ
    text = env.get("WORLD_SIZE", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"WORLD_SIZE={text!r} is not a number of processes: unset WORLD_SIZE (left over from "
                         "another launch?), or start training with torchrun")
    world_size = int(text)
    if world_size == 1:
        return None
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise InputError(f"WORLD_SIZE={world_size} is set but {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not: these look left over from another launch: "
                         "unset WORLD_SIZE, or start training with torchrun")
    numbers = {}
    for name in ("RANK", "LOCAL_RANK", "MASTER_PORT"):
        value = env[name].strip()
        if not value.isdigit():
            raise InputError(f"{name}={value!r} is not a whole number: start training with torchrun, or unset "
                             "WORLD_SIZE")
        numbers[name] = int(value)
    if numbers["RANK"] >= world_size or not 0 < numbers["MASTER_PORT"] < 65536:
        raise InputError(f"RANK={numbers['RANK']} of WORLD_SIZE={world_size} with MASTER_PORT="
                         f"{numbers['MASTER_PORT']} is not a launch: start training with torchrun, or unset WORLD_SIZE")
    return Launch(world_size, numbers["RANK"], numbers["LOCAL_RANK"],
                  f"{env['MASTER_ADDR'].strip()}:{numbers['MASTER_PORT']}")


def is_launched(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this is one process of a well-formed launch of several (a malformed set: False; the command
    that would use it says why)."""
    try:
        return launch_environment(environ) is not None
    except InputError:
        return False
