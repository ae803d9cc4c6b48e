"""defects: what was wrong upstream, where, and what became of the face

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 02:00:00

Adds ``defects`` (:class:`kaokore.db.models_defects.DocumentDefect`): one row per upstream
defect met while reading a document (a member that cannot be read, an empty metadata label,
a region outside its page, ...), with the document URL, the JSON pointer, the reason and
whether the face was kept or left out. Listed by ``kaokore db status --defects``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "defects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_url", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("pointer", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_defects")),
    )
    op.create_index(op.f("ix_defects_code"), "defects", ["code"], unique=False)
    op.create_index(
        op.f("ix_defects_document_url_stage"), "defects", ["document_url", "stage"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_defects_document_url_stage"), table_name="defects")
    op.drop_index(op.f("ix_defects_code"), table_name="defects")
    op.drop_table("defects")
