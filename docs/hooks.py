"""MkDocs hook: the docstrings' reStructuredText roles read as plain code on the API page.

The package's docstrings are Google style with Sphinx roles inside (``:func:`run_stylize```,
``:class:`~neural_style.settings.StylizeSettings```, ``:math:`(B, C, H, W)```); mkdocstrings renders
them as ``:func:<code>run_stylize</code>``. This drops the role, and a ``~`` keeps the last name only,
as Sphinx shows it. Runs locally at build time; fetches nothing.
"""

import re

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|math|const):<code>(~?)([^<]*)</code>")


def _plain(match: "re.Match") -> str:
    short, target = match.group(1), match.group(2)
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return _ROLE.sub(_plain, html)
