"""Revision 0002: its tables match the ORM, its views come and go with it, and
``period_terms`` follows the write path's explicit refresh."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from kaokore.config import Settings
from kaokore.db import migrate, open_database
from kaokore.db.models import Annotation, Base, Document, Face
from kaokore.db.models_research import FaceEmbedding, PeriodTerm
from kaokore.db.writer import labels_changed
from kaokore.query.views import VIEWS_0002

RESEARCH_TABLES = {FaceEmbedding.__tablename__, PeriodTerm.__tablename__}


def _mentions(diff: object) -> set[str]:
    text = repr(diff)
    return {name for name in RESEARCH_TABLES if name in text}


def test_research_tables_match_the_orm(tmp_path: Path) -> None:
    database = open_database(Settings(db_url=f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        with database.engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in diffs if _mentions(d)] == []
        assert set(inspect(database.engine).get_table_names()) >= RESEARCH_TABLES
    finally:
        database.close()


def test_downgrade_and_upgrade(tmp_path: Path) -> None:
    database = open_database(Settings(db_url=f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        migrate.upgrade(database.engine, "0001")  # no-op: already at head
        from alembic import command

        command.downgrade(migrate.alembic_config(database.engine), "0001")
        names = inspect(database.engine)
        assert not (RESEARCH_TABLES & set(names.get_table_names()))
        assert not set(VIEWS_0002) & set(names.get_view_names())
        migrate.upgrade(database.engine)
        names = inspect(database.engine)
        assert set(VIEWS_0002) <= set(names.get_view_names())
    finally:
        database.close()


def test_period_terms_follow_the_write_path_explicitly(tmp_path: Path) -> None:
    """No engine-wide listener: an insert alone adds no term; the write path's call does."""
    database = open_database(Settings(db_url=f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        with database.session() as session:
            face = Face(key="k#0,0,1,1", square_x=0, square_y=0, square_w=1, square_h=1)
            document = Document(url="https://example.org/c.json", kind="curation")
            session.add_all([face, document])
            session.flush()
            session.add(
                Annotation(
                    face_id=face.id,
                    label="制作年",
                    raw_value="慶安4",
                    value="慶安4",
                    document_id=document.id,
                )
            )
            session.flush()
            session.execute(
                insert(Annotation),
                [
                    {
                        "face_id": face.id,
                        "label": "制作年",
                        "raw_value": "江戸前期",
                        "value": "江戸前期",
                        "position": 1,
                        "document_id": document.id,
                    },
                    {"face_id": face.id, "label": "タグ", "raw_value": "鬼", "value": "鬼"},
                ],
            )
            assert session.scalars(select(PeriodTerm)).all() == []
            labels_changed(session, [face.id])
        with database.session() as session:
            terms = {
                t.value: (t.year_from, t.year_to, t.precise)
                for t in session.scalars(select(PeriodTerm))
            }
        assert terms == {"慶安4": (1651, 1651, False), "江戸前期": (1603, 1688, False)}
    finally:
        database.close()
