"""The names of a release folder: every file, folder, column and set a release holds.

Why one module: the compiler writes these names, ``kaokore verify``, the torch and tf
loaders, the GAN and the exporters read them, and the official importer reads the same
official files. When each spelled them out, a renamed file or column silently left copies
out of step. This module imports nothing from kaokore, so every stage may use it.

A release (``kaokore build``) is the official download's layout plus its own files::

    images_256/NNNNNNNN.jpg         the faces, 256x256 RGB JPEG (official)
    labels.csv                      image,gender,status,set (official)
    labels.metadata.{en,ja}.txt     class names (official)
    original_tags.txt, urls.txt     tags and Image API URLs per file (official)
    faces.csv, faces.parquet        provenance, one row per image
    splits/NAME.csv                 the labels.csv format, with NAME's sets
    release.json, SHA256SUMS        what the release is, and proof of its bytes
    DATASHEET.md, contact_sheet.png for people
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CATEGORIES",
    "CONTACT_SHEET_FILE",
    "DATASHEET_FILE",
    "FACES_CSV",
    "FACES_PARQUET",
    "IMAGE_DIR",
    "IMAGE_NAME",
    "IMAGE_SIZE",
    "LABELS_FILE",
    "LABELS_HEADER",
    "LABEL_COLUMNS",
    "METADATA_EN_FILE",
    "METADATA_JA_FILE",
    "OFFICIAL_FILES",
    "RELEASE_FILE",
    "REQUIRED_FILES",
    "SETS",
    "SPLITS_DIR",
    "SPLIT_FILES",
    "SUMS_FILE",
    "TAGS_FILE",
    "URLS_FILE",
    "image_name",
    "split_path",
]

#: The side of every face image, in pixels.
IMAGE_SIZE: Final = 256
#: The folder of face images.
IMAGE_DIR: Final = f"images_{IMAGE_SIZE}"
#: A face image's file name: the file number, 8 digits, ``.jpg``.
IMAGE_NAME: Final = re.compile(r"^\d{8}\.jpg$")

LABELS_FILE: Final = "labels.csv"
#: The columns of ``labels.csv`` and of every ``splits/NAME.csv``, in order.
LABEL_COLUMNS: Final[tuple[str, ...]] = ("image", "gender", "status", "set")
LABELS_HEADER: Final = ",".join(LABEL_COLUMNS)
#: The label columns a model can be trained on.
CATEGORIES: Final[tuple[str, ...]] = ("gender", "status")
#: The values of the ``set`` column, in the order the files list them.
SETS: Final[tuple[str, ...]] = ("train", "dev", "test")

METADATA_EN_FILE: Final = "labels.metadata.en.txt"
METADATA_JA_FILE: Final = "labels.metadata.ja.txt"
TAGS_FILE: Final = "original_tags.txt"
URLS_FILE: Final = "urls.txt"
#: The files of an official version (besides ``images_256/``).
OFFICIAL_FILES: Final[tuple[str, ...]] = (
    URLS_FILE,
    TAGS_FILE,
    LABELS_FILE,
    METADATA_EN_FILE,
    METADATA_JA_FILE,
)

FACES_CSV: Final = "faces.csv"
FACES_PARQUET: Final = "faces.parquet"
RELEASE_FILE: Final = "release.json"
SUMS_FILE: Final = "SHA256SUMS"
DATASHEET_FILE: Final = "DATASHEET.md"
CONTACT_SHEET_FILE: Final = "contact_sheet.png"

SPLITS_DIR: Final = "splits"
#: The split files a release may carry, in the order a build writes them (``official`` only
#: where the faces came from an official version).
SPLIT_FILES: Final[tuple[str, ...]] = ("stable", "by-work", "by-page", "official")


def split_path(name: str) -> str:
    """The release-relative path of split ``name`` (``splits/stable.csv``)."""
    return f"{SPLITS_DIR}/{name}.csv"


def image_name(number: int) -> str:
    """The file name of face number ``number`` (``00000042.jpg``)."""
    return f"{number:08d}.jpg"


#: The files every built release has (``splits/official.csv`` only where faces came from one).
REQUIRED_FILES: Final[tuple[str, ...]] = (
    *OFFICIAL_FILES,
    FACES_CSV,
    FACES_PARQUET,
    RELEASE_FILE,
    DATASHEET_FILE,
    CONTACT_SHEET_FILE,
    SUMS_FILE,
    *(split_path(name) for name in SPLIT_FILES if name != "official"),
)
