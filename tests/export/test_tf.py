"""The tf.data loader: the same faces as the release and as ``KaoKore``, and Keras trains on it.

TensorFlow is slow to import, so every test that needs it lives in this module.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# torchvision first: its triton (LLVM) crashes the process if loaded after TensorFlow's.
with contextlib.suppress(ImportError):  # the train extra is optional
    import torchvision  # noqa: F401
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow", reason="needs the tf extra (tensorflow-cpu)")

from kaokore.errors import DatasetNotFoundError, ReleaseError  # noqa: E402
from kaokore.export import export_imagefolder  # noqa: E402
from kaokore.learn.tf import dataset, entries  # noqa: E402
from kaokore.vocab import class_names  # noqa: E402
from tests.conftest import shared_path  # noqa: E402
from tests.export.conftest import label_rows  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402

pytestmark = pytest.mark.tf
SETS = ("train", "dev", "test")

try:  # tiny graphs on a shared CPU: one thread each is fastest
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
except RuntimeError:  # the runtime was started by an earlier test
    pass


def pil_pixels(path: Path) -> np.ndarray:
    """What KaoKore (and ImageFolder) decode: PIL, converted to RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def elements(data: object) -> list[tuple[np.ndarray, int]]:
    return [(image.numpy(), int(label.numpy())) for image, label in data]  # type: ignore[attr-defined]


@pytest.mark.parametrize("split", SETS)
@pytest.mark.slow
def test_elements_are_the_release_faces_in_labels_csv_order(
    built_release: Path, split: str
) -> None:
    rows = [r for r in label_rows(built_release) if r["set"] == split]
    got = elements(dataset(built_release, split, "status", shuffle=False))
    assert len(got) == len(rows)
    for (image, label), row in zip(got, rows, strict=True):
        assert image.dtype == np.uint8 and image.shape == (256, 256, 3)
        assert np.array_equal(image, pil_pixels(built_release / "images_256" / row["image"]))
        assert label == int(row["status"])


@pytest.mark.torch
@pytest.mark.parametrize("split", SETS)
@pytest.mark.parametrize("split_file", [None, "by-work"])
def test_torch_tf_and_imagefolder_give_the_same_sample(
    built_release: Path, tmp_path: Path, split: str, split_file: str | None
) -> None:
    pytest.importorskip("torchvision", reason="needs the train extra (torchvision)")
    from torchvision.datasets import ImageFolder

    from kaokore.learn.data import KaoKore

    category = "status"
    torch_data = KaoKore(built_release, split, category, split_file=split_file)
    tf_data = elements(
        dataset(built_release, split, category, split_file=split_file, shuffle=False)
    )
    export_imagefolder(built_release, tmp_path / "if", category=category, split=split_file)
    folder = ImageFolder(str(tmp_path / "if" / split), allow_empty=True)
    where = {Path(path).name: i for i, (path, _) in enumerate(folder.samples)}
    classes = class_names(category)
    assert len(torch_data) == len(tf_data) == len(folder) > 0
    for index in range(len(torch_data)):
        image, label = torch_data[index]
        tf_image, tf_label = tf_data[index]
        folder_image, folder_label = folder[where[torch_data.images[index]]]
        pixels = np.asarray(image)
        assert np.array_equal(pixels, tf_image)
        assert np.array_equal(pixels, np.asarray(folder_image))
        assert label == tf_label
        assert classes[label] == folder.classes[folder_label]


def test_the_official_download_layout_skips_missing_images_like_kaokore(tmp_path: Path) -> None:
    rows = make_rows({"train": (5, 4), "dev": (2, 2), "test": (2, 2)})
    absent = {rows[0].image, rows[-1].image}
    root = make_folder(tmp_path / "k", rows, skip_images=absent)
    for split in SETS:
        expected = [
            (str(root / "images_256" / r.image), r.gender)
            for r in rows
            if r.set == split and r.image not in absent
        ]
        assert entries(root, split) == expected
        got = elements(dataset(root, split, image_size=None, shuffle=False))
        assert [label for _, label in got] == [label for _, label in expected]
        for (image, _), (path, _) in zip(got, expected, strict=True):
            assert np.array_equal(image, pil_pixels(Path(path)))
    missing_split = next(r.set for r in rows if r.image in absent)
    with pytest.raises(ReleaseError, match="the image is missing"):
        dataset(root, missing_split, strict=True)
    with pytest.raises(DatasetNotFoundError, match="kaokore build"):
        dataset(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        dataset(root, "val")


def test_real_kaokore_faces_decode_exactly_as_pil(tmp_path: Path) -> None:
    images = shared_path("data", "kaokore", "images_256")
    labels = shared_path("data", "kaokore", "official", "v1.2", "labels.csv")
    root = tmp_path / "official"
    (root / "images_256").mkdir(parents=True)
    with labels.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if (images / r["image"]).is_file()][:16]
    with (root / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "gender", "status", "set"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "set": "train"})
            shutil.copyfile(images / row["image"], root / "images_256" / row["image"])
    got = elements(dataset(root, "train", "gender", shuffle=False))
    assert len(got) == len(rows)
    for (image, label), row in zip(got, rows, strict=True):
        assert np.array_equal(image, pil_pixels(root / "images_256" / row["image"]))
        assert label == int(row["gender"])


def test_train_shuffles_by_default_reproducibly_with_a_seed(built_release: Path) -> None:
    def order(**kwargs: object) -> list[int]:
        data = dataset(built_release, "train", "status", image_size=None, **kwargs)
        return [int(label) for _, label in data]

    plain = order(shuffle=False)
    first, again = order(seed=3), order(seed=3)
    assert first == again and first != plain and sorted(first) == sorted(plain)
    dev = [r for r in label_rows(built_release) if r["set"] == "dev"]
    eval_labels = [int(label) for _, label in dataset(built_release, "dev", "status")]
    assert eval_labels == [int(r["status"]) for r in dev]  # no shuffle for eval sets


def test_batches_and_resizing(built_release: Path) -> None:
    data = dataset(built_release, "train", image_size=64, batch_size=8, shuffle=False)
    batches = list(data)
    total = sum(1 for r in label_rows(built_release) if r["set"] == "train")
    assert [int(b[0].shape[0]) for b in batches] == [8] * (total // 8) + (
        [total % 8] if total % 8 else []
    )
    images, labels = batches[0]
    assert images.dtype == tf.uint8 and tuple(images.shape[1:]) == (64, 64, 3)
    assert labels.dtype == tf.int64
    first = label_rows(built_release)[0]["image"]
    with Image.open(built_release / "images_256" / first) as image:
        pil = np.asarray(image.resize((64, 64), Image.Resampling.BILINEAR), dtype=np.int16)
    assert np.abs(images[0].numpy().astype(np.int16) - pil).mean() < 3  # close, not identical
    dropped = dataset(built_release, "train", batch_size=8, drop_remainder=True, shuffle=False)
    assert sum(1 for _ in dropped) == total // 8


@pytest.mark.slow
def test_a_keras_model_trains_on_it(tmp_path: Path) -> None:
    rows = make_rows({"train": (8, 8), "dev": (2, 2), "test": (2, 2)})
    root = make_folder(tmp_path / "learnable", rows)
    keras = tf.keras
    train = dataset(root, "train", image_size=32, batch_size=8, seed=0)
    model = keras.Sequential(
        [
            keras.layers.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(train, epochs=1, verbose=0, shuffle=False)  # the dataset shuffles
    assert np.isfinite(history.history["loss"][0])
    dev = dataset(root, "dev", image_size=32, batch_size=4)
    loss, accuracy = model.evaluate(dev, verbose=0)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0


def test_keras_reads_the_imagefolder_export(built_release: Path, tmp_path: Path) -> None:
    export_imagefolder(built_release, tmp_path / "if", category="status")
    data = tf.keras.utils.image_dataset_from_directory(
        tmp_path / "if" / "train", image_size=(256, 256), batch_size=None, shuffle=False
    )
    assert data.class_names == sorted(class_names("status"))
    got = Counter(data.class_names[int(label)] for _, label in data)
    names = class_names("status")
    rows = [r for r in label_rows(built_release) if r["set"] == "train"]
    assert got == Counter(names[int(r["status"])] for r in rows)
