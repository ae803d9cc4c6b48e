"""one read model: current_labels, dataset versions of documents, views on the rule

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:00:00

Adds ``documents.dataset``, ``documents.dataset_version`` and ``documents.superseded_by_id``
(the official ``original_tags.txt`` of each imported version become versions of the dataset
``kaokore-official``, the newest superseding the others), creates ``current_labels`` and
fills it for every face by the rule of :mod:`kaokore.db.truth`, and recreates the views of
:mod:`kaokore.query.views` on it. Nothing stored before is changed or removed: the rule
reads the same annotations, and a downgrade drops only what this revision added.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from kaokore.query.views import create_views_sql, drop_views_sql

    for statement in drop_views_sql():
        op.execute(statement)
    op.add_column("documents", sa.Column("dataset", sa.String(length=64), nullable=True))
    op.add_column("documents", sa.Column("dataset_version", sa.String(length=64), nullable=True))
    op.add_column("documents", sa.Column("superseded_by_id", sa.Integer(), nullable=True))
    op.create_table(
        "current_labels",
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("raw_value", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("asserted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_current_labels_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_current_labels_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["face_id"],
            ["faces.id"],
            name=op.f("fk_current_labels_face_id_faces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("face_id", "label", "position", name=op.f("pk_current_labels")),
    )
    op.create_index(
        op.f("ix_current_labels_label_value"), "current_labels", ["label", "value"], unique=False
    )
    op.create_index(
        op.f("ix_current_labels_annotation_id"), "current_labels", ["annotation_id"], unique=False
    )

    from kaokore.db.current import (
        OFFICIAL_DATASET,
        refresh_current_labels,
        supersede_versions,
    )

    connection = op.get_bind()
    documents = sa.table(
        "documents",
        sa.column("id", sa.Integer()),
        sa.column("url", sa.Text()),
        sa.column("dataset", sa.String()),
        sa.column("dataset_version", sa.String()),
    )
    releases = sa.table(
        "releases",
        sa.column("kind", sa.String()),
        sa.column("version", sa.String()),
        sa.column("options_json", sa.JSON()),
    )
    for version, options in connection.execute(
        sa.select(releases.c.version, releases.c.options_json).where(releases.c.kind == "official")
    ):
        url = (options or {}).get("document_url")
        if url:
            connection.execute(
                sa.update(documents)
                .where(documents.c.url == url)
                .values(dataset=OFFICIAL_DATASET, dataset_version=version)
            )
    supersede_versions(connection, OFFICIAL_DATASET)
    refresh_current_labels(connection)
    for statement in create_views_sql(connection.dialect.name, "0005"):
        op.execute(statement)


def downgrade() -> None:
    from kaokore.query.views import create_views_sql, drop_views_sql

    for statement in drop_views_sql():
        op.execute(statement)
    op.drop_index(op.f("ix_current_labels_annotation_id"), table_name="current_labels")
    op.drop_index(op.f("ix_current_labels_label_value"), table_name="current_labels")
    op.drop_table("current_labels")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of ``documents`` would
    # DROP the table and, with foreign keys on, null every reference to it.
    for column in ("superseded_by_id", "dataset_version", "dataset"):
        op.drop_column("documents", column)
    for statement in create_views_sql(op.get_bind().dialect.name, "0002"):
        op.execute(statement)
