"""A mirror folder on disk: its JSON documents and its image services.

Layout the server understands::

    services.json            optional: per-identifier service settings (see below)
    images/...               page images (JPEG or PNG)
    anything/else.json       documents, served at /anything/else.json and /anything/else
    anything/else.json.gone  a tombstone: the document is answered with 410 Gone

``services.json``::

    {"defaults": {"level": 2},
     "services": {"RB00013189/RB00013189_00003_0.ptif":
                    {"file": "images/kyoto/RB00013189_00003_0.jpg", "level": 1, "versions": [3],
                     "maxWidth": 1200, "upscale": false}}}

Keys are *decoded* identifiers (so ``%2F`` in a URL is ``/`` here). Settings: ``level``
(0/1/2), ``versions`` ([2], [3] or both), ``maxWidth``, ``maxHeight``, ``maxArea``, ``sizes``
([[w, h], ...]), ``tiles`` ([{"width", "height", "scaleFactors"}]), ``upscale``, ``strict``.
An identifier without an entry is looked up as ``images/<identifier minus extension>.jpg|png``.

Every file is resolved before it is opened and must lie inside the root: ``..`` segments,
absolute paths and symbolic links that lead outside (``api/leak.json -> /etc/passwd``) are
refused as if absent. Every service has ``maxWidth``, ``maxHeight`` and ``maxArea``
(:data:`DEFAULT_LIMITS` unless ``services.json`` says otherwise), so no request can make
the server render an image of unbounded size. Documents and ``services.json`` are re-read
when they change, so tests can edit the mirror between requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from kaokore.server.imageapi import ServiceConfig, TileSpec

__all__ = [
    "BASE_PLACEHOLDER",
    "DEFAULT_LIMITS",
    "Document",
    "Mirror",
    "ResolvedService",
    "SERVICES_FILE",
]

#: Written in mirror documents where the server's base URL belongs.
BASE_PLACEHOLDER: Final = "{BASE}"
SERVICES_FILE: Final = "services.json"
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png")
DOCUMENT_SUFFIXES: Final = (".json", ".txt")
#: The size limits of a service that sets none: 10,000 px a side, 25 megapixels (75 MB RGB).
DEFAULT_LIMITS: Final[dict[str, int]] = {
    "maxWidth": 10_000,
    "maxHeight": 10_000,
    "maxArea": 25_000_000,
}
_SETTINGS: Final = frozenset(
    {
        "file",
        "level",
        "versions",
        "maxWidth",
        "maxHeight",
        "maxArea",
        "sizes",
        "tiles",
        "upscale",
        "strict",
        "note",
    }
)


@dataclass(frozen=True)
class Document:
    """A document ready to send: ``{BASE}`` already replaced."""

    path: Path
    data: bytes
    content_type: str
    mtime: float


@dataclass(frozen=True)
class ResolvedService:
    """An identifier's page file and settings."""

    identifier: str
    file: Path
    config: ServiceConfig
    config_mtime: float


def _config_from(settings: Mapping[str, Any], *, where: str) -> ServiceConfig:
    unknown = set(settings) - _SETTINGS
    if unknown:
        raise ValueError(
            f"{where}: unknown setting(s) {sorted(unknown)}; valid: {sorted(_SETTINGS)}"
        )
    sizes = settings.get("sizes")
    tiles = settings.get("tiles")
    return ServiceConfig(
        level=int(settings.get("level", 2)),
        versions=frozenset(int(v) for v in settings.get("versions", (2, 3))),
        max_width=settings.get("maxWidth"),
        max_height=settings.get("maxHeight"),
        max_area=settings.get("maxArea"),
        sizes=None
        if sizes is None
        else tuple(
            (int(s["width"]), int(s["height"]))
            if isinstance(s, Mapping)
            else (int(s[0]), int(s[1]))
            for s in sizes
        ),
        tiles=None
        if tiles is None
        else tuple(
            TileSpec(
                int(t["width"]),
                int(t.get("height", t["width"])),
                tuple(int(f) for f in t["scaleFactors"]),
            )
            for t in tiles
        ),
        upscale=bool(settings.get("upscale", True)),
        strict=bool(settings.get("strict", True)),
    )


def _default_limits(settings: dict[str, Any]) -> None:
    """Give a service without limits :data:`DEFAULT_LIMITS` (maxHeight follows maxWidth)."""
    if "maxWidth" not in settings:
        settings["maxWidth"] = DEFAULT_LIMITS["maxWidth"]
        settings.setdefault("maxHeight", DEFAULT_LIMITS["maxHeight"])
    settings.setdefault("maxArea", DEFAULT_LIMITS["maxArea"])


class Mirror:
    """Read-only view of a mirror folder (see the module docstring for its layout)."""

    def __init__(
        self,
        root: Path,
        *,
        strict: bool = True,
        services: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.strict = strict
        self.overrides = {k: dict(v) for k, v in (services or {}).items()}
        self._lock = threading.Lock()
        self._services_key: int | None = -1
        self._defaults: dict[str, Any] = {}
        self._entries: dict[str, dict[str, Any]] = {}
        self._services_mtime = 0.0

    # -- paths ---------------------------------------------------------------------------

    def inside(self, relative: Sequence[str]) -> Path | None:
        """``root/relative`` if every segment is a plain name, else None (no traversal)."""
        for part in relative:
            if part in ("", ".", "..") or "/" in part or "\\" in part or "\0" in part:
                return None
        path = self.root.joinpath(*relative)
        return path if self.confined(path) is not None else None

    def confined(self, path: Path) -> Path | None:
        """``path`` with every symbolic link resolved, or None if that lies outside the root.

        Called on the exact file about to be opened, so that no name derived from a request
        (``a/b`` -> ``a/b.json``) can reach past the root through a link.
        """
        try:
            resolved = path.resolve()
            resolved.relative_to(self.root)
        except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
            return None
        return resolved

    def _file(self, path: Path) -> Path | None:
        """The resolved regular file at ``path`` inside the root, or None."""
        resolved = self.confined(path)
        return resolved if resolved is not None and resolved.is_file() else None

    # -- documents -----------------------------------------------------------------------

    def document(self, segments: Sequence[str], base_url: str) -> Document | str | None:
        """The document at ``segments``, ``"gone"`` for a tombstone, or None (404).

        ``/a/b`` finds ``a/b`` if it is a .json/.txt file, else ``a/b.json``.
        """
        path = self.inside(segments)
        if path is None:
            return None
        candidates = [path] if path.suffix in DOCUMENT_SUFFIXES else []
        candidates.append(path.with_name(path.name + ".json"))
        for candidate in candidates:
            found = self._file(candidate)
            if found is not None:
                text = found.read_text(encoding="utf-8", errors="replace")
                stat = found.stat()
                if candidate.suffix == ".txt":
                    content_type = "text/plain; charset=utf-8"
                elif '"@context"' in text:
                    content_type = "application/ld+json"
                else:
                    content_type = "application/json"
                data = text.replace(BASE_PLACEHOLDER, base_url).encode("utf-8")
                return Document(candidate, data, content_type, stat.st_mtime)
        for candidate in candidates:
            if self._file(candidate.with_name(candidate.name + ".gone")) is not None:
                return "gone"
        return None

    # -- image services ------------------------------------------------------------------

    def _load_services(self) -> None:
        path = self._file(self.root / SERVICES_FILE) or self.root / SERVICES_FILE
        try:
            if self.confined(path) is None:
                raise FileNotFoundError(path)
            stat = path.stat()
        except FileNotFoundError:
            key, mtime = None, 0.0
        else:
            key, mtime = stat.st_mtime_ns, stat.st_mtime
        with self._lock:
            if key == self._services_key:
                return
            raw: dict[str, Any] = (
                json.loads(path.read_text(encoding="utf-8")) if key is not None else {}
            )
            defaults = dict(raw.get("defaults", {}))
            entries = {str(k): dict(v) for k, v in raw.get("services", {}).items()}
            _config_from(defaults, where=f"{path}: defaults")  # fail early on typos
            self._defaults, self._entries = defaults, entries
            self._services_key, self._services_mtime = key, mtime

    def service(self, identifier: str) -> ResolvedService | None:
        """The file and settings of ``identifier`` (decoded), or None if there is no such image."""
        self._load_services()
        entry = self._entries.get(identifier)
        if entry is not None and "file" in entry:
            file = self.inside(Path(str(entry["file"])).parts)
        else:
            file = self._find_image(identifier)
        file = self._file(file) if file is not None else None
        if file is None:
            return None
        settings: dict[str, Any] = {"strict": self.strict}
        settings.update(self._defaults)
        settings.update(entry or {})
        settings.update(self.overrides.get("*", {}))
        settings.update(self.overrides.get(identifier, {}))
        settings.pop("file", None)
        _default_limits(settings)
        config = _config_from(settings, where=f"service {identifier!r}")
        return ResolvedService(identifier, file, config, self._services_mtime)

    def _find_image(self, identifier: str) -> Path | None:
        parts = identifier.split("/")
        base = self.inside(["images", *parts])
        if base is None:
            return None
        if base.suffix.lower() in IMAGE_SUFFIXES and self._file(base) is not None:
            return base
        for suffix in IMAGE_SUFFIXES:
            candidate = (
                base.with_suffix(suffix) if base.suffix else base.with_name(base.name + suffix)
            )
            if self._file(candidate) is not None:
                return candidate
        return None
