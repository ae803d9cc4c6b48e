"""The KaoKore label vocabulary: the expert metadata keys and the class indices of releases.

The official files encode gender and status as integers; the curation metadata uses
Japanese words. Every stage (ingest, compiler, query, learn) reads the mapping from here so
that ``--status warrior`` and ``身分=武士`` and ``status=1`` always mean the same thing.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "GENDER_CLASSES",
    "KEY_ENGLISH",
    "STATUS_CLASSES",
    "RECORD_ID_KEYS",
    "VALUE_ENGLISH",
    "category_key",
    "class_index",
    "class_names",
    "english_value",
    "japanese_value",
]

#: The metadata keys of the face collection and their English names.
KEY_ENGLISH: Final[dict[str, str]] = {
    "性別": "gender",
    "身分": "status",
    "向き": "orientation",
    "所蔵": "holder",
    "原典": "work",
    "タグ": "tag",
    "制作年": "period",
    "テーマ": "theme",
    "原典ID": "work_id",
    "DOI": "doi",
    "京都大学貴重資料デジタルアーカイブレコードID": "kyoto_record_id",
    "慶応義塾大学請求記号": "keio_call_number",
}

#: Keys whose value identifies the record (book or scroll) at its holder.
RECORD_ID_KEYS: Final[tuple[str, ...]] = (
    "DOI",
    "京都大学貴重資料デジタルアーカイブレコードID",
    "慶応義塾大学請求記号",
)

#: Class names in index order, as in the official ``labels.metadata.{ja,en}.txt``.
GENDER_CLASSES: Final[tuple[tuple[str, str], ...]] = (("男", "male"), ("女", "female"))
STATUS_CLASSES: Final[tuple[tuple[str, str], ...]] = (
    ("貴族", "noble"),
    ("武士", "warrior"),
    ("化身", "incarnation"),
    ("庶民", "commoner"),
)

#: English names of the other values of gender, status and orientation.
VALUE_ENGLISH: Final[dict[str, dict[str, str]]] = {
    "性別": {"男": "male", "女": "female", "不明": "unknown"},
    "身分": {
        "貴族": "noble",
        "武士": "warrior",
        "化身": "incarnation",
        "庶民": "commoner",
        "僧侶": "monk",
        "動物": "animal",
        "神職": "priest",
        "不明": "unknown",
    },
    "向き": {
        "四分の三": "three-quarter",
        "横": "profile",
        "後": "back",
        "正面": "front",
        "不明": "unknown",
    },
    "所蔵": {
        "国文学研究資料館": "National Institute of Japanese Literature",
        "慶應義塾大学": "Keio University",
        "京都大学": "Kyoto University",
    },
}

_CATEGORY_CLASSES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "gender": GENDER_CLASSES,
    "status": STATUS_CLASSES,
}
_CATEGORY_KEY: Final[dict[str, str]] = {"gender": "性別", "status": "身分"}


def class_names(category: str) -> list[str]:
    """English class names of ``gender`` or ``status`` in index order (``male``, ``female``)."""
    return [english for _japanese, english in _CATEGORY_CLASSES[category]]


def class_index(category: str, japanese: str) -> int | None:
    """Return the release class index of a Japanese value, or None if it gets no label row."""
    for index, (ja, _en) in enumerate(_CATEGORY_CLASSES[category]):
        if ja == japanese:
            return index
    return None


def english_value(key: str, japanese: str) -> str | None:
    """Return the English name of a Japanese value of ``key`` (性別, 身分, 向き, 所蔵)."""
    return VALUE_ENGLISH.get(key, {}).get(japanese)


def japanese_value(key: str, given: str) -> str:
    """Accept a Japanese value or its English name (any case) and return the Japanese one.

    Unknown values come back unchanged, so free values such as tags pass through.
    """
    names = VALUE_ENGLISH.get(key, {})
    if given in names:
        return given
    lowered = given.strip().lower()
    for ja, en in names.items():
        if en.lower() == lowered:
            return ja
    return given


def category_key(category: str) -> str:
    """Return the metadata key (性別 or 身分) of a release category (gender or status)."""
    try:
        return _CATEGORY_KEY[category]
    except KeyError:
        raise ValueError(
            f"Unknown category {category!r}. Valid values are {sorted(_CATEGORY_KEY)}"
        ) from None
