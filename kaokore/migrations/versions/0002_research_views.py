"""research layer: face embeddings, period terms and the documented read-only views

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:00:00

Adds ``face_embeddings`` (vectors per face and model, for ``kaokore similar``) and
``period_terms`` (each distinct 制作年 value and its year range), fills ``period_terms`` for
the values already stored, and creates the views of :mod:`kaokore.query.views`
(``faces_current``, ``labels_current``, ``annotation_history``, ``face_tags``,
``face_periods``, ``work_summary``, ``pages``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "face_embeddings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("dims", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["face_id"],
            ["faces.id"],
            name=op.f("fk_face_embeddings_face_id_faces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_embeddings")),
        sa.UniqueConstraint("face_id", "model", name=op.f("uq_face_embeddings_face_id_model")),
    )
    with op.batch_alter_table("face_embeddings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_face_embeddings_model"), ["model"], unique=False)
    op.create_table(
        "period_terms",
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("year_from", sa.Integer(), nullable=True),
        sa.Column("year_to", sa.Integer(), nullable=True),
        sa.Column("precise", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("value", name=op.f("pk_period_terms")),
    )

    from kaokore.db.period_terms import refresh_period_terms
    from kaokore.query.views import create_views_sql

    connection = op.get_bind()
    refresh_period_terms(connection)
    for statement in create_views_sql(connection.dialect.name):
        op.execute(statement)


def downgrade() -> None:
    from kaokore.query.views import drop_views_sql

    for statement in drop_views_sql():
        op.execute(statement)
    op.drop_table("period_terms")
    with op.batch_alter_table("face_embeddings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_embeddings_model"))
    op.drop_table("face_embeddings")
