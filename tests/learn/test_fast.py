"""The fast path: decoded once, cached by content, identical to the plain path."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from torch.utils.data import DataLoader  # noqa: E402

from kaokore.errors import ReleaseError  # noqa: E402
from kaokore.learn import cache  # noqa: E402
from kaokore.learn.augment import BatchAugment, eval_transform  # noqa: E402
from kaokore.learn.data import FastKaoKore, KaoKore  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402


@pytest.mark.parametrize("size", [32, 24, 40])
def test_fast_path_equals_plain_path(official_root: Path, cache_dir: Path, size: int) -> None:
    """Same deterministic transform, bit-identical tensors: at, below and above native size."""
    plain = KaoKore(official_root, split="train", transform=eval_transform(size))
    fast = FastKaoKore(official_root, split="train", image_size=size, cache_dir=cache_dir)
    assert fast.entries == plain.entries
    images, labels = fast.tensors()
    batch = BatchAugment(size, train=False)(images)
    for index in range(len(plain)):
        expected, label = plain[index]
        assert torch.equal(batch[index], expected)
        assert int(labels[index]) == label
    # Single items with the tensor transform give the same as the batch.
    item_fast = FastKaoKore(
        official_root,
        transform=lambda x: BatchAugment(size, train=False)(x.unsqueeze(0))[0],
        image_size=size,
        cache_dir=cache_dir,
    )
    assert torch.equal(item_fast[2][0], plain[2][0])


def test_cache_is_built_once_and_keyed_by_content(
    official_root: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = FastKaoKore(official_root, image_size=16, cache_dir=cache_dir)

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(cache, "decode_image", no_decoding)
    again = FastKaoKore(official_root, image_size=16, cache_dir=cache_dir)
    assert again.cache_path == first.cache_path
    assert np.array_equal(again.array, first.array)
    monkeypatch.undo()
    # Another size, another split, or a changed file: another array.
    assert (
        FastKaoKore(official_root, image_size=20, cache_dir=cache_dir).cache_path
        != first.cache_path
    )
    assert (
        FastKaoKore(official_root, split="dev", cache_dir=cache_dir, image_size=16).cache_path
        != first.cache_path
    )
    target = official_root / "images_256" / first.images[0]
    target.write_bytes(target.read_bytes() + b"\0")
    assert (
        FastKaoKore(official_root, image_size=16, cache_dir=cache_dir).cache_path
        != first.cache_path
    )
    assert not list(cache_dir.glob("*.partial.npy"))


def test_release_cache_key_is_the_checksum_file(tmp_path: Path, cache_dir: Path) -> None:
    rows = make_rows({"train": (2, 2)})
    root = make_folder(tmp_path / "kaokore-1.0", rows, release=True)
    key = cache.cache_key(root, [r.image for r in rows], 32)
    # Touching an image (same bytes, new mtime) keeps a release's key: its checksums are the identity.
    image = root / "images_256" / rows[0].image
    image.touch()
    assert cache.cache_key(root, [r.image for r in rows], 32) == key
    (root / "SHA256SUMS").write_text((root / "SHA256SUMS").read_text() + "\n")
    assert cache.cache_key(root, [r.image for r in rows], 32) != key


@pytest.mark.parametrize("workers", [0, 2])
def test_corrupt_jpeg_is_named_and_leaves_no_cache(
    tmp_path: Path, cache_dir: Path, workers: int
) -> None:
    rows = make_rows({"train": (70, 70)})  # more than one chunk of 64
    root = make_folder(tmp_path / "k", rows, size=8)
    bad = root / "images_256" / rows[100].image
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(ReleaseError, match=rf"{bad}: cannot decode the image"):
        FastKaoKore(root, image_size=8, cache_dir=cache_dir, workers=workers)
    assert not list(cache_dir.glob("*.npy"))
    with pytest.raises(ReleaseError, match=rf"{bad}: cannot decode the image"):
        cache.verify_images(root, [r.image for r in rows], workers=workers)


def test_pickles_into_dataloader_workers(official_root: Path, cache_dir: Path) -> None:
    dataset = FastKaoKore(official_root, image_size=16, cache_dir=cache_dir)
    assert dataset.array.shape == (12, 16, 16, 3)  # opened here; workers must map it themselves
    assert pickle.loads(pickle.dumps(dataset))._array is None
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    images = torch.cat([batch for batch, _ in loader])
    assert images.dtype == torch.uint8 and images.shape == (12, 3, 16, 16)
    assert torch.equal(images, dataset.tensors()[0])


@pytest.mark.parametrize("method", ["resize", "grid"])
def test_batch_augment_identity_and_flip(official_root: Path, cache_dir: Path, method: str) -> None:
    images, _ = FastKaoKore(official_root, image_size=32, cache_dir=cache_dir).tensors()
    reference = BatchAugment(32, train=False)(images)
    whole = {"train": True, "scale": (1.0, 1.0), "ratio": (1.0, 1.0), "method": method}
    identity = BatchAugment(32, flip_p=0.0, **whole)  # type: ignore[arg-type]
    assert torch.allclose(identity(images, torch.Generator().manual_seed(0)), reference, atol=1e-5)
    flipped = BatchAugment(32, flip_p=1.0, **whole)  # type: ignore[arg-type]
    assert torch.allclose(
        flipped(images, torch.Generator().manual_seed(0)), reference.flip(-1), atol=1e-5
    )


def test_gpu_and_cpu_crops_agree(official_root: Path, cache_dir: Path) -> None:
    """The batched grid path (used on GPUs) and the per-image path cut the same boxes."""
    images, _ = FastKaoKore(official_root, image_size=32, cache_dir=cache_dir).tensors()
    grid = BatchAugment(32, train=True, method="grid")(images, torch.Generator().manual_seed(3))
    resize = BatchAugment(32, train=True, method="resize")(images, torch.Generator().manual_seed(3))
    # Noise-textured images: same boxes differ only by pixel rounding and interpolation.
    assert (grid - resize).abs().mean() < 0.15
    other = BatchAugment(32, train=True, method="resize")(images, torch.Generator().manual_seed(4))
    assert (grid - other).abs().mean() > (grid - resize).abs().mean()


def test_batch_augment_is_random_but_seeded(official_root: Path, cache_dir: Path) -> None:
    images, _ = FastKaoKore(official_root, image_size=32, cache_dir=cache_dir).tensors()
    augment = BatchAugment(24, train=True, channels_last=True)
    first = augment(images, torch.Generator().manual_seed(1))
    assert first.shape == (12, 3, 24, 24)
    assert first.is_contiguous(memory_format=torch.channels_last)
    plain = BatchAugment(24, train=True)(images, torch.Generator().manual_seed(1))
    assert plain.is_contiguous() and torch.equal(plain, first)
    assert torch.equal(first, augment(images, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, augment(images, torch.Generator().manual_seed(2)))
    with pytest.raises(ValueError, match="uint8 batch"):
        augment(images.float())


def test_training_crops_come_from_the_original_pixels(official_root: Path, cache_dir: Path) -> None:
    """The training split is stored at the images' own size (32 px here), so a random crop is
    cut from the original pixels and resized once to the input size, as RandomResizedCrop does;
    dev and test are stored at the input size."""
    from kaokore.learn.train import TrainConfig, _load_split

    config = TrainConfig(release=official_root, image_size=16, cache_dir=cache_dir)
    train = _load_split(config, "train", 16, validate=True)
    dev = _load_split(config, "dev", 16, validate=True)
    assert isinstance(train, FastKaoKore) and isinstance(dev, FastKaoKore)
    assert train.array.shape[1:] == (32, 32, 3) and dev.array.shape[1:] == (16, 16, 3)
    augment = BatchAugment(16, train=True)
    images, _ = train.batch([0, 1])
    assert augment(images, torch.Generator().manual_seed(0)).shape == (2, 3, 16, 16)
