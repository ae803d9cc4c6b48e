"""Scores computed by hand on a small confusion matrix."""

from __future__ import annotations

import pytest

from kaokore.learn.metrics import classification_metrics, confusion_matrix


def test_confusion_matrix_rows_are_truth() -> None:
    matrix = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_scores() -> None:
    metrics = classification_metrics([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], ["a", "b", "c", "d"])
    assert metrics.count == 6
    assert metrics.accuracy == pytest.approx(4 / 6)
    assert metrics.precision == pytest.approx((1 / 2, 1 / 2, 1.0, 0.0))
    assert metrics.recall == pytest.approx((1 / 2, 1.0, 2 / 3, 0.0))
    f1 = (0.5, 2 / 3, 0.8, 0.0)
    assert metrics.f1 == pytest.approx(f1)
    assert metrics.macro_f1 == pytest.approx(sum(f1) / 4)  # an absent class counts as 0
    assert metrics.support == (2, 1, 3, 0)
    payload = metrics.to_dict()
    assert payload["per_class"]["c"] == {
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "support": 3,
    }
    assert payload["confusion_matrix"][2] == [1, 0, 2, 0]


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="y_true has 2 items but y_pred has 1"):
        confusion_matrix([0, 1], [0], 2)
