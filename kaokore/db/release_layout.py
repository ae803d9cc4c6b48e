"""The layout of an imported official version, as ``Release.options_json`` stores it.

Why a typed record: the importer (:mod:`kaokore.ingest.official`) writes what the schema has
no column for, so that the compiler (:mod:`kaokore.compiler.official`) can rebuild the
published files byte for byte. Both now speak this one record instead of agreeing on dict
keys, and the rule that rebuilds a URL (:meth:`UrlRules.url`) is written once for both. The
JSON form is unchanged from revision 0002, so releases imported before read back as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kaokore.errors import DatabaseError
from kaokore.release.layout import LABELS_HEADER

__all__ = ["OfficialLayoutOptions", "TagRules", "UrlRules", "split_origin"]


def split_origin(url: str) -> tuple[str, str]:
    """``https://host/a/b`` -> (``https://host``, ``/a/b``)."""
    scheme, _sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}", slash + path


@dataclass(frozen=True, kw_only=True)
class UrlRules:
    """How the version wrote ``urls.txt``: the most common choices, and the exceptions.

    ``origins`` maps a stored service origin to the one this version used, ``size`` is the
    most common size and ``sizes`` the size per origin where it differs, ``tail`` the
    rotation/quality/format, ``count`` the lines of the file, and ``lines`` the full text
    of every line the rules would not rebuild (by file name).
    """

    count: int | None = None
    origins: dict[str, str] = field(default_factory=dict)
    size: str = "256,256"
    sizes: dict[str, str] = field(default_factory=dict)
    tail: str = "0/default.jpg"
    lines: dict[str, str] = field(default_factory=dict)

    def url(self, base_url: str, region: str) -> str:
        """The line for a face of the service ``base_url`` and square ``region`` (x,y,w,h)."""
        stored_origin, path = split_origin(base_url)
        origin = self.origins.get(stored_origin, stored_origin)
        size = self.sizes.get(origin, self.size)
        return f"{origin}{path}/{region}/{size}/{self.tail}"


@dataclass(frozen=True, kw_only=True)
class TagRules:
    """``original_tags.txt`` lines not rebuilt from the annotations, and lines it lacks."""

    lines: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OfficialLayoutOptions:
    """Everything the compiler needs beyond the rows to rebuild an official version."""

    folder: str | None = None
    document_url: str | None = None
    labels_header: str = LABELS_HEADER
    urls: UrlRules = field(default_factory=UrlRules)
    tags: TagRules = field(default_factory=TagRules)

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in ``Release.options_json``."""
        return {
            "folder": self.folder,
            "document_url": self.document_url,
            "labels_header": self.labels_header,
            "urls": {
                "origins": dict(self.urls.origins),
                "size": self.urls.size,
                "sizes": dict(self.urls.sizes),
                "tail": self.urls.tail,
                "count": self.urls.count,
                "lines": dict(self.urls.lines),
            },
            "tags": {"lines": dict(self.tags.lines), "missing": list(self.tags.missing)},
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any] | None, *, release: str = ""
    ) -> OfficialLayoutOptions:
        """Read the stored JSON; absent keys take their defaults, wrong types are an error."""
        data = data or {}
        urls = _mapping(data.get("urls"), "urls", release)
        tags = _mapping(data.get("tags"), "tags", release)
        return cls(
            folder=_optional_text(data.get("folder"), "folder", release),
            document_url=_optional_text(data.get("document_url"), "document_url", release),
            labels_header=str(data.get("labels_header") or LABELS_HEADER),
            urls=UrlRules(
                count=_optional_int(urls.get("count"), "urls.count", release),
                origins=_texts(urls.get("origins"), "urls.origins", release),
                size=str(urls.get("size") or "256,256"),
                sizes=_texts(urls.get("sizes"), "urls.sizes", release),
                tail=str(urls.get("tail") or "0/default.jpg"),
                lines=_texts(urls.get("lines"), "urls.lines", release),
            ),
            tags=TagRules(
                lines=_texts(tags.get("lines"), "tags.lines", release),
                missing=tuple(str(name) for name in tags.get("missing") or ()),
            ),
        )


def _bad(release: str, name: str, value: Any) -> DatabaseError:
    return DatabaseError(
        f"Release {release or '?'}: options_json field {name} is {type(value).__name__}, "
        "not what an official import writes"
    )


def _mapping(value: Any, name: str, release: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad(release, name, value)
    return value


def _texts(value: Any, name: str, release: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(value, name, release).items()}


def _optional_text(value: Any, name: str, release: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _bad(release, name, value)


def _optional_int(value: Any, name: str, release: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _bad(release, name, value)
