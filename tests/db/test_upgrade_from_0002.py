"""``kaokore db upgrade`` migrates a database made by the previous release without loss.

The fixture ``tests/data/kaokore-0002.db.gz`` was made by the code of revision 0002
(``tests/data/make_legacy_db.py``): the bundled mirror harvested with its crops and release
``demo``, then a slice of the official 1.2 and 1.3 files, with the three faces whose
orientation 1.3 changed (後 -> 横).
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.config import Settings
from kaokore.db import open_database
from kaokore.query import faces, history, sql, stats

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "kaokore-0002.db.gz"
TABLES = (
    "sources",
    "documents",
    "works",
    "canvases",
    "image_services",
    "blobs",
    "faces",
    "annotations",
    "releases",
    "release_members",
    "face_embeddings",
    "period_terms",
)


def _dump(path: Path, columns_of: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    connection = sqlite3.connect(path)
    try:
        out = {}
        for table in TABLES:
            names = (columns_of or {}).get(table) or [
                row[1] for row in connection.execute(f"PRAGMA table_info({table})")
            ]
            out[table] = connection.execute(
                f"SELECT {', '.join(names)} FROM {table} ORDER BY rowid"
            ).fetchall()
        return out
    finally:
        connection.close()


def _columns(path: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            for table in TABLES
        }
    finally:
        connection.close()


@pytest.mark.slow
def test_upgrade_keeps_every_row_and_reads_through_the_rule(tmp_path: Path) -> None:
    database_path = tmp_path / "kaokore.db"
    with gzip.open(FIXTURE) as packed, database_path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    before_columns = _columns(database_path)
    before = _dump(database_path)
    assert sqlite3.connect(database_path).execute("SELECT * FROM alembic_version").fetchall() == [
        ("0002",)
    ]

    result = CliRunner().invoke(app, ["--home", str(tmp_path), "db", "upgrade"])
    assert result.exit_code == 0, result.output

    after = _dump(database_path, before_columns)
    for table in TABLES:
        if table == "period_terms":  # rows may be added, never changed or removed
            assert set(before[table]) <= set(after[table])
        else:
            assert after[table] == before[table], table
    database = open_database(Settings(home=tmp_path, db_url=f"sqlite:///{database_path}"))
    try:
        rows = faces(database)
        assert len(rows) == 73
        # the three faces 1.3 relabelled 後 -> 横 (1.2 and 1.3 both said so; 1.3 is newer)
        relabelled = [
            r
            for r in rows
            if any(h.value == "後" and h.state == "retracted" for h in history(database, r.face_id))
        ]
        assert len(relabelled) == 3
        assert {r.orientation for r in relabelled} == {"横"}
        assert {r.work for r in relabelled} == {"大橋の中将", "源氏物語団扇帖"}
        counts = stats(database, by="orientation")
        assert sum(row.count for row in counts.rows) == counts.total == len(rows)
        view = dict(sql(database, "SELECT face_id, orientation FROM faces_current").rows)
        assert {r.face_id: r.orientation for r in rows} == {int(k): v for k, v in view.items()}
        backs = {
            h.value: h.state
            for r in rows
            for h in history(database, r.face_id)
            if h.label == "向き" and h.state == "retracted"
        }
        assert backs == {"後": "retracted"}
        assert sql(database, "SELECT COUNT(*) FROM releases").rows == ((3,),)
    finally:
        database.close()
