"""Local IIIF mirrors of CODH's face collection, for ``kaokore serve``, the demo and tests.

Why a package of its own: harvesting is only tested against an upstream, and nothing here
may reach the internet, so kaokore carries its own stand-ins for CODH's servers:

* ``bundled/``: the bundled sample mirror, a tiny offline copy of the upstream: three works
  (one per holder) and 33 faces, published as the real chain of documents (change feed ->
  cr:Curation -> IIIF manifest -> Image API service), with ``{BASE}`` in place of a host so
  that :class:`kaokore.server.LocalIIIFServer` serves it on any port::

      from kaokore.mirror import sample_dir, sample_sources
      with LocalIIIFServer(sample_dir()) as server:
          feeds = sample_sources(server.base_url)

  ``faces.json`` in the folder is the ground truth (member ids, boxes, expected crops,
  labels); ``ATTRIBUTION.md`` gives the licence (CC BY-SA 4.0) of the KaoKore faces in it.
  It is rebuilt by ``python tools/make_sample.py``.
* :mod:`kaokore.mirror.upstream`: a full-scale mirror built from the real official files
  and images in ``../shared``; :mod:`kaokore.mirror.realcheck` checks a harvest of it.
* :mod:`kaokore.mirror.documents`: the canvases and drawn faces both builders publish.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_dir", "sample_sources"]


def sample_dir() -> Path:
    """The folder of the bundled sample mirror (read-only: copy it before editing)."""
    return Path(__file__).resolve().with_name("bundled")


def sample_sources(base_url: str) -> list[str]:
    """The feed URLs of ``sources.txt`` with ``{BASE}`` replaced by ``base_url``."""
    text = sample_dir().joinpath("sources.txt").read_text(encoding="utf-8")
    base = base_url.rstrip("/")
    return [line.strip().replace("{BASE}", base) for line in text.splitlines() if line.strip()]
