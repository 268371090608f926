"""Ownership of what a run writes (issue 27, kind 2): a lock held for the run's life, refused in one line
naming its holder, taken over when the holder dies; the temporaries of dead runs removed."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from neural_style.errors import NeuralStyleError
from neural_style.io import atomic
from neural_style.io.locks import FOLDER_LOCK, lock_path, owned

pytest.importorskip("fcntl")

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from neural_style.io.locks import owned
    from neural_style.io import atomic
    with owned(Path(sys.argv[1]), "output", folder=sys.argv[2] == "folder"):
        if sys.argv[3] == "temporary":
            atomic._create_temporary(Path(sys.argv[1]) / "model.pth" if sys.argv[2] == "folder" else Path(sys.argv[1]))
        print("held", flush=True)
        time.sleep(60)
""")


def hold(path, folder: bool, temporary: bool = False) -> subprocess.Popen:
    """A process holding ``path`` until killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "folder" if folder else "file",
                                "temporary" if temporary else "-"], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


@pytest.mark.parametrize("folder", [False, True])
def test_a_second_run_is_refused_naming_the_holder_and_a_dead_holders_lock_is_taken_over(tmp_path, folder):
    path = tmp_path / ("frames" if folder else "model.pth")
    holder = hold(path, folder)
    try:
        with pytest.raises(NeuralStyleError) as caught:
            with owned(path, "output", folder=folder):
                pass
        assert str(caught.value) == (f"output '{path}' is in use by process {holder.pid} (another neural-style run): "
                                     "wait for it to end, or choose another output")
        assert caught.value.exit_code == 1
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock_path(path, folder).exists()  # left by the killed run: it holds nothing now
    with owned(path, "output", folder=folder):
        assert lock_path(path, folder).read_text() == f"{os.getpid()}\n"
    assert not lock_path(path, folder).exists()
    assert lock_path(tmp_path / "f", True).name == FOLDER_LOCK


def test_the_temporaries_of_a_killed_run_are_removed_and_a_live_runs_kept(tmp_path):
    folder = tmp_path / "checkpoints"
    holder = hold(folder, True, temporary=True)
    (dead,) = [p for p in folder.iterdir() if atomic.TEMPORARY.match(p.name)]
    live, descriptor = atomic._create_temporary(tmp_path / "other.png")  # being written, in this process
    other = tmp_path / ".notes.txt.12345678.txt"  # hidden, but not ours
    other.write_text("keep")
    try:
        assert atomic.remove_dead_temporaries(folder) == []  # its writer is alive
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with owned(folder, "checkpoint folder", folder=True):  # the next run cleans up
        assert not dead.exists()
    assert atomic.remove_dead_temporaries(tmp_path) == [] and live.exists() and other.exists()
    os.close(descriptor)
    assert atomic.remove_dead_temporaries(tmp_path) == [live]


def test_a_file_system_without_locks_runs_unlocked(tmp_path, monkeypatch):
    """Some network and FUSE mounts refuse flock (ENOLCK, EOPNOTSUPP): the run goes on without a lock."""
    import errno
    import fcntl

    from neural_style.io.atomic import atomic_write

    def refuse(*args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refuse)
    out = tmp_path / "sub" / "o.txt"
    with owned(out, "output"):
        atomic_write(out, lambda temporary: temporary.write_text("x"))
    assert out.read_text() == "x" and sorted(p.name for p in out.parent.iterdir()) == ["o.txt"]


def test_a_folder_where_no_file_can_be_made_is_named():
    """/proc takes no new file, even from root (ENOENT on every try): one line naming the folder, not a lock
    file that "keeps changing"."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    with pytest.raises(NeuralStyleError, match=r"cannot write output '/proc/out.png': no file can be made in "
                                               r"folder '/proc' \(it takes no new file\): choose another folder"):
        with owned("/proc/out.png", "output"):
            pass


def test_a_lock_file_refused_by_the_system_names_the_folder(tmp_path, monkeypatch):
    """No permission (a user's folder, not root's), a read-only file system: the folder and the reason, with
    the system's error as the cause."""
    import errno

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(NeuralStyleError, match="no file can be made in folder .+ \\(Read-only file system\\)") as info:
        with owned(tmp_path / "o.png", "output"):
            pass
    assert isinstance(info.value.__cause__, OSError)
