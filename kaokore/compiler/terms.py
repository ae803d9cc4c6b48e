"""The licence and attribution every release carries (``SOURCES.md`` section 8).

Why constants in one place: the data sheet, ``release.json`` and ``faces.csv`` must say the
same thing, and CODH's terms are the condition on which the images may be used at all.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ATTRIBUTION",
    "DOI",
    "LICENSE",
    "LICENSE_URL",
    "REDISTRIBUTION",
]

LICENSE: Final = "CC BY-SA 4.0"
LICENSE_URL: Final = "https://creativecommons.org/licenses/by-sa/4.0/"
DOI: Final = "10.20676/00000353"
ATTRIBUTION: Final = (
    '"KaoKore Dataset" (created by ROIS-DS Center for Open Data in the Humanities (CODH), '
    "based on the Collection of Facial Expressions, with images from the National Institute "
    "of Japanese Literature, Kyoto University Rare Materials Digital Archive and Keio "
    f"University Media Center), doi:{DOI}"
)
REDISTRIBUTION: Final = (
    "CODH asks that derived datasets carrying the image data are not redistributed: this "
    "release is for local use. Keep the attribution, the licence and the provenance of every "
    "face with anything made from it."
)
