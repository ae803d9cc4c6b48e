#!/usr/bin/env python3
"""The review loop, simulated: active-learning order against random order.

A simulated reviewer answers with the official KaoKore labels (the oracle). The labels of
most of the official training split are hidden; a classifier is trained on the rest, suggests
a class for every hidden face, the reviewer labels ``--per-round`` faces chosen in the
review queue's order (:func:`kaokore.review.queue.least_confident_order`, the order
``kaokore web --review`` gives reviewers) or in its random order
(:func:`kaokore.review.queue.random_order`), the classifier is retrained with them, and so on.
After every round the accuracy on the official test split is measured. Both orders start
from the same labelled faces and are repeated over ``--seeds``.

Two learners:

* ``linear`` (default, CPU-sized, a few minutes on two cores): each face is described by
  kaokore's own ``hist-hog`` vector (a colour histogram and HOG on a 64 px image, the
  ``kaokore similar`` embedding), and a softmax regression is retrained from scratch each
  round. The vectors are computed once and cached.
* ``cnn`` (for a GPU): a ResNet-18 from :mod:`kaokore.learn.models` trained from scratch
  each round on ``--image-size`` images, e.g. ``--learner cnn --image-size 128 --epochs 15
  --initial 500 --per-round 250 --rounds 12``.

Prints a table and the reviews each order needs to reach the accuracy random order ends at;
writes the figure and a JSON of every point.

    python bench/review.py [--task gender] [--learner linear] [--rounds 10] [--per-round 100]
        [--initial 200] [--seeds 3] [--figure docs/figures/review_loop_TASK.png]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kaokore.query.embeddings import hist_hog  # noqa: E402
from kaokore.review.queue import least_confident_order, random_order  # noqa: E402

SHARED = Path(os.environ.get("KAOKORE_SHARED", REPO.parent / "shared")) / "data" / "kaokore"
ORDERS = ("active", "random")


@dataclass(frozen=True)
class Data:
    """Images, labels and official sets of one version."""

    images: list[str]
    labels: np.ndarray
    sets: np.ndarray
    classes: int


def load_data(version: str, task: str) -> Data:
    path = SHARED / "official" / f"v{version}" / "labels.csv"
    if not path.is_file():
        raise SystemExit(f"needs {path} (the official KaoKore files in ../shared)")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # the shared folder holds the images of one version; faces without an image are left out
    present = {p.name for p in (SHARED / "images_256").glob("*.jpg")}
    missing = sum(1 for row in rows if row["image"] not in present)
    rows = [row for row in rows if row["image"] in present]
    if missing:
        print(f"{missing} faces of v{version} have no image in {SHARED / 'images_256'}: left out")
    labels = np.array([int(row[task]) for row in rows], dtype=np.int64)
    return Data(
        images=[row["image"] for row in rows],
        labels=labels,
        sets=np.array([row["set"] for row in rows]),
        classes=int(labels.max()) + 1,
    )


def hist_hog_features(data: Data, cache: Path) -> np.ndarray:
    """kaokore's ``hist-hog`` vector of every image (cached as .npy)."""
    cache.mkdir(parents=True, exist_ok=True)
    names = hashlib.sha256("\n".join(data.images).encode()).hexdigest()[:16]
    key = cache / f"hist-hog-{names}.npy"
    if key.is_file():
        return np.load(key)
    started = time.perf_counter()
    vectors = []
    for name in data.images:
        with Image.open(SHARED / "images_256" / name) as image:
            vectors.append(hist_hog(image))
    features = np.stack(vectors).astype(np.float32)
    np.save(key, features)
    print(f"hist-hog vectors of {len(features)} images: {time.perf_counter() - started:.0f} s")
    return features


def pixels(data: Data, size: int, cache: Path) -> np.ndarray:
    """uint8 N x 3 x size x size images (cached as .npy), for the CNN learner."""
    cache.mkdir(parents=True, exist_ok=True)
    names = hashlib.sha256("\n".join(data.images).encode()).hexdigest()[:16]
    key = cache / f"pixels-{size}-{names}.npy"
    if key.is_file():
        return np.load(key)
    out = np.zeros((len(data.images), 3, size, size), dtype=np.uint8)
    for i, name in enumerate(data.images):
        with Image.open(SHARED / "images_256" / name) as image:
            small = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
            out[i] = np.asarray(small).transpose(2, 0, 1)
    np.save(key, out)
    return out


# A learner: fit on (indices, labels), return class probabilities for indices.
Learner = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def linear_learner(features: np.ndarray, classes: int, *, weight_decay: float) -> Learner:
    """Softmax regression on standardised features, full-batch L-BFGS, from scratch."""
    x_all = torch.from_numpy(features)

    def run(train: np.ndarray, y: np.ndarray, predict: np.ndarray, seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        x = x_all[torch.from_numpy(train)]
        mean, std = x.mean(0), x.std(0) + 1e-6
        x = (x - mean) / std
        target = torch.from_numpy(y)
        weight = torch.zeros(x.shape[1], classes, requires_grad=True)
        bias = torch.zeros(classes, requires_grad=True)
        optimizer = torch.optim.LBFGS([weight, bias], max_iter=200, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(x @ weight + bias, target)
            loss = loss + weight_decay * (weight**2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            z = (x_all[torch.from_numpy(predict)] - mean) / std
            return torch.softmax(z @ weight + bias, dim=1).numpy()

    return run


def cnn_learner(images: np.ndarray, classes: int, *, epochs: int, device: str) -> Learner:
    """A ResNet-18 from scratch per round, Adam, flips, on ``device``."""
    from kaokore.learn.models import build_model

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    data = torch.from_numpy(images)

    def batch(indices: np.ndarray) -> torch.Tensor:
        x = data[torch.from_numpy(indices)].float().div(255)
        return ((x - mean) / std).to(device)

    def run(train: np.ndarray, y: np.ndarray, predict: np.ndarray, seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        model = build_model("resnet18", classes, image_size=images.shape[-1]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        target = torch.from_numpy(y).to(device)
        rng = np.random.default_rng(seed)
        model.train()
        for _epoch in range(epochs):
            order = rng.permutation(len(train))
            for start in range(0, len(order), 64):
                pick = order[start : start + 64]
                if len(pick) < 2:
                    continue
                x = batch(train[pick])
                flip = torch.rand(len(pick), device=device) < 0.5
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
                loss = torch.nn.functional.cross_entropy(model(x), target[pick])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(predict), 256):
                out.append(torch.softmax(model(batch(predict[start : start + 256])), 1).cpu())
        return torch.cat(out).numpy()

    return run


def simulate(
    data: Data,
    learner: Learner,
    *,
    order: str,
    seed: int,
    initial: int,
    per_round: int,
    rounds: int,
) -> list[tuple[int, float]]:
    """(reviews so far, test accuracy) after each round of one simulated loop."""
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(data.sets == "train")
    test = np.flatnonzero(data.sets == "test")
    labelled = rng.choice(pool, size=initial, replace=False)
    hidden = np.setdiff1d(pool, labelled)
    points = []
    for step in range(rounds + 1):
        # one fit; probabilities for the test faces and the hidden ones at once
        probs = learner(labelled, data.labels[labelled], np.concatenate([test, hidden]), seed)
        accuracy = float((probs[: len(test)].argmax(1) == data.labels[test]).mean())
        points.append((step * per_round, accuracy))
        if step == rounds or len(hidden) == 0:
            break
        hidden_probs = probs[len(test) :]
        keys = [int(i) for i in hidden]
        if order == "active":
            ranked = least_confident_order([float(p.max()) for p in hidden_probs], keys)
        else:
            ranked = random_order(keys, seed * 1000 + step)
        reviewed = hidden[np.array(ranked[:per_round])]  # the oracle answers these
        labelled = np.concatenate([labelled, reviewed])
        hidden = np.setdiff1d(hidden, reviewed)
    return points


def reviews_to_reach(points: Sequence[tuple[int, float]], target: float) -> float | None:
    """Reviews at which the (mean) curve first reaches ``target``, interpolated linearly."""
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if y0 >= target:
            return float(x0)
        if y1 >= target:
            return x0 + (x1 - x0) * (target - y0) / (y1 - y0)
    if points and points[-1][1] >= target:
        return float(points[-1][0])
    return None


def plot(curves: dict[str, np.ndarray], reviews: np.ndarray, title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for order, label in (("active", "least confident first"), ("random", "random order")):
        runs = curves[order]
        mean, std = runs.mean(0), runs.std(0)
        ax.plot(reviews, mean, marker="o", markersize=3, label=label)
        ax.fill_between(reviews, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("reviews (labels given by the simulated reviewer)")
    ax.set_ylabel("test accuracy (official test split)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("gender", "status"), default="gender")
    parser.add_argument(
        "--version", default="1.2", help="official version whose labels and sets are used"
    )
    parser.add_argument("--learner", choices=("linear", "cnn"), default="linear")
    parser.add_argument("--initial", type=int, default=200, help="labelled faces before any review")
    parser.add_argument("--per-round", type=int, default=100, help="reviews per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--weight-decay", type=float, default=0.1, help="linear learner's L2 weight"
    )
    parser.add_argument("--image-size", type=int, default=64, help="cnn learner's image side")
    parser.add_argument("--epochs", type=int, default=10, help="cnn learner's epochs per round")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=REPO / ".bench-cache")
    parser.add_argument(
        "--figure", type=Path, default=None, help="[default: docs/figures/review_loop_TASK.png]"
    )
    parser.add_argument("--json", type=Path, default=None, help="write every point here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.figure is None:
        args.figure = REPO / "docs" / "figures" / f"review_loop_{args.task}.png"
    started = time.perf_counter()
    data = load_data(args.version, args.task)
    if args.learner == "linear":
        learner = linear_learner(
            hist_hog_features(data, args.cache), data.classes, weight_decay=args.weight_decay
        )
        what = "hist-hog + softmax regression"
    else:
        learner = cnn_learner(
            pixels(data, args.image_size, args.cache),
            data.classes,
            epochs=args.epochs,
            device=args.device,
        )
        what = f"ResNet-18 at {args.image_size} px, {args.epochs} epochs/round ({args.device})"
    curves: dict[str, list[list[float]]] = {order: [] for order in ORDERS}
    reviews: list[int] = []
    for seed in range(args.seeds):
        for order in ORDERS:
            points = simulate(
                data,
                learner,
                order=order,
                seed=seed,
                initial=args.initial,
                per_round=args.per_round,
                rounds=args.rounds,
            )
            reviews = [x for x, _y in points]
            curves[order].append([y for _x, y in points])
            print(
                f"seed {seed} {order:6s}: " + " ".join(f"{y:.3f}" for _x, y in points), flush=True
            )
    arrays = {order: np.array(runs) for order, runs in curves.items()}
    x = np.array(reviews)
    means = {order: arrays[order].mean(0) for order in ORDERS}
    target = float(means["random"][-1])
    need = {
        order: reviews_to_reach(list(zip(reviews, means[order], strict=True)), target)
        for order in ORDERS
    }
    title = (
        f"KaoKore {args.version} {args.task}: {what}\n{args.initial} labelled at the start, "
        f"{args.per_round} reviews per round, mean and sd of {args.seeds} seeds"
    )
    plot(arrays, x, title, args.figure)
    print()
    print(f"| reviews | {' | '.join(str(r) for r in reviews)} |")
    print("|---" * (len(reviews) + 1) + "|")
    for order, label in (("active", "least confident first"), ("random", "random order")):
        print(f"| {label} | " + " | ".join(f"{m:.3f}" for m in means[order]) + " |")
    print()
    print(
        f"target: {target:.3f} (random order's accuracy after {reviews[-1]} reviews, mean of {args.seeds} seeds)"
    )
    for order in ORDERS:
        got = need[order]
        print(
            f"  {order}: reaches it after {'not reached' if got is None else f'{got:.0f}'} reviews"
        )
    if need["active"] is not None and need["random"]:
        print(
            f"  active learning needs {need['active'] / need['random']:.2f}x the reviews of random order"
        )
    seconds = time.perf_counter() - started
    print(
        f"{seconds:.0f} s on {platform.processor() or platform.machine()}, {args.threads} threads; figure {args.figure}"
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "reviews": reviews,
                    "curves": {o: arrays[o].tolist() for o in ORDERS},
                    "target": target,
                    "reviews_to_target": need,
                    "seconds": seconds,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
