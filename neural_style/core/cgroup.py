"""The memory a process may still use under a cgroup limit (Docker ``--memory``, Kubernetes limits).

Inside a container ``/proc/meminfo`` shows the host's memory: a check that reads it passes work that the
container's limit then ends with the OOM killer (exit 137, no message). The limit is the cgroup's:
``memory.max`` (cgroup v2) or ``memory.limit_in_bytes`` (v1) of the process's cgroup and each cgroup above
it; what is in use is ``memory.current`` (v2) or ``memory.usage_in_bytes`` (v1), less the inactive file
cache the kernel reclaims before it kills (``inactive_file``, v1 ``total_inactive_file``, in
``memory.stat``): the way ``docker stats`` counts a container's usage.
"""

from pathlib import Path
from typing import Dict, List, Optional, Tuple

#: A v1 "limit" at or above this is no limit (the kernel writes a page-rounded 2^63 - 1).
V1_UNLIMITED = 1 << 60

#: (the controller's folder under the cgroup root, limit file, usage file, reclaimable stat) per version.
_FILES = {2: ("", "memory.max", "memory.current", "inactive_file"),
          1: ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")}


def cgroup_available(proc_cgroup="/proc/self/cgroup", root="/sys/fs/cgroup") -> Optional[int]:
    """Bytes this process's memory cgroups still allow (the tightest of its cgroup and those above it:
    limit - (usage - inactive file cache)), or None where no memory limit applies or none can be read.

    Args:
        proc_cgroup: the process's cgroup membership (``/proc/self/cgroup``).
        root: where the cgroup file systems are mounted (``/sys/fs/cgroup``).
    """
    left: Optional[int] = None
    for version, path in _memberships(Path(proc_cgroup)):
        sub, limit_file, usage_file, reclaimable = _FILES[version]
        base = Path(root) / sub if sub else Path(root)
        parts = [p for p in path.strip("/").split("/") if p]
        for depth in range(len(parts), -1, -1):  # the cgroup, then each above it (a container sees "/")
            folder = base.joinpath(*parts[:depth])
            limit = _read_int(folder / limit_file)
            if limit is None or (version == 1 and limit >= V1_UNLIMITED):
                continue
            usage = _read_int(folder / usage_file) or 0
            usage -= _stat(folder / "memory.stat").get(reclaimable, 0)
            room = max(limit - max(usage, 0), 0)
            left = room if left is None else min(left, room)
    return left


def _memberships(proc_cgroup: Path) -> List[Tuple[int, str]]:
    """(version, path) of the process's memory cgroups: ``0::/path`` (v2), ``N:...memory...:/path`` (v1)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        hierarchy, controllers, path = fields
        if hierarchy == "0" and controllers == "":
            found.append((2, path))
        elif "memory" in controllers.split(","):
            found.append((1, path))
    return found


def _read_int(path: Path) -> Optional[int]:
    """The number in a cgroup file; None for "max", a missing or unreadable file."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _stat(path: Path) -> Dict[str, int]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    stats = {}
    for line in lines:
        name, _, value = line.partition(" ")
        if value.strip().isdigit():
            stats[name] = int(value)
    return stats
