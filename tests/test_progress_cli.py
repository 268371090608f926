"""Progress a user can read anywhere (issue 27, kind 4): off a terminal, plain lines every --log-every N
(or about every 10 s); none under --quiet; a clip's speed and ETA per frame and for the clip."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from tests.clitools import assert_ok, invoke
from tests.media import flat_gif


def test_log_lines_every_n_iterations_off_a_terminal(content_file, style_file, vgg16_file, tmp_path):
    args = ["stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file, "--size", "32",
            "--iterations", "4", "--scales", "none", "--log-every", "2"]
    result = invoke(*args)
    assert_ok(result)
    lines = result.stderr.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["2/4", "4/4"] and lines[-1].startswith("wrote ")
    assert re.fullmatch(r"2/4 content \S+ style \S+ tv \S+ total \S+  \d+\.\d\d it/s  ETA \d+:\d\d", lines[0])
    quiet = invoke(*args, "-q")
    assert_ok(quiet)
    assert quiet.stderr == ""


@pytest.mark.slow
def test_a_clip_counts_each_frame_from_its_start_and_the_clip_by_frames(style_file, vgg16_file, tmp_path):
    pytest.importorskip("av")
    clip = flat_gif(tmp_path / "clip.gif", 3)
    result = invoke("stylize", clip, style_file, "-o", tmp_path / "out.gif", "--weights", vgg16_file, "--iterations",
                    "2", "--log-every", "2")
    assert_ok(result)
    lines = [line for line in result.stderr.splitlines() if line.startswith("frame ")]
    assert [line.split(" ")[1].rstrip(":") for line in lines] == ["1/3", "2/3", "3/3"]
    assert re.match(r"frame 1/3: 2/2 ", lines[0])  # the first frame: no clip figures yet
    assert re.match(r"frame 3/3 \(\d+\.\d\d frames/s, clip ETA \d+:\d\d\): 2/2 ", lines[2])


def test_denoise_quiet_prints_no_mean_psnr(tmp_path):
    rng = np.random.default_rng(0)
    clean = np.full((24, 32), 120, np.uint8)
    noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    Image.fromarray(clean).save(tmp_path / "clean.png")
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    result = invoke("denoise", tmp_path / "noisy.png", "-o", tmp_path / "o.png", "--reference", tmp_path / "clean.png",
                    "-q")
    assert_ok(result)
    assert result.stdout == "" and result.stderr == ""
    loud = invoke("denoise", tmp_path / "noisy.png", "-o", tmp_path / "p.png", "--reference", tmp_path / "clean.png")
    assert "mean PSNR" in loud.stdout


def test_a_tile_size_that_is_not_a_multiple_of_the_stride_is_said(content_file, style_file, vgg16_file, tmp_path):
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file, "--size",
                    "48", "--iterations", "1", "--tile-size", "20", "-q")
    assert_ok(result)
    assert re.search(r"warning: --tile-size 20 is used as (\d+): tile cores are whole multiples of the deepest "
                     r"layer's stride \((\d+) px\)", result.stderr), result.stderr


def test_denoise_logs_the_iterations_of_the_file_in_progress(tmp_path):
    rng = np.random.default_rng(1)
    noisy = np.clip(120 + rng.normal(0, 20, (32, 40)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    result = invoke("denoise", tmp_path / "noisy.png", "-o", tmp_path / "o.png", "--tv-weight", "0.1",
                    "--optimizer", "lbfgs", "--iterations", "40", "--tolerance", "0", "--log-every", "10")
    assert_ok(result)
    lines = [line for line in result.stderr.splitlines() if line.startswith("file 1/1, solve 1: ")]
    assert [line.split()[4] for line in lines][:2] == ["10/40", "20/40"], result.stderr


def test_restore_logs_each_solve_of_a_search_and_the_change_it_stops_on(tmp_path):
    rng = np.random.default_rng(2)
    for name in ("a.png", "b.png"):
        image = np.clip(120 + 40 * np.sin(np.arange(40) / 4)[None, :] + rng.normal(0, 8, (32, 40)), 0, 255)
        Image.fromarray(image.astype(np.uint8)).save(tmp_path / name)
    result = invoke("restore", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "out", "--blur",
                    "gaussian:1", "--regularizer", "tv", "--log-every", "10")
    assert_ok(result)
    labels = [line.split(": ")[0] for line in result.stderr.splitlines() if line.startswith("file ")]
    for index in (1, 2):  # each file counts its solves (the lambda search's) from 1
        mine = [label for label in labels if label.startswith(f"file {index}/2")]
        assert mine[0] == f"file {index}/2, solve 1" and f"file {index}/2, solve 2" in mine, labels
    assert all(re.search(r"^file \d/2, solve \d+: \d+/\d+ change \S+  \S+ it/s  ETA (<= \d+:\d\d|-:--)$", line)
               for line in result.stderr.splitlines() if line.startswith("file ")), result.stderr


def test_restore_counts_every_solve_in_its_line_and_report(tmp_path):
    rng = np.random.default_rng(3)
    image = np.clip(120 + 40 * np.sin(np.arange(40) / 4)[None, :] + rng.normal(0, 8, (32, 40)), 0, 255)
    Image.fromarray(image.astype(np.uint8)).save(tmp_path / "a.png")
    report = tmp_path / "r.json"
    result = invoke("restore", tmp_path / "a.png", "-o", tmp_path / "o.png", "--blur", "gaussian:1",
                    "--regularizer", "tv", "--report", report, "--log-every", "10")
    assert_ok(result)
    record = json.loads(report.read_text())["images"][0]
    solves = [line for line in result.stderr.splitlines() if line.startswith("file 1/1, solve ")]
    assert record["solves"] == len({line.split(":")[0] for line in solves}) == len(record["lambda_evaluations"]) + 1
    assert record["iterations_total"] > record["iterations"]
    assert (f"{record['iterations']} iterations ({record['iterations_total']} in all {record['solves']} solves)"
            in result.stderr), result.stderr


def test_restore_numbers_a_solve_that_converges_at_its_first_test_too(tmp_path):
    """NLTV's guide ends its search with a solve warm-started at the chosen lambda, which stops at its first test
    (10 iterations): one that followed a 10-iteration solve was taken for its continuation, so the numbers on
    the lines fell behind the count of solves."""
    rng = np.random.default_rng(3)
    image = np.clip(120 + 40 * np.sin(np.arange(40) / 4)[None, :] + rng.normal(0, 8, (32, 40)), 0, 255)
    Image.fromarray(image.astype(np.uint8)).save(tmp_path / "a.png")
    report = tmp_path / "r.json"
    result = invoke("restore", tmp_path / "a.png", "-o", tmp_path / "o.png", "--blur", "gaussian:1", "--report",
                    report, "--log-every", "1")
    assert_ok(result)
    record = json.loads(report.read_text())["images"][0]
    labels = [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("file 1/1, solve ")]
    numbers = [int(label.split()[-1]) for label in dict.fromkeys(labels)]
    assert numbers == list(range(1, record["solves"] + 1)), (numbers, record["solves"])
