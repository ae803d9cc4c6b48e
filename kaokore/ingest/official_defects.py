"""Finding the known defects of well-formed official files (one job, no database).

Labels and tags on blank url lines, negative or non-square regions, duplicated crops, record
ids absent from the image path, empty ``=`` pairs, url lines without tags, labels that
disagree with the tags, and label names that differ from :mod:`kaokore.vocab`: each becomes
a :class:`~kaokore.ingest.official_files.Finding` of kind ``defect``, and is imported anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

from kaokore.ingest.official_files import (
    Finding,
    OfficialVersion,
    TagLine,
    UrlLine,
    _defect,
)
from kaokore.ingest.official_tags import record_of
from kaokore.release.layout import (
    LABELS_FILE,
    METADATA_EN_FILE,
    METADATA_JA_FILE,
    TAGS_FILE,
    URLS_FILE,
    image_name,
)
from kaokore.vocab import GENDER_CLASSES, STATUS_CLASSES, class_index

__all__ = ["find_defects"]

# --- known defects -------------------------------------------------------------------------


def find_defects(official: OfficialVersion) -> tuple[Finding, ...]:
    """The known defects of well-formed official files; each is imported anyway.

    Labels and tags on blank url lines, negative or non-square regions, duplicated crops,
    record ids absent from the image path, empty ``=`` pairs, url lines without tags, labels
    that disagree with the tags, and label names that differ from :mod:`kaokore.vocab`.
    """
    findings: list[Finding] = []
    findings += _url_defects(official)
    findings += _tag_defects(official)
    findings += _label_defects(official)
    findings += _metadata_defects(official)
    return tuple(findings)


def _url_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(URLS_FILE)
    first: dict[str, UrlLine] = {}
    tags = official.tags_by_number()
    for line in official.urls:
        region, key = line.region, line.face_key
        if region is None or key is None:
            continue
        where = line.number + 1
        if region.x < 0 or region.y < 0:
            reason = f"negative region {region.iiif} (the crop reaches outside the image)"
            yield _defect(path, where, reason, "negative_region")
        if region.w != region.h:
            yield _defect(path, where, f"region {region.iiif} is not square", "non_square_region")
        if key in first:
            earlier = first[key]
            reason = f"duplicated crop: the face of {earlier.file_name} (line {earlier.number + 1})"
            if _tag_text(tags.get(earlier.number)) != _tag_text(tags.get(line.number)):
                reason += f"; its tags differ, {earlier.file_name}'s are the face's"
            yield _defect(path, where, reason, "duplicate_crop")
        else:
            first[key] = line
        if line.number not in tags:
            yield _defect(
                path, where, f"{line.file_name} has no line in {TAGS_FILE}", "missing_tags"
            )


def _tag_text(tag: TagLine | None) -> str | None:
    """The pairs of a tag line without its file name, to compare two lines' tags."""
    return tag.text.partition(":")[2] if tag is not None else None


def _tag_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(TAGS_FILE)
    urls = official.urls
    for tag in official.tags:
        url = urls[tag.number] if tag.number < len(urls) else None
        if url is None or url.blank:
            where = "is blank" if url is not None else f"is past the end ({len(urls)} lines)"
            reason = f"tags for {image_name(tag.number)}, whose line in {URLS_FILE} {where}"
            yield _defect(path, tag.line, reason, "tags_on_blank_line")
        if any(pair.key == "" for pair in tag.pairs):
            reason = "an empty pair '=' (no key, no value) is skipped; the face is kept"
            yield _defect(path, tag.line, reason, "empty_key")
        if url is not None and url.service_key is not None:
            mismatch = _record_mismatch(tag, url.service_key)
            if mismatch is not None:
                yield _defect(path, tag.line, mismatch, "record_id_mismatch")


def _record_mismatch(tag: TagLine, skey: str) -> str | None:
    """Why the record id is not in the image path, or None when it is (or is absent)."""
    record = record_of(tag)
    if record is None:
        return None
    key, value = record
    token = value.rsplit("/", 1)[-1]
    if token in skey.split("/"):
        return None
    return f"record id {key}={value} is not in the image path {skey}"


def _label_defects(official: OfficialVersion) -> Iterator[Finding]:
    path = official.path(LABELS_FILE)
    urls = official.urls
    tags = official.tags_by_number()
    labelled = {row.number for row in official.labels}
    for row in official.labels:
        url = urls[row.number] if row.number < len(urls) else None
        if url is None or url.blank:
            where = "is blank" if url is not None else f"is past the end ({len(urls)} lines)"
            reason = f"label for {row.image}, whose line in {URLS_FILE} {where}"
            yield _defect(path, row.line, reason, "label_on_blank_line")
        tag = tags.get(row.number)
        if tag is not None and _tag_classes(tag) != (row.gender, row.status):
            reason = (
                f"label {row.gender},{row.status} of {row.image} disagrees with its tags "
                f"性別={tag.first('性別')} 身分={tag.first('身分')}"
            )
            yield _defect(path, row.line, reason, "label_disagrees_with_tags")
    for tag in official.tags:
        if tag.number not in labelled and None not in _tag_classes(tag):
            reason = f"{image_name(tag.number)} qualifies for a label by its tags but has no row"
            yield _defect(official.path(TAGS_FILE), tag.line, reason, "label_missing")


def _tag_classes(tag: TagLine) -> tuple[int | None, int | None]:
    gender = tag.first("性別")
    status = tag.first("身分")
    return (
        class_index("gender", gender.strip()) if gender is not None else None,
        class_index("status", status.strip()) if status is not None else None,
    )


def _metadata_defects(official: OfficialVersion) -> Iterator[Finding]:
    for name, got, lang in (
        (METADATA_EN_FILE, official.metadata_en, 1),
        (METADATA_JA_FILE, official.metadata_ja, 0),
    ):
        expected = {
            category: tuple((index, names[lang]) for index, names in enumerate(classes))
            for category, classes in _vocab_categories(lang).items()
        }
        if dict(got) != expected:
            reason = f"label names {dict(got)} differ from kaokore's {expected}"
            yield _defect(official.path(name), None, reason, "metadata_differs")


def _vocab_categories(lang: int) -> dict[str, tuple[tuple[str, str], ...]]:
    names = (("性別", "gender"), ("身分", "status"))
    classes = (GENDER_CLASSES, STATUS_CLASSES)
    return {name[lang]: group for name, group in zip(names, classes, strict=True)}
