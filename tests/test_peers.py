"""Users of the peer tools type their flags (issue 27, kind 5): one line with ours, exit 2; jcjohnson's
comma-separated style list; one name for one thing (train --size, --image-size kept)."""

from pathlib import Path

import pytest

from neural_style.cli import cli
from neural_style.cli.peers import PEER_FLAGS, peer_flag, split_style_list
from tests.clitools import assert_error, invoke

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


@pytest.mark.parametrize("args, line", [
    (["stylize", "c.png", "s.png", "-o", "o.png", "-image_size", "256"],
     "neural-style stylize: error: -image_size is --size here (a flag of jcjohnson/neural-style and neural-style-pt; "
     "see 'neural-style stylize --help')"),
    (["stylize", "-content_image", "c.png"], "neural-style stylize: error: -content_image is the CONTENT argument"),
    (["stylize", "c.png", "s.png", "--gpu", "0"], "neural-style stylize: error: --gpu is --device cuda here"),
    (["train", "s.png", "--style-image=s.png"], "neural-style train: error: --style-image is the STYLE argument"),
    (["transfer", "m.pth", "--content-image", "c.png"], "error: --content-image is the CONTENT or INPUT argument"),
])
def test_a_peers_flag_is_one_line_with_ours(args, line):
    result = invoke(*args)
    assert_error(result, 2, line, prefix="neural-style ")


def test_our_own_flags_and_what_follows_two_dashes_are_left_to_click():
    ours = {o for p in cli.commands["train"].params for o in p.opts}
    assert peer_flag(["--image-size", "256", "--cuda"], ours)[0] == "--cuda"
    assert peer_flag(["--", "-image_size"], ours) is None
    assert "--image-size" not in PEER_FLAGS  # train's own (pytorch/examples' name too)


def test_a_comma_separated_style_list_where_no_file_has_that_name(tmp_path):
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.touch()
    b.touch()
    odd = tmp_path / "x,y.jpg"
    odd.touch()
    exists = lambda p: Path(p).exists()  # noqa: E731
    assert split_style_list([f"{a},{b}"], exists) == [str(a), str(b)]
    assert split_style_list([str(odd)], exists) == [str(odd)]  # a file of that name wins
    assert split_style_list([f"{a},{tmp_path / 'missing.jpg'}"], exists) == [f"{a},{tmp_path / 'missing.jpg'}"]


def test_every_peer_flag_is_in_the_docs_table():
    text = DOCS.read_text()
    assert [flag for flag in PEER_FLAGS if f"| `{flag}` |" not in text] == []


def test_train_takes_size_as_stylize_and_transfer_do_and_keeps_image_size():
    params = {p.name: p for p in cli.commands["train"].params}
    assert params["image_size"].opts == ["--size", "--image-size"]


def test_a_missing_input_is_said_before_torch_is_imported(tmp_path):
    """A typo in a path: one line at once, not after the seconds torch takes to import (issue 27)."""
    import subprocess
    import sys
    code = ("import sys\nfrom neural_style.cli import main\ntry:\n    main(['stylize', 'nothere.png', 's.png', '-o', "
            "'o.png'])\nexcept SystemExit as exc:\n    print(exc.code, 'torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(DOCS.parents[1])})
    assert done.stdout.strip() == "2 False", (done.stdout, done.stderr)
    assert done.stderr == "error: content image 'nothere.png' does not exist: check the path\n"
