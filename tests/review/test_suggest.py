"""``kaokore suggest``: a checkpoint's predictions stored as machine annotations, with the
model's identity, the probabilities and training membership; human labels untouched."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kaokore.cli import app
from kaokore.compiler import build_release
from kaokore.db import Annotation, Database
from kaokore.db.models_review import Classifier, Suggestion
from kaokore.errors import UsageError
from tests.compiler.conftest import Filler
from tests.review.conftest import make_run

pytestmark = pytest.mark.torch
runner = CliRunner()


def _human(database: Database) -> list[tuple[int, str, str, object]]:
    with database.session() as session:
        return [
            (a.id, a.label, a.value, a.retracted_at)
            for a in session.scalars(
                select(Annotation).where(Annotation.agent == "human").order_by(Annotation.id)
            )
        ]


@pytest.mark.slow
def test_suggest_stores_machine_annotations_with_the_models_identity(
    database: Database, filled: Filler, tmp_path: Path
) -> None:
    from kaokore.review.suggest import suggest

    release = build_release(database, "1.0", out_dir=tmp_path / "releases", workers=1)
    run = make_run(tmp_path / "run", task="status", release=release.path)
    before = _human(database)
    summary = suggest(database, run, batch_size=8, device="cpu")
    with_crops = sum(1 for _ in (release.path / "images_256").iterdir())
    assert summary.suggested == with_crops and summary.no_crop == 2  # pending, failed
    assert summary.task == "status" and summary.device == "cpu" and summary.training_known
    with (release.path / "labels.csv").open(newline="", encoding="utf-8") as handle:
        train = sum(1 for row in csv.DictReader(handle) if row["set"] == "train")
    assert summary.in_training == train > 0
    assert _human(database) == before

    with database.session() as session:
        classifier = session.scalars(select(Classifier)).one()
        assert classifier.arch == "resnet18" and classifier.task == "status"
        assert (
            classifier.release_version == "1.0" and classifier.release_checksum == release.checksum
        )
        assert len(classifier.checkpoint_sha256) == 64
        assert classifier.classes == ["noble", "warrior", "incarnation", "commoner"]
        rows = session.execute(select(Suggestion, Annotation).join(Annotation)).all()
        assert len(rows) == with_crops
        for suggestion, annotation in rows:
            assert annotation.agent == "machine" and annotation.label == "身分"
            assert annotation.value == suggestion.value in ("貴族", "武士", "化身", "庶民")
            assert abs(sum(suggestion.probabilities) - 1) < 1e-4
            assert suggestion.confidence == pytest.approx(max(suggestion.probabilities), abs=1e-6)
        assert sum(1 for s, _a in rows if s.in_training) == train

    # the same checkpoint again: nothing new
    assert suggest(database, run, device="cpu").suggested == 0


@pytest.mark.slow
def test_suggest_refuses_a_task_the_model_was_not_trained_for(
    database: Database, filled: Filler, tmp_path: Path
) -> None:
    from kaokore.review.suggest import suggest

    run = make_run(tmp_path / "run", task="gender")
    with pytest.raises(UsageError, match="trained for gender, not status"):
        suggest(database, run, task="status")
    with pytest.raises(UsageError, match="no best.pt"):
        suggest(database, tmp_path)


@pytest.mark.slow
def test_suggest_cli_with_filters(database: Database, filled: Filler, tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", task="gender")  # its release is unknown
    result = runner.invoke(
        app, ["suggest", "--model", str(run), "--status", "warrior", "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    assert "training faces unknown" in result.output
    with database.session() as session:
        suggested = session.scalars(select(Suggestion)).all()
        assert suggested and all(s.in_training is None for s in suggested)
        statuses = {
            a.value
            for a in session.scalars(
                select(Annotation).where(
                    Annotation.face_id.in_([s.face_id for s in suggested]),
                    Annotation.label == "身分",
                    Annotation.agent == "human",
                )
            )
        }
    assert statuses == {"武士"}
    wrong = runner.invoke(app, ["suggest", "--model", str(run), "--task", "status"])
    assert wrong.exit_code == 2 and "Error: --task 'status': the model in" in wrong.output
