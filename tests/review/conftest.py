"""Fixtures of the review-loop tests: the compiler's small collection, a reviewer, and a
classifier checkpoint.

The checkpoint is a freshly initialised ResNet-18 at 32 px saved the way ``kaokore train
classify`` saves ``best.pt``: its predictions are arbitrary but real, and it loads and runs in
well under a second, so ``kaokore suggest`` is tested end to end without training.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaokore.db import Database
from kaokore.review.users import add_reviewer
from tests.compiler.conftest import (  # noqa: F401  (fixtures)
    Filler,
    database,
    fill_standard,
    filled,
    filler,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def reviewer(database: Database) -> int:  # noqa: F811
    """Reviewer ``alice`` (password :data:`PASSWORD`); her id."""
    with database.session() as session:
        return add_reviewer(session, "alice", PASSWORD).id


def make_run(
    folder: Path, *, task: str = "gender", release: Path | None = None, seed: int = 0
) -> Path:
    """A run folder with ``best.pt`` and ``config.json`` of an untrained 32 px ResNet-18."""
    torch = pytest.importorskip("torch")
    from kaokore.learn.augment import IMAGENET_MEAN, IMAGENET_STD
    from kaokore.learn.models import build_model
    from kaokore.vocab import class_names

    torch.manual_seed(seed)
    classes = class_names(task)
    model = build_model("resnet18", len(classes), image_size=32)
    folder.mkdir(parents=True)
    torch.save(
        {
            "model": model.state_dict(),
            "arch": "resnet18",
            "task": task,
            "classes": classes,
            "image_size": 32,
            "aux_logits": False,
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
            "epoch": 1,
            "dev_accuracy": 0.5,
        },
        folder / "best.pt",
    )
    config = {"release": str(release) if release else None, "release_version": "1.0", "split": None}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
