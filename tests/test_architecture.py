"""Rules of the package's layout (docs/architecture.md) that import-linter cannot state: function and
module length, and what the command line may do. Which package imports which, and the absence of
import cycles, are import-linter's contracts (pyproject.toml; `lint-imports` runs in CI)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neural_style"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400
MAX_CLI_MODULE_LINES = 250


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _code_lines(lines, node) -> int:
    """Lines of a function, not counting its docstring, blank lines and comment lines."""
    body = node.body
    doc = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for i in range(node.lineno, node.end_lineno + 1)
               if i not in doc and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#"))


def test_the_counter_counts_code_only():
    source = 'def f():\n    """Doc\n    string."""\n    # comment\n\n    a = 1\n    return a\n'
    [node] = ast.parse(source).body
    assert _code_lines(source.splitlines(), node) == 3  # def, a = 1, return


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_longer_than_80_lines(path):
    source = path.read_text()
    lines = source.splitlines()
    long = [f"{node.name} ({_code_lines(lines, node)} lines)" for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _code_lines(lines, node) > MAX_FUNCTION_LINES]
    assert long == []


def _imported_names(path: Path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "cli").glob("*.py")), ids=lambda p: p.name)
def test_the_cli_writes_no_files_builds_no_reports_and_runs_no_distributed_code(path):
    names = _imported_names(path)
    forbidden = ("write_image", "atomic_write", "write_report", "write_animation", "save_model", "save_checkpoint",
                 "torch", "distributed")
    assert [n for n in names if any(f in n.split(".") for f in forbidden)] == []
    text = path.read_text()
    for call in ("open(", ".write_bytes(", ".write_text(", "torch.save", "init_process_group", "json.dump"):
        assert call not in text, call


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_400_lines_and_no_command_module_than_250(path):
    limit = MAX_CLI_MODULE_LINES if path.parent.name == "cli" else MAX_MODULE_LINES
    assert len(path.read_text().splitlines()) <= limit
