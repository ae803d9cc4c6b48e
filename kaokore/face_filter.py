"""The face filter, defined once: :class:`FaceFilter` and what each of its filters means.

Why its own light module, outside :mod:`kaokore.query`: the CLI reads the fields at startup
to make its filter options (``kaokore.commands.common.face_filter_options``), and importing
the query package would load rdflib and NumPy for every command. The SQL that implements
the filters is :mod:`kaokore.query.filters`; the public name is
:class:`kaokore.query.FaceFilter`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import Field, dataclass, field, fields
from typing import Any

from kaokore.errors import ArgumentError
from kaokore.periods import parse_period_query
from kaokore.vocab import japanese_value

__all__ = ["OPTION", "FaceFilter", "FilterOption", "Years", "filter_fields", "release_parts"]

#: The key of a :class:`FaceFilter` field's :class:`FilterOption` in ``Field.metadata``.
OPTION = "kaokore.filter"

#: A period as years, either end open.
Years = tuple[int | None, int | None]


@dataclass(frozen=True, slots=True)
class FilterOption:
    """What a front end needs to offer a filter: the CLI (``--work``), the docs, the web.

    ``multiple``: the filter takes several values (OR; tags AND). ``vocabulary``: the
    Japanese label whose closed set of values it takes (``身分``), whose English names are
    accepted too.
    """

    help: str
    multiple: bool = False
    vocabulary: str | None = None


def _option(help: str, *, multiple: bool = False, vocabulary: str | None = None) -> Any:
    default: Any = () if multiple else None
    return field(
        default=default,
        metadata={OPTION: FilterOption(help, multiple=multiple, vocabulary=vocabulary)},
    )


def _strip_all(values: Sequence[str], vocabulary: str | None) -> tuple[str, ...]:
    items = (values,) if isinstance(values, str) else tuple(values)
    stripped = (item.strip() for item in items)
    if vocabulary is None:
        return tuple(stripped)
    return tuple(japanese_value(vocabulary, item) for item in stripped)


def release_parts(release: str) -> tuple[str | None, tuple[str, ...]]:
    """``official:1.3`` -> (``official``, versions); ``1.3`` or ``v1.3`` -> (None, both forms).

    Raises :class:`~kaokore.errors.ArgumentError` (``in_release``) for another kind."""
    kind: str | None = None
    version = release.strip()
    if ":" in version:
        kind, _, version = version.partition(":")
        kind = kind.strip().lower()
        if kind not in ("built", "official"):
            raise ArgumentError("in_release", release, "the kind must be built or official")
    bare = version[1:] if version[:1] in ("v", "V") else version
    return kind, tuple(dict.fromkeys((version, bare, f"v{bare}")))


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceFilter:
    """Which faces a query is about: the one definition of kaokore's face filters.

    Every field is a filter and carries its :class:`FilterOption`, from which the CLI makes
    its options (``--record-id`` is ``record_id``), the docs table is checked and the web
    facets are read, so a new filter is one field here plus its SQL in
    :func:`kaokore.query.filters.face_conditions`. Empty fields do not filter. Give values
    in Japanese or English (``status="warrior"`` is ``status="武士"``), one value or a
    sequence, and ``period`` as text (``"1600-1650"``, ``"江戸前期"``) or years; they are
    normalised on construction, so fields hold tuples of Japanese values and ``period``
    holds years.

    Example::

        >>> FaceFilter(status="warrior", period="1600-1650").status
        ('武士',)
    """

    work: Sequence[str] = _option("原典: the work's title (repeat for several).", multiple=True)
    holder: Sequence[str] = _option(
        "所蔵: the holder, in Japanese or English ('Kyoto University').",
        multiple=True,
        vocabulary="所蔵",
    )
    record_id: Sequence[str] = _option(
        "The holder's record id: DOI, RB..., or a Keio call number ('@' or '-').", multiple=True
    )
    gender: Sequence[str] = _option(
        "性別: male/男, female/女, unknown/不明.", multiple=True, vocabulary="性別"
    )
    status: Sequence[str] = _option(
        "身分: noble/貴族, warrior/武士, incarnation/化身, commoner/庶民, monk/僧侶, "
        "animal/動物, priest/神職, unknown/不明.",
        multiple=True,
        vocabulary="身分",
    )
    orientation: Sequence[str] = _option(
        "向き: three-quarter/四分の三, profile/横, back/後, front/正面, unknown/不明.",
        multiple=True,
        vocabulary="向き",
    )
    tag: Sequence[str] = _option("タグ: repeat; every tag must be present.", multiple=True)
    text: str | None = _option("Free text: a substring of any label value or English value name.")
    period: str | Years | None = _option(
        "Faces whose 制作年 range overlaps: 1600-1650, 1600, 1600-, -1650, 江戸前期, 元禄."
    )
    agent: str | None = _option("human or machine: who asserted the matching labels.")
    in_release: str | None = _option("Members of a release: 1.3, official:1.3 or built:1.0.")

    def __post_init__(self) -> None:
        """Normalise what callers give: English names to Japanese, text periods to years."""
        for item, option in filter_fields():
            value = getattr(self, item.name)
            if option.multiple:
                value = _strip_all(value, option.vocabulary)
            elif isinstance(value, str):
                value = value.strip() or None
            object.__setattr__(self, item.name, value)
        if isinstance(self.period, str):
            object.__setattr__(self, "period", parse_period_query(self.period))
        if self.agent is not None:
            agent = self.agent.lower()
            if agent not in ("human", "machine"):
                raise ArgumentError("agent", self.agent, "use human or machine")
            object.__setattr__(self, "agent", agent)
        if self.in_release is not None:
            release_parts(self.in_release)

    @property
    def years(self) -> Years | None:
        """``period`` as years (a text period was read on construction)."""
        if isinstance(self.period, str):  # pragma: no cover - __post_init__ reads it
            raise AssertionError("period was not read")
        return self.period

    @property
    def empty(self) -> bool:
        """Whether the filter selects every face."""
        return self == FaceFilter()

    def describe(self) -> str:
        """The filter as ``keyword=value`` pairs, for captions and curation labels."""
        parts: list[str] = []
        for item, option in filter_fields():
            value = getattr(self, item.name)
            if item.name == "period" and self.years is not None:
                low, high = self.years
                value = f"{'' if low is None else low}-{'' if high is None else high}"
            values = value if option.multiple else (() if value is None else (value,))
            parts.extend(f"{item.name}={one}" for one in values)
        return ", ".join(parts) if parts else "all faces"


def filter_fields() -> Iterator[tuple[Field[Any], FilterOption]]:
    """Each filter of :class:`FaceFilter` with its option, in declaration order."""
    for item in fields(FaceFilter):
        yield item, item.metadata[OPTION]
