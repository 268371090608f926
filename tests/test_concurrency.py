"""Two runs that meet (issue 27, kind 2): what a run owns is refused to a second run in one line naming the
process that holds it (exit 1), before any work; once the holder dies, its folder is taken over."""

import signal

import numpy as np
import pytest
from PIL import Image

from tests.clitools import assert_error, assert_ok, invoke
from tests.io.test_locks import hold
from tests.media import flat_gif

pytest.importorskip("fcntl")


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(root / f"{i}.png")
    return root


def train(style_file, photos, output, vgg16_file, *extra):
    return invoke("train", style_file, "--dataset", photos, "-o", output, "--weights", vgg16_file, "--image-size",
                  "32", "--batch-size", "1", "--width", "0.25", "--iterations", "2", "-q", *extra)


@pytest.mark.slow
def test_a_second_train_with_the_same_model_or_checkpoint_folder_is_refused(style_file, photos, vgg16_file, tmp_path):
    output = tmp_path / "m.pth"
    holder = hold(output, folder=False)
    try:
        assert_error(train(style_file, photos, output, vgg16_file), 1,
                     f"model '{output}' is in use by process {holder.pid} (another neural-style run): wait for it "
                     "to end, or choose another model")
        assert not output.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    folder = tmp_path / "m-checkpoints"
    holder = hold(folder, folder=True)
    try:
        assert_error(train(style_file, photos, output, vgg16_file), 1,
                     f"checkpoint folder '{folder}' is in use by process {holder.pid}")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert_ok(train(style_file, photos, output, vgg16_file))  # the dead holder's folder is taken over
    assert output.is_file() and (folder / "last.ckpt").is_file()
    assert not any(p.name.startswith(".") for p in folder.iterdir())  # no lock or temporary left


@pytest.mark.slow
def test_a_second_stylize_with_the_same_output_is_refused(content_file, style_file, vgg16_file, tmp_path):
    output = tmp_path / "o.png"
    holder = hold(output, folder=False)
    try:
        assert_error(invoke("stylize", content_file, style_file, "-o", output, "--weights", vgg16_file, "--size", "32",
                            "--iterations", "1"), 1, f"output '{output}' is in use by process {holder.pid}")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert_ok(invoke("stylize", content_file, style_file, "-o", output, "--weights", vgg16_file, "--size", "32",
                     "--iterations", "1", "-q"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_a_second_clip_run_is_refused_and_leaves_nothing_that_blocks_a_rerun(style_file, vgg16_file, tmp_path):
    pytest.importorskip("av")
    clip = flat_gif(tmp_path / "clip.gif", 2)
    output = tmp_path / "out.gif"
    folder = tmp_path / "out.gif.frames"
    holder = hold(folder, folder=True)
    try:
        assert_error(invoke("stylize", clip, style_file, "-o", output, "--weights", vgg16_file, "--iterations", "1"),
                     1, f"frame folder '{folder}' is in use by process {holder.pid}")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert_ok(invoke("stylize", clip, style_file, "-o", output, "--weights", vgg16_file, "--iterations", "1", "-q"))
    assert output.is_file() and not folder.exists()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["content", "style"])
def test_inputs_from_a_pipe_are_read_once_like_files(content_file, style_file, vgg16_file, tmp_path, role):
    """``<(cat photo.png)`` and ``/dev/stdin``: the content was peeked at (its header, for the disk-space
    check) before being read, so the read found the pipe empty, or hung on a FIFO whose writer was gone
    (issue 27). Every input is now read once, whole, as the style images were."""
    import subprocess
    import sys
    out = tmp_path / "o.png"
    piped = "<(cat {content})" if role == "content" else "{content}"
    style = "<(cat {style})" if role == "style" else "{style}"
    command = (f"{sys.executable} -m neural_style stylize {piped} {style} -o {{out}} --weights {{weights}} --size 32 "
               "--iterations 2 -q").format(content=content_file, style=style_file, out=out, weights=vgg16_file)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    with open(content_file, "rb") as stdin:  # and from stdin
        done = subprocess.run([sys.executable, "-m", "neural_style", "stylize", "/dev/stdin", str(style_file), "-o",
                               str(tmp_path / "s.png"), "--weights", str(vgg16_file), "--size", "32", "--iterations",
                               "2", "-q"], stdin=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_dash_is_standard_input(content_file, style_file, vgg16_file, tmp_path):
    import subprocess
    import sys
    with open(content_file, "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "neural_style", "stylize", "-", str(style_file), "-o",
                               str(tmp_path / "s.png"), "--weights", str(vgg16_file), "--size", "32", "--iterations",
                               "1", "-q"], stdin=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s.png").is_file()
