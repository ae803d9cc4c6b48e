"""The Jinja2 environment: autoescape on for every template, and the small filters pages use.

Why its own module: every value from upstream (labels, titles, tags, URLs) is untrusted
text. Autoescaping is switched on here, once, for all templates (including ``.svg``), so no
page can forget it; there is no ``|safe`` anywhere in the templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import jinja2
from fastapi.templating import Jinja2Templates

from kaokore.query.names import english_value

__all__ = ["make_templates", "safe_href"]

TEMPLATE_DIR = Path(__file__).with_name("templates")


def safe_href(url: str | None) -> str | None:
    """``url`` if it is http(s), else None: upstream URLs never become ``javascript:`` links."""
    if not url:
        return None
    scheme = urlparse(url).scheme.lower()
    return url if scheme in ("http", "https") else None


def _english(value: str | None, key: str) -> str | None:
    return english_value(key, value)


def _host(url: str | None) -> str:
    return urlparse(url).netloc if url else ""


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def make_templates(extra_dirs: Sequence[Path] = ()) -> Jinja2Templates:
    """Templates with autoescape on for every file, strict undefined values, and filters.

    ``extra_dirs`` (an added area's own templates) are searched before the built-in ones.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*extra_dirs, TEMPLATE_DIR]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["href"] = safe_href
    environment.filters["english"] = _english
    environment.filters["host"] = _host
    environment.filters["number"] = _number
    environment.filters["urlquote"] = lambda text: quote(str(text), safe="")
    return Jinja2Templates(env=environment)
