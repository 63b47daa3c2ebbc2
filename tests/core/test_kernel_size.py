"""Task: T-459
Spec: specs/features/plugins.md §The kernel

The kernel stays within issue 17's target: at most 2,500 lines of code in `app/core`, counted as
the issue counted them (no blank lines, comments or docstrings).
"""

import ast
import io
import tokenize
from pathlib import Path

import app.core

KERNEL = Path(app.core.__file__).parent
TARGET = 2500
_LAYOUT = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}


def lines_of_code(source: str) -> int:
    """Lines holding a token other than a comment or a docstring."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and _is_text(first.value):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _LAYOUT and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_counting_skips_blank_lines_comments_and_docstrings():
    source = '"""Module."""\n\n# why\ndef f(x):\n    """Doc,\n    two lines."""\n    return (\n        x  # a\n    )\n'
    assert lines_of_code(source) == 4


def test_the_kernel_is_at_most_2500_lines_of_code():
    total = sum(lines_of_code(path.read_text()) for path in KERNEL.rglob("*.py"))
    assert total <= TARGET, f"app/core is {total} lines of code, over the kernel's {TARGET}"
