"""review loop: reviewers, classifiers, suggestions and review decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 02:00:00

Adds the side tables of :mod:`kaokore.db.models_review`: ``reviewers`` (``kaokore users
add``), ``classifiers`` (a checkpoint that made suggestions), ``suggestions`` (a machine
annotation's model, probabilities and training membership) and ``reviews`` (a reviewer's
decision: the human annotation it made and the suggestion it confirmed or overrode).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewers")),
        sa.UniqueConstraint("name", name=op.f("uq_reviewers_name")),
    )
    op.create_table(
        "classifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_sha256", sa.String(length=64), nullable=False),
        sa.Column("arch", sa.String(length=32), nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("image_size", sa.Integer(), nullable=False),
        sa.Column("release_version", sa.String(length=64), nullable=True),
        sa.Column("release_checksum", sa.String(length=64), nullable=True),
        sa.Column("split", sa.String(length=16), nullable=True),
        sa.Column("run_dir", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifiers")),
        sa.UniqueConstraint("checkpoint_sha256", name=op.f("uq_classifiers_checkpoint_sha256")),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("classifier_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("in_training", sa.Boolean(), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_suggestions_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["classifier_id"],
            ["classifiers.id"],
            name=op.f("fk_suggestions_classifier_id_classifiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["face_id"],
            ["faces.id"],
            name=op.f("fk_suggestions_face_id_faces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sa.UniqueConstraint("annotation_id", name=op.f("uq_suggestions_annotation_id")),
        sa.UniqueConstraint(
            "face_id", "classifier_id", name=op.f("uq_suggestions_face_id_classifier_id")
        ),
    )
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suggestions_task_confidence"), ["task", "confidence"], unique=False
        )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_reviews_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["face_id"], ["faces.id"], name=op.f("fk_reviews_face_id_faces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name=op.f("fk_reviews_reviewer_id_reviewers")
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_reviews_suggestion_id_suggestions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("annotation_id", name=op.f("uq_reviews_annotation_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_face_id"), ["face_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reviews_reviewer_id_decided_at"),
            ["reviewer_id", "decided_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_reviewer_id_decided_at"))
        batch_op.drop_index(batch_op.f("ix_reviews_face_id"))
    op.drop_table("reviews")
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestions_task_confidence"))
    op.drop_table("suggestions")
    op.drop_table("classifiers")
    op.drop_table("reviewers")
