"""The documented read-only SQL views: the stable surface of ``kaokore sql``.

Why views: the tables are shaped for harvesting (annotations are rows, never overwritten,
closed by ``retracted_at``); a historian wants one row per face with its current labels as
columns. The views give that, in SQLite and PostgreSQL alike, and they are the names the
research guide documents. Base tables stay readable too, but may change between versions.

The SQL is versioned: migration 0002 created :data:`VIEWS_0002`, which read
``annotations`` with their own notion of "current"; migration 0005 replaces them by the
same names built on ``current_labels``, the stored result of the one rule
(:mod:`kaokore.db.truth`), so ``kaokore sql`` and every other reader agree by construction.
A later change to a view adds a new revision here and a new migration; it never edits an
old one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from kaokore.vocab import KEY_ENGLISH, RECORD_ID_KEYS, VALUE_ENGLISH

__all__ = ["VIEWS", "VIEWS_0002", "VIEWS_0005", "ViewDoc", "create_views_sql", "drop_views_sql"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ViewDoc:
    """A documented view: its name, what one row is, and its columns with their meaning."""

    name: str
    row: str
    columns: tuple[tuple[str, str], ...]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(expression: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in mapping.items())
    return f"CASE {expression} {whens} END"


def _group_text(dialect: str, expression: str) -> str:
    """Text aggregate joining values with `` | `` (order: as the inner query sorted them)."""
    if dialect == "postgresql":
        return f"string_agg({expression}, ' | ')"
    return f"group_concat({expression}, ' | ')"


def _label_columns(first: Callable[[str], str]) -> str:
    """The start of ``faces_current``: the face and its label columns, where ``first(labels)``
    is the revision's subquery for a face's first current value of ``labels``."""
    record_keys = ", ".join(_quote(key) for key in RECORD_ID_KEYS)
    holder = f"COALESCE({first(_quote('所蔵'))}, w.holder)"
    columns = [
        f"COALESCE({first(_quote('原典'))}, w.label) AS work",
        f"{holder} AS holder",
        f"{_case(holder, VALUE_ENGLISH['所蔵'])} AS holder_en",
        f"COALESCE({first(record_keys)}, w.record_id) AS record_id",
    ]
    for name, key in (("gender", "性別"), ("status", "身分"), ("orientation", "向き")):
        value = first(_quote(key))
        columns += [f"{value} AS {name}", f"{_case(value, VALUE_ENGLISH[key])} AS {name}_en"]
    lines = ",\n               ".join(columns)
    return f"""
        SELECT f.id AS face_id, f.key AS face_key,
               {lines},"""


#: The end of ``faces_current``: the face's own columns and where it is.
_FACE_COLUMNS: Final = """
               f.work_id, w.key AS work_key, w.manifest_url,
               f.canvas_id, c.uri AS canvas_uri, c.label AS page_label, c.position AS page_position,
               s.base_url AS image_service, f.member_uri,
               f.region_x, f.region_y, f.region_w, f.region_h,
               f.square_x, f.square_y, f.square_w, f.square_h,
               f.blob_sha256, f.crop_status, f.file_number, f.first_seen, f.last_seen
        FROM faces AS f
        LEFT JOIN works AS w ON w.id = f.work_id
        LEFT JOIN canvases AS c ON c.id = f.canvas_id
        LEFT JOIN image_services AS s ON s.id = f.image_service_id
        WHERE NOT f.deleted"""


def _views_0002(dialect: str) -> list[tuple[str, str]]:
    # In per-face subqueries, COALESCE hides label and retracted_at from the planner:
    # without ANALYZE statistics SQLite may otherwise read every row of a label (or every
    # current row) once per face, through the (label, value) or retracted_at index, instead
    # of seeking the face's few rows through (face_id, label): minutes instead of a second.
    by_face = "COALESCE(a.retracted_at, a.retracted_at) IS NULL"

    def face_rows(label: str) -> str:
        return f"a.face_id = f.id AND COALESCE(a.label, a.label) = {_quote(label)} AND {by_face}"

    def first(labels: str) -> str:
        # A face's first current, non-empty value of the labels, in (label, position) order,
        # as kaokore.query.faces reads it. A correlated subquery per column, so a query that
        # uses two columns of the view computes two, not all of them.
        return (
            f"(SELECT a.value FROM annotations AS a WHERE a.face_id = f.id "
            f"AND COALESCE(a.label, a.label) IN ({labels}) AND {by_face} AND a.value <> '' "
            f"ORDER BY a.label, a.position, a.id LIMIT 1)"
        )

    label_en = _case("a.label", KEY_ENGLISH)
    current = "a.retracted_at IS NULL"
    labels_select = f"""
        SELECT a.id AS annotation_id, a.face_id, f.key AS face_key, a.label,
               {label_en} AS label_en, a.value, a.raw_value, a.position, a.agent,
               a.document_id, d.url AS document_url, d.kind AS document_kind, a.asserted_at"""
    return [
        (
            "annotation_history",
            f"""{labels_select}, a.retracted_at,
               CASE WHEN {current} THEN 1 ELSE 0 END AS is_current
        FROM annotations AS a
        JOIN faces AS f ON f.id = a.face_id
        LEFT JOIN documents AS d ON d.id = a.document_id""",
        ),
        (
            "labels_current",
            f"""{labels_select}
        FROM annotations AS a
        JOIN faces AS f ON f.id = a.face_id
        LEFT JOIN documents AS d ON d.id = a.document_id
        WHERE {current} AND NOT f.deleted""",
        ),
        (
            "face_tags",
            f"""
        SELECT DISTINCT a.face_id, a.value AS tag
        FROM annotations AS a
        WHERE a.label = 'タグ' AND {current} AND a.value <> ''""",
        ),
        (
            "face_periods",
            f"""
        SELECT v.face_id,
               {_group_text(dialect, "CASE WHEN v.value <> '' THEN v.value END")} AS period_raw,
               COALESCE(MIN(CASE WHEN t.precise THEN t.year_from END),
                        MIN(CASE WHEN NOT t.precise THEN t.year_from END)) AS period_from,
               COALESCE(MAX(CASE WHEN t.precise THEN t.year_to END),
                        MAX(CASE WHEN NOT t.precise THEN t.year_to END)) AS period_to
        FROM (SELECT a.face_id, a.value, MIN(a.position) AS position
              FROM annotations AS a
              WHERE a.label = '制作年' AND {current}
              GROUP BY a.face_id, a.value
              ORDER BY a.face_id, MIN(a.position)) AS v
        LEFT JOIN period_terms AS t ON t.value = v.value
        GROUP BY v.face_id""",
        ),
        (
            "faces_current",
            f"""{_label_columns(first)}
               (SELECT {_group_text(dialect, "t.tag")}
                  FROM (SELECT DISTINCT a.value AS tag FROM annotations AS a
                         WHERE {face_rows("タグ")}
                           AND a.value <> '' ORDER BY a.value) AS t) AS tags,
               {first("'テーマ'")} AS theme,
               (SELECT {_group_text(dialect, "v.value")}
                  FROM (SELECT a.value, MIN(a.position) AS position FROM annotations AS a
                         WHERE {face_rows("制作年")}
                           AND a.value <> '' GROUP BY a.value ORDER BY MIN(a.position)) AS v)
                   AS period_raw,
               (SELECT COALESCE(MIN(CASE WHEN t.precise THEN t.year_from END),
                                MIN(CASE WHEN NOT t.precise THEN t.year_from END))
                  FROM annotations AS a JOIN period_terms AS t ON t.value = a.value
                 WHERE {face_rows("制作年")}) AS period_from,
               (SELECT COALESCE(MAX(CASE WHEN t.precise THEN t.year_to END),
                                MAX(CASE WHEN NOT t.precise THEN t.year_to END))
                  FROM annotations AS a JOIN period_terms AS t ON t.value = a.value
                 WHERE {face_rows("制作年")}) AS period_to,
               CASE WHEN EXISTS (SELECT 1 FROM annotations AS a
                                  WHERE a.face_id = f.id AND a.agent = 'machine' AND {by_face})
                    THEN 1 ELSE 0 END AS has_machine_labels,{_FACE_COLUMNS}""",
        ),
        (
            "work_summary",
            """
        SELECT w.id AS work_id, w.key AS work_key, w.label AS work, w.holder, w.record_id,
               w.manifest_url, w.license, w.attribution,
               (SELECT COUNT(*) FROM canvases AS c WHERE c.work_id = w.id) AS pages,
               (SELECT COUNT(*) FROM faces AS f WHERE f.work_id = w.id AND NOT f.deleted) AS faces
        FROM works AS w""",
        ),
        (
            "pages",
            """
        SELECT s.id AS image_service_id, s.base_url AS image_service, s.width, s.height,
               c.id AS canvas_id, c.uri AS canvas_uri, c.label AS page_label, c.position,
               COALESCE(c.work_id,
                        (SELECT MIN(f.work_id) FROM faces AS f WHERE f.image_service_id = s.id))
                   AS work_id,
               (SELECT w.label FROM works AS w
                 WHERE w.id = COALESCE(c.work_id,
                        (SELECT MIN(f.work_id) FROM faces AS f WHERE f.image_service_id = s.id)))
                   AS work,
               (SELECT COUNT(*) FROM faces AS f
                 WHERE f.image_service_id = s.id AND NOT f.deleted) AS faces
        FROM image_services AS s
        LEFT JOIN canvases AS c ON c.id = s.canvas_id""",
        ),
    ]


#: The views of revision 0002, in creation order (later views use earlier ones).
VIEWS_0002: Final[tuple[str, ...]] = (
    "annotation_history",
    "labels_current",
    "face_tags",
    "face_periods",
    "faces_current",
    "work_summary",
    "pages",
)


def _views_0005(dialect: str) -> list[tuple[str, str]]:
    """The views on ``current_labels``: every label column is the rule's answer."""

    def first(labels: str) -> str:
        # A face's first non-empty current value of the labels, in (label, position) order,
        # as kaokore.query.faces reads it; the (face_id, label, position) key serves it.
        return (
            f"(SELECT c.value FROM current_labels AS c WHERE c.face_id = f.id "
            f"AND c.label IN ({labels}) AND c.value <> '' "
            f"ORDER BY c.label, c.position LIMIT 1)"
        )

    def face_rows(label: str) -> str:
        return f"c.face_id = f.id AND c.label = {_quote(label)}"

    label_en = _case("c.label", KEY_ENGLISH)
    history_label_en = _case("a.label", KEY_ENGLISH)
    return [
        (
            "annotation_history",
            f"""
        SELECT a.id AS annotation_id, a.face_id, f.key AS face_key, a.label,
               {history_label_en} AS label_en, a.value, a.raw_value, a.position, a.agent,
               a.document_id, d.url AS document_url, d.kind AS document_kind, a.asserted_at,
               a.retracted_at,
               CASE WHEN EXISTS (SELECT 1 FROM current_labels AS c WHERE c.annotation_id = a.id)
                    THEN 1 ELSE 0 END AS is_current,
               CASE WHEN EXISTS (SELECT 1 FROM current_labels AS c WHERE c.annotation_id = a.id)
                         THEN 'current'
                    WHEN a.retracted_at IS NOT NULL THEN 'retracted'
                    WHEN d.superseded_by_id IS NOT NULL THEN 'superseded'
                    ELSE 'outranked' END AS state
        FROM annotations AS a
        JOIN faces AS f ON f.id = a.face_id
        LEFT JOIN documents AS d ON d.id = a.document_id""",
        ),
        (
            "labels_current",
            f"""
        SELECT c.annotation_id, c.face_id, f.key AS face_key, c.label,
               {label_en} AS label_en, c.value, c.raw_value, c.position, c.agent,
               c.document_id, d.url AS document_url, d.kind AS document_kind, c.asserted_at
        FROM current_labels AS c
        JOIN faces AS f ON f.id = c.face_id
        LEFT JOIN documents AS d ON d.id = c.document_id
        WHERE NOT f.deleted""",
        ),
        (
            "face_tags",
            """
        SELECT c.face_id, c.value AS tag
        FROM current_labels AS c
        WHERE c.label = 'タグ' AND c.value <> ''""",
        ),
        (
            "face_periods",
            f"""
        SELECT c.face_id,
               {_group_text(dialect, "CASE WHEN c.value <> '' THEN c.value END")} AS period_raw,
               COALESCE(MIN(CASE WHEN t.precise THEN t.year_from END),
                        MIN(CASE WHEN NOT t.precise THEN t.year_from END)) AS period_from,
               COALESCE(MAX(CASE WHEN t.precise THEN t.year_to END),
                        MAX(CASE WHEN NOT t.precise THEN t.year_to END)) AS period_to
        FROM (SELECT c.face_id, c.value FROM current_labels AS c
              WHERE c.label = '制作年' ORDER BY c.face_id, c.position) AS c
        LEFT JOIN period_terms AS t ON t.value = c.value
        GROUP BY c.face_id""",
        ),
        (
            "faces_current",
            f"""{_label_columns(first)}
               (SELECT {_group_text(dialect, "t.tag")}
                  FROM (SELECT c.value AS tag FROM current_labels AS c
                         WHERE {face_rows("タグ")} AND c.value <> ''
                         ORDER BY c.value) AS t) AS tags,
               {first("'テーマ'")} AS theme,
               (SELECT {_group_text(dialect, "v.value")}
                  FROM (SELECT c.value FROM current_labels AS c
                         WHERE {face_rows("制作年")} AND c.value <> ''
                         ORDER BY c.position) AS v) AS period_raw,
               (SELECT COALESCE(MIN(CASE WHEN t.precise THEN t.year_from END),
                                MIN(CASE WHEN NOT t.precise THEN t.year_from END))
                  FROM current_labels AS c JOIN period_terms AS t ON t.value = c.value
                 WHERE {face_rows("制作年")}) AS period_from,
               (SELECT COALESCE(MAX(CASE WHEN t.precise THEN t.year_to END),
                                MAX(CASE WHEN NOT t.precise THEN t.year_to END))
                  FROM current_labels AS c JOIN period_terms AS t ON t.value = c.value
                 WHERE {face_rows("制作年")}) AS period_to,
               CASE WHEN EXISTS (SELECT 1 FROM current_labels AS c
                                  WHERE c.face_id = f.id AND c.agent = 'machine')
                    THEN 1 ELSE 0 END AS has_machine_labels,{_FACE_COLUMNS}""",
        ),
        *[(name, body) for name, body in _views_0002(dialect) if name in ("work_summary", "pages")],
    ]


#: The views of revision 0005: the same names and columns, plus ``annotation_history.state``.
VIEWS_0005: Final[tuple[str, ...]] = VIEWS_0002

_REVISIONS = {"0002": _views_0002, "0005": _views_0005}


def create_views_sql(dialect: str, revision: str = "0002") -> list[str]:
    """``CREATE VIEW`` statements of ``revision`` for ``dialect`` (sqlite or postgresql)."""
    return [f"CREATE VIEW {name} AS {body.strip()}" for name, body in _REVISIONS[revision](dialect)]


def drop_views_sql() -> list[str]:
    """``DROP VIEW`` statements, dependants first (revisions 0002 and 0005 share names)."""
    return [f"DROP VIEW IF EXISTS {name}" for name in reversed(VIEWS_0002)]


#: What each view holds, for ``kaokore sql --help``, the research guide and the tests.
VIEWS: Final[tuple[ViewDoc, ...]] = (
    ViewDoc(
        name="faces_current",
        row="one face that is not deleted, with its current labels as columns",
        columns=(
            ("face_id", "the face's id (use it with `kaokore query history`)"),
            ("face_key", "the stable key: image service path and square"),
            ("work", "原典: the title of the source work"),
            ("holder", "所蔵: the holding institution"),
            ("holder_en", "the holder's English name"),
            ("record_id", "the holder's record id (DOI, RB..., call number)"),
            ("gender", "性別: 男, 女 or 不明"),
            ("gender_en", "male, female or unknown"),
            ("status", "身分: 貴族, 武士, 庶民, 化身, 僧侶, 動物, 神職, 不明"),
            ("status_en", "noble, warrior, commoner, incarnation, monk, animal, priest, unknown"),
            ("orientation", "向き: 四分の三, 横, 後, 正面, 不明"),
            ("orientation_en", "three-quarter, profile, back, front, unknown"),
            ("tags", "タグ: the current tags joined with ' | '"),
            ("theme", "テーマ, where given"),
            ("period_raw", "制作年: the raw values joined with ' | '"),
            ("period_from", "the earliest year of the date range (None: open or unknown)"),
            ("period_to", "the latest year of the date range (None: open or unknown)"),
            ("has_machine_labels", "1 when a current label was asserted by a machine"),
            ("work_id", "the work's id"),
            ("work_key", "the work's key (manifest URL or record:{holder}:{id})"),
            ("manifest_url", "the IIIF manifest of the work, where known"),
            ("canvas_id", "the page's canvas id, where known"),
            ("canvas_uri", "the canvas URI"),
            ("page_label", "the canvas label"),
            ("page_position", "0-based position of the canvas in the manifest"),
            ("image_service", "the IIIF Image API service of the page"),
            ("member_uri", "the curation member id (canvas#xywh=...)"),
            ("region_x", "the region on the canvas (canvas coordinates)"),
            ("region_y", ""),
            ("region_w", ""),
            ("region_h", ""),
            ("square_x", "the square crop in image pixels"),
            ("square_y", ""),
            ("square_w", ""),
            ("square_h", ""),
            ("blob_sha256", "the stored crop, where fetched"),
            ("crop_status", "pending, ok, failed, or left_out (the square lies outside its image)"),
            ("file_number", "the release file number (%08d.jpg)"),
            ("first_seen", "when the face was first harvested"),
            ("last_seen", "when a source last asserted it"),
        ),
    ),
    ViewDoc(
        name="labels_current",
        row="one current label of a face that is not deleted",
        columns=(
            ("annotation_id", "the annotation's id"),
            ("face_id", ""),
            ("face_key", ""),
            ("label", "the metadata key in Japanese (身分, タグ ...)"),
            ("label_en", "its English name (status, tag ...)"),
            ("value", "the normalised value"),
            ("raw_value", "the value as the source wrote it"),
            ("position", "order among repeated labels (タグ, 制作年)"),
            ("agent", "human or machine"),
            ("document_id", "the document that asserted it"),
            ("document_url", ""),
            ("document_kind", "curation, official_file ..."),
            ("asserted_at", "when it was first asserted"),
        ),
    ),
    ViewDoc(
        name="annotation_history",
        row="every annotation ever stored, current or retracted",
        columns=(
            ("annotation_id", ""),
            ("face_id", ""),
            ("face_key", ""),
            ("label", ""),
            ("label_en", ""),
            ("value", ""),
            ("raw_value", ""),
            ("position", ""),
            ("agent", ""),
            ("document_id", ""),
            ("document_url", ""),
            ("document_kind", ""),
            ("asserted_at", ""),
            ("retracted_at", "when a later version of the document stopped asserting it"),
            ("is_current", "1 when it is the current label (the rule's winner, docs/labels.md)"),
            (
                "state",
                "current; retracted (its document withdrew it); superseded (a newer version of "
                "its dataset replaced it); outranked (another source's newer or human "
                "assertion, or a repeat of a value, won)",
            ),
        ),
    ),
    ViewDoc(
        name="face_tags",
        row="one current, non-empty tag of a face",
        columns=(("face_id", ""), ("tag", "タグ value")),
    ),
    ViewDoc(
        name="face_periods",
        row="a face with 制作年 values, and the year range they mean",
        columns=(
            ("face_id", ""),
            ("period_raw", "the raw values joined with ' | '"),
            ("period_from", ""),
            ("period_to", ""),
        ),
    ),
    ViewDoc(
        name="work_summary",
        row="one work (book or scroll) with its counts",
        columns=(
            ("work_id", ""),
            ("work_key", ""),
            ("work", "the title"),
            ("holder", ""),
            ("record_id", ""),
            ("manifest_url", ""),
            ("license", ""),
            ("attribution", ""),
            ("pages", "canvases known"),
            ("faces", "faces that are not deleted"),
        ),
    ),
    ViewDoc(
        name="pages",
        row="one page image (an image service), with its canvas where known",
        columns=(
            ("image_service_id", ""),
            ("image_service", "the Image API base URL"),
            ("width", "image width in pixels, where known"),
            ("height", ""),
            ("canvas_id", ""),
            ("canvas_uri", ""),
            ("page_label", ""),
            ("position", ""),
            ("work_id", ""),
            ("work", ""),
            ("faces", "faces cut from this page that are not deleted"),
        ),
    ),
)
