"""Classification metrics from predictions: accuracy, macro-F1, per-class scores, confusion.

Plain numpy on integer arrays, so results are exact and testable without torch. A class with
no prediction (or no example) gets precision (recall) 0, as scikit-learn's ``zero_division=0``.
Macro-F1 matters on KaoKore because status is imbalanced: a model that never predicts
"incarnation" can still score a high accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ClassificationMetrics", "classification_metrics", "confusion_matrix"]


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """``C[i, j]`` counts examples of true class ``i`` predicted as ``j``."""
    true = np.asarray(y_true, dtype=np.int64).ravel()
    pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} items but y_pred has {pred.size}")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ClassificationMetrics:
    """Scores of one evaluation; ``confusion[i][j]`` counts true ``classes[i]`` predicted ``j``."""

    classes: tuple[str, ...]
    count: int
    accuracy: float
    macro_f1: float
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape written to ``metrics.json``."""
        return {
            "count": self.count,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_class": {
                name: {
                    "precision": self.precision[i],
                    "recall": self.recall[i],
                    "f1": self.f1[i],
                    "support": self.support[i],
                }
                for i, name in enumerate(self.classes)
            },
            "classes": list(self.classes),
            "confusion_matrix": [list(row) for row in self.confusion],
        }


def classification_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str]
) -> ClassificationMetrics:
    """Compute every score of :class:`ClassificationMetrics` from true and predicted indices."""
    matrix = confusion_matrix(y_true, y_pred, len(classes))
    hits = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0
    )
    total = int(matrix.sum())
    return ClassificationMetrics(
        classes=tuple(classes),
        count=total,
        accuracy=float(hits.sum() / total) if total else 0.0,
        macro_f1=float(f1.mean()) if len(classes) else 0.0,
        precision=tuple(float(v) for v in precision),
        recall=tuple(float(v) for v in recall),
        f1=tuple(float(v) for v in f1),
        support=tuple(int(v) for v in actual),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
    )
