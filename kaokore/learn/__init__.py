"""Torch datasets and the paper's classification baselines, reading KaoKore release folders.

Needs the ``train`` extra (``pip install 'kaokore[train]'``: torch, torchvision, matplotlib).
Names are exported lazily, so ``import kaokore.learn`` is cheap. Folders are read through
:class:`kaokore.release.ReleaseFolder` (pure Python, usable without torch).

The pieces, one module each:

- :mod:`~kaokore.learn.data`: :class:`KaoKore` (the official loader's behaviour; ``Kaokore``,
  the official class name, is an alias) and
  :class:`FastKaoKore` (decoded once into a memory-mapped uint8 cache, :mod:`~kaokore.learn.cache`).
- :mod:`~kaokore.learn.augment`: the standard augmentation as PIL transforms and as batched
  tensor ops; :mod:`~kaokore.learn.batches`: device batches from either path.
- :mod:`~kaokore.learn.models`, :mod:`~kaokore.learn.train`, :mod:`~kaokore.learn.metrics`,
  :mod:`~kaokore.learn.plots`, :mod:`~kaokore.learn.progress`: one classification run.
- :mod:`~kaokore.learn.baselines`: the 7 x 2 grid of the paper's Table 2.
- :mod:`~kaokore.learn.distributed`: the same code under ``torchrun``.
- :mod:`~kaokore.learn.presets`: the ``official`` and ``scratch`` recipes and their schedules.
- :mod:`~kaokore.learn.faces`: face keys, the release checksum and the leak check.
- :mod:`~kaokore.learn.pretrain`: SimCLR pretraining on faces that are not test faces.
- :mod:`~kaokore.learn.pack`: a folder as one file that fits the GPU machine's 64 MiB.
- :mod:`~kaokore.learn.cli`: ``python -m kaokore.learn``, the same commands needing only
  torch, torchvision, numpy and Pillow (the path the GPU scripts take).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaokore.lazy import lazy_exports

__all__ = [
    "ARCHS",
    "BatchAugment",
    "ClassificationMetrics",
    "FastKaoKore",
    "KaoKore",
    "Kaokore",
    "PAPER_TABLE2",
    "RunResult",
    "TrainConfig",
    "build_model",
    "classification_metrics",
    "eval_transform",
    "run_baselines",
    "train_classifier",
    "train_transform",
]

_WHERE = {
    "ARCHS": "models",
    "PAPER_TABLE2": "baselines",
    "BatchAugment": "augment",
    "ClassificationMetrics": "metrics",
    "FastKaoKore": "data",
    "KaoKore": "data",
    "Kaokore": "data",
    "RunResult": "train",
    "TrainConfig": "train",
    "build_model": "models",
    "classification_metrics": "metrics",
    "eval_transform": "augment",
    "run_baselines": "baselines",
    "train_classifier": "train",
    "train_transform": "augment",
}

if TYPE_CHECKING:
    from kaokore.learn.augment import BatchAugment, eval_transform, train_transform
    from kaokore.learn.baselines import PAPER_TABLE2, run_baselines
    from kaokore.learn.data import FastKaoKore, KaoKore, Kaokore
    from kaokore.learn.metrics import ClassificationMetrics, classification_metrics
    from kaokore.learn.models import ARCHS, build_model
    from kaokore.learn.train import RunResult, TrainConfig, train_classifier


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"kaokore.learn.{home}" for name, home in _WHERE.items()}
)
