"""A torchrun launch decided from the whole set of variables (issue 27, kind 3b): left-over variables are
one line, not an internal error or a wait without end."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neural_style.errors import InputError
from neural_style.fast.launch import Launch, is_launched, launch_environment

ROOT = Path(__file__).resolve().parents[2]
FULL = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511"}


def test_a_whole_set_is_a_launch_and_none_or_one_is_one_process():
    assert launch_environment(FULL) == Launch(2, 1, 1, "127.0.0.1:29511")
    assert launch_environment({}) is None and launch_environment({"WORLD_SIZE": "1", "MASTER_ADDR": "x"}) is None
    assert is_launched(FULL) and not is_launched({}) and not is_launched({"WORLD_SIZE": "2"})


@pytest.mark.parametrize("environ, message", [
    ({"WORLD_SIZE": "abc"}, "WORLD_SIZE='abc' is not a number of processes: unset WORLD_SIZE"),
    ({"WORLD_SIZE": "2"}, "WORLD_SIZE=2 is set but RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT are not"),
    ({**FULL, "RANK": ""}, "WORLD_SIZE=2 is set but RANK is not"),
    ({**FULL, "RANK": "x"}, "RANK='x' is not a whole number"),
    ({**FULL, "RANK": "2"}, "RANK=2 of WORLD_SIZE=2"),
    ({**FULL, "MASTER_PORT": "70000"}, "MASTER_PORT=70000 is not a launch"),
])
def test_an_incomplete_or_malformed_set_is_one_line(environ, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        launch_environment(environ)


@pytest.mark.slow
def test_train_with_left_over_variables_says_so_and_exits_2(tmp_path, style_file, vgg16_file):
    import numpy as np
    from PIL import Image
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    env = {**os.environ, "WORLD_SIZE": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "neural_style", "train", str(style_file), "--dataset", str(photos),
                           "-o", str(tmp_path / "m.pth"), "--weights", str(vgg16_file), "--image-size", "32",
                           "--iterations", "1", "--width", "0.25"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("error: WORLD_SIZE=2 is set but RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT are not: these "
                           "look left over from another launch: unset WORLD_SIZE, or start training with torchrun\n")


@pytest.mark.slow
def test_peers_that_never_come_end_the_wait_in_one_line(tmp_path):
    """A whole set but no other process: the rendezvous gives up after its time (here 3 s), exit 1."""
    from neural_style.fast import distributed
    code = ("import torch; from neural_style.fast.distributed import process_group\n"
            "with process_group(torch.device('cpu')): pass\n")
    env = {**os.environ, **FULL, "RANK": "0", "LOCAL_RANK": "0", "MASTER_PORT": str(_free_port()),
           "NEURAL_STYLE_RENDEZVOUS_SECONDS": "3", "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and time.monotonic() - started < 60
    assert "NeuralStyleError: the 2 training processes did not meet at 127.0.0.1:" in done.stderr
    assert "within 3 s (this is rank 0): start all of them with torchrun" in done.stderr
    assert distributed.RENDEZVOUS_SECONDS == 120


def _wait_until_listening(port: int, proc, seconds: float = 90) -> None:
    """Until something accepts connections on ``port`` (or ``proc`` ends, or ``seconds`` pass)."""
    import socket
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_ctrl_c_stops_a_run_waiting_for_its_peers_at_once(tmp_path, style_file, vgg16_file):
    """The rendezvous waits in torch's C++ code, which holds off Python's signal handlers: it runs in a
    thread, so Ctrl-C acts at once, not when the wait gives up (a fresh user's finding)."""
    import signal

    import numpy as np
    from PIL import Image
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    port = _free_port()
    env = {**os.environ, **FULL, "RANK": "0", "LOCAL_RANK": "0", "MASTER_PORT": str(port),
           "NEURAL_STYLE_RENDEZVOUS_SECONDS": "100", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "err.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "neural_style", "train", str(style_file), "--dataset",
                                 str(photos), "-o", str(tmp_path / "m.pth"), "--weights", str(vgg16_file), "--size",
                                 "32", "--iterations", "1", "--width", "0.25"], env=env, stderr=err,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal
        _wait_until_listening(port, proc)  # has it: pytest run as a background job ignores SIGINT, and its
        time.sleep(1)                      # children inherit that; then rank 0's store is up, waiting for its peer
        assert proc.poll() is None, log.read_text()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert time.monotonic() - sent < 10, log.read_text()
    assert code == 130 and "Traceback" not in log.read_text(), log.read_text()
