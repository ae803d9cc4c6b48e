"""``bench/review.py``'s loop on synthetic data: the review orders it compares are the
queue's, both start alike, and the reviews-to-target read-out interpolates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.torch
BENCH = Path(__file__).resolve().parents[2] / "bench" / "review.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_review", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_review"] = module
    spec.loader.exec_module(module)
    return module


def test_reviews_to_reach(bench: ModuleType) -> None:
    points = [(0, 0.5), (100, 0.6), (200, 0.7)]
    assert bench.reviews_to_reach(points, 0.65) == pytest.approx(150)
    assert bench.reviews_to_reach(points, 0.5) == 0
    assert bench.reviews_to_reach(points, 0.8) is None


@pytest.mark.slow
def test_active_order_learns_a_boundary_faster_than_random(bench: ModuleType) -> None:
    """Two classes split by a line in 2-D, a few points near it: labelling the least
    confident faces first finds the line with fewer reviews."""
    rng = np.random.default_rng(0)
    n = 3000
    features = rng.normal(size=(n, 2)).astype(np.float32)
    labels = (features[:, 0] + 0.3 * features[:, 1] > 0.8).astype(np.int64)
    sets = np.where(np.arange(n) % 5 == 0, "test", "train")
    data = bench.Data(images=[str(i) for i in range(n)], labels=labels, sets=sets, classes=2)
    learner = bench.linear_learner(features, 2, weight_decay=1e-4)
    curves = {
        order: bench.simulate(
            data, learner, order=order, seed=1, initial=10, per_round=10, rounds=4
        )
        for order in ("active", "random")
    }
    assert curves["active"][0] == curves["random"][0]  # the same start
    assert [x for x, _y in curves["active"]] == [0, 10, 20, 30, 40]
    active = np.mean([y for _x, y in curves["active"][1:]])
    random = np.mean([y for _x, y in curves["random"][1:]])
    assert active > random
