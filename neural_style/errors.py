"""Exceptions raised by neural-style.

Every error a user can cause is a :class:`NeuralStyleError` whose message is one
line naming the problem and what to do about it. The command line prints that
line and exits with :attr:`NeuralStyleError.exit_code` (2 for usage errors, 1
for runtime errors); Python callers catch the classes below.
"""


class NeuralStyleError(Exception):
    """Base class of the errors neural-style reports to its users."""

    exit_code = 1


class InputError(NeuralStyleError, ValueError):
    """Bad input: a missing, unreadable or unsupported file, or an invalid option value."""

    exit_code = 2


class WeightsError(InputError):
    """A weights file that is missing, corrupt or does not match the requested network."""


class DownloadError(NeuralStyleError):
    """Weights that are not cached and could not be downloaded."""


class ResourceError(InputError):
    """A requested size that would not fit in the memory of the chosen device (a usage error)."""


def format_bytes(count: float) -> str:
    """A size for a message: ``"1.7 GiB"``, or MiB below 1 GiB (never ``"0.0 GiB"``)."""
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"
