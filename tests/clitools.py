"""Helpers for driving the command line through click's CliRunner."""

import hashlib
from pathlib import Path

from click.testing import CliRunner

from neural_style.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="neural-style")


def no_crash(result):
    """No uncaught exception (the installed command would print a traceback)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def assert_ok(result):
    assert result.exit_code == 0, result.output
    no_crash(result)


def assert_error(result, code, *fragments, prefix="error: "):
    """Exit ``code``, nothing on stdout and one line on stderr starting with ``prefix``."""
    assert result.exit_code == code, result.output
    no_crash(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    assert lines[0].startswith(prefix), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
