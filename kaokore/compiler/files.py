"""The official-format files of a release: labels, label metadata, original tags and URLs.

Why byte-exact formats: the official KaoKore loader and download script, and every tool
written for them, read these files unchanged. So the formats are those of the published
files (see ``SOURCES.md`` section 7): ``\\n`` line ends, a header only on ``labels.csv``,
tab-separated label metadata, ``NNNNNNNN.jpg:key=value;...`` tags with the pairs sorted as
officially, and one URL per file number with a blank line for a number the release lacks.
Each writer returns bytes, so it can be tested without a folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kaokore.compiler.records import ReleaseEntry, SampleRow
from kaokore.release.layout import LABELS_HEADER, SETS
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES

__all__ = [
    "iiif_url",
    "labels_csv",
    "metadata_en",
    "metadata_ja",
    "original_tags",
    "tag_line",
    "urls_txt",
]


def iiif_url(row: SampleRow, size: int = 256) -> str:
    """The Image API URL of a face's square at ``size`` px, as the official ``urls.txt``.

    The region is the unclamped square of the face key, as officially (servers clip it).
    The size follows what the service allows: Image API 3 needs ``^`` to upscale, and a
    level 1 service of API 2 guarantees only ``w,``.
    """
    if not row.service_url:
        return row.crop_url or ""
    square = row.key_square or row.square
    if row.api_version == "3":
        size_param = f"^{size},{size}"
    elif row.level == 1:
        size_param = f"{size},"
    else:
        size_param = f"{size},{size}"
    return f"{row.service_url.rstrip('/')}/{square.iiif}/{size_param}/0/default.jpg"


def _ordered(entries: Iterable[ReleaseEntry], split: str) -> list[tuple[str, ReleaseEntry]]:
    """Labelled entries that ``split`` covers, train then dev then test, by file name."""
    chosen = [(e.sets[split], e) for e in entries if e.row.labelled and split in e.sets]
    return sorted(chosen, key=lambda pair: (SETS.index(pair[0]), pair[1].image))


def labels_csv(entries: Iterable[ReleaseEntry], split: str = "stable") -> bytes:
    """``image,gender,status,set`` for every labelled image, with the sets of ``split``.

    The same format serves the split files under ``splits/``, so any of them can stand in
    for ``labels.csv`` with the official loader.
    """
    lines = [LABELS_HEADER]
    for set_name, entry in _ordered(entries, split):
        lines.append(f"{entry.image},{entry.row.gender},{entry.row.status},{set_name}")
    return ("\n".join(lines) + "\n").encode()


def _metadata(classes: Sequence[Sequence[str]], names: tuple[str, str]) -> bytes:
    lines = ["\t".join(names), "\t".join(str(len(c)) for c in classes), ""]
    for name, values in zip(names, classes, strict=True):
        lines.append(name)
        lines.extend(f"\t{index}\t{value}" for index, value in enumerate(values))
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


def metadata_en() -> bytes:
    """``labels.metadata.en.txt``: the label names in English, as officially."""
    classes = (tuple(en for _ja, en in GENDER_CLASSES), tuple(en for _ja, en in STATUS_CLASSES))
    return _metadata(classes, ("gender", "status"))


def metadata_ja() -> bytes:
    """``labels.metadata.ja.txt``: the label names in Japanese, as officially."""
    classes = (tuple(ja for ja, _en in GENDER_CLASSES), tuple(ja for ja, _en in STATUS_CLASSES))
    return _metadata(classes, ("性別", "身分"))


def tag_line(image: str, row: SampleRow) -> str:
    """One ``original_tags.txt`` line: the experts' current (human) tags, as they wrote them.

    Pairs are sorted by key, then value, as in every official version. The labels are the
    current ones by the one rule (:mod:`kaokore.db.truth`): one source per label, each value
    once, so a value repeated in a source (``制作年=;制作年=``) is written once. A line break
    inside a value would break the format and becomes a space.
    """
    pairs = sorted(
        (v.label, v.raw_value.replace("\r", " ").replace("\n", " "), v.position)
        for v in row.annotations
        if v.agent == "human"
    )
    return f"{image}:" + ";".join(f"{label}={value}" for label, value, _position in pairs)


def original_tags(entries: Iterable[ReleaseEntry]) -> bytes:
    """``original_tags.txt``: one line per image of the release, labelled or not."""
    lines = [tag_line(e.image, e.row) for e in sorted(entries, key=lambda e: e.image)]
    return "".join(f"{line}\n" for line in lines).encode()


def urls_txt(entries: Iterable[ReleaseEntry]) -> bytes:
    """``urls.txt``: line ``i`` is the URL of image ``i``; blank where the release has none.

    File numbers are kept across releases, so a face removed since an earlier release leaves
    a blank line, exactly as the official files keep their gaps.
    """
    by_number = {e.number: e.url for e in entries}
    if not by_number:
        return b""
    lines = [by_number.get(number, "") for number in range(max(by_number) + 1)]
    return "".join(f"{line}\n" for line in lines).encode()
