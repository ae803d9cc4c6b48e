"""The GAN: networks, augmentation, exact resume, the sampler, and the release reader."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from PIL import Image  # noqa: E402

from kaokore.errors import DatasetNotFoundError, ReleaseError, UsageError  # noqa: E402
from kaokore.learn.gan import (  # noqa: E402
    Discriminator,
    GanConfig,
    GanTrainConfig,
    Generator,
    diff_augment,
    load_checkpoint,
    load_release_images,
    sample,
    train_gan,
)

TINY = GanConfig(res=32, z_dim=16, w_dim=16, mapping_layers=2, channel_max=8)


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """One torch thread: these nets are tiny, and the test machines' cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_release(root: Path, n: int = 12, size: int = 64) -> Path:
    """A tiny fake release: ``n`` smooth colour faces, a third of them in dev and test."""
    images = root / "images_256"
    images.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    rows = []
    for i in range(n):
        low = torch.rand(3, 4, 4, generator=generator)
        face = torch.nn.functional.interpolate(low[None], size=(size, size), mode="bilinear")[0]
        array = face.mul(255).round().byte().permute(1, 2, 0).numpy()
        name = f"{i:08d}.jpg"
        Image.fromarray(array).save(images / name, quality=95)
        rows.append([name, i % 2, i % 4, ("train", "train", "dev", "test")[i % 4]])
    with (root / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "gender", "status", "set"])
        writer.writerows(rows)
    return root


def tiny_config(release: Path, steps: int) -> GanTrainConfig:
    return GanTrainConfig(
        release=str(release), model=TINY, steps=steps, batch_size=4, r1_interval=2,
        log_every=1, checkpoint_every=100, snapshot_every=0, fid_every=0, seed=3,
    )  # fmt: skip


def test_generator_and_discriminator_shapes() -> None:
    torch.manual_seed(0)
    generator, discriminator = Generator(TINY), Discriminator(TINY)
    images = generator(torch.randn(3, TINY.z_dim))
    assert images.shape == (3, 3, 32, 32)
    assert discriminator(images).shape == (3,)
    # one style per layer: 4x4 has a convolution and RGB; every later block two convolutions
    assert generator.num_ws == 2 * len(TINY.block_resolutions)


def test_truncation_pulls_styles_to_the_mean() -> None:
    torch.manual_seed(0)
    generator = Generator(TINY)
    generator.w_avg.copy_(torch.randn(TINY.w_dim))
    z = torch.randn(5, TINY.z_dim)
    free = generator.map(z)
    half = generator.map(z, truncation=0.5)
    assert torch.allclose(half, generator.w_avg + 0.5 * (free - generator.w_avg), atol=1e-5)
    assert torch.allclose(generator.map(z, truncation=0.0)[0, 0], generator.w_avg)


def test_noise_modes() -> None:
    torch.manual_seed(0)
    generator = Generator(TINY)
    for block in generator.blocks:  # give the noise an effect
        block.conv1.noise_strength.data.fill_(1.0)
    z = torch.randn(2, TINY.z_dim)
    const = generator(z, noise_mode="const")
    assert torch.equal(const, generator(z, noise_mode="const"))
    first = generator(z, generator=torch.Generator().manual_seed(1))
    again = generator(z, generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, again)
    assert not torch.equal(first, generator(z, generator=torch.Generator().manual_seed(2)))


def test_diff_augment_is_random_and_differentiable() -> None:
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x)
    assert y.shape == x.shape
    assert not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(diff_augment(x, ""), x)
    with pytest.raises(ValueError, match="Unknown augmentation"):
        diff_augment(x, "rotate")


def test_release_reader(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    train = load_release_images(release, split="train", size=16)
    assert train.shape == (6, 3, 16, 16) and train.dtype == torch.uint8
    assert load_release_images(release, split="all", size=16, limit=5).shape[0] == 5
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path / "nothing")):
        load_release_images(tmp_path / "nothing")
    (release / "images_256" / "00000000.jpg").unlink()
    with pytest.raises(ReleaseError, match="00000000.jpg"):
        load_release_images(release, split="train")


def test_training_resumes_to_the_same_state(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    straight = train_gan(tiny_config(release, 4), out=tmp_path / "a", device="cpu")
    train_gan(tiny_config(release, 2), out=tmp_path / "b", device="cpu")
    resumed = train_gan(tiny_config(release, 4), out=tmp_path / "b", device="cpu", resume=True)
    a = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert a["step"] == b["step"] == 4
    for net in ("G", "D", "G_ema"):
        for name, tensor in a[net].items():
            assert torch.equal(tensor, b[net][name]), f"{net}.{name} differs after resume"
    losses = [(h["loss_d"], h["loss_g"]) for h in straight.history]
    assert losses == [(h["loss_d"], h["loss_g"]) for h in resumed.history]
    assert len(losses) == 4 and len(set(losses)) == 4  # real steps, not one repeated value


def test_time_budget_stops_early_and_saves(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    config = GanTrainConfig.from_dict({**tiny_config(release, 1000).to_dict(), "time_budget": 0.0})
    summary = train_gan(config, out=tmp_path / "run", device="cpu")
    assert summary.step == 1 and load_checkpoint(summary.checkpoint)["step"] == 1


def test_training_refuses_to_overwrite_or_to_resume_nothing(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    with pytest.raises(UsageError, match="no checkpoint"):
        train_gan(tiny_config(release, 1), out=tmp_path / "run", device="cpu", resume=True)
    train_gan(tiny_config(release, 1), out=tmp_path / "run", device="cpu")
    with pytest.raises(UsageError, match="--resume"):
        train_gan(tiny_config(release, 2), out=tmp_path / "run", device="cpu")


def test_sampler_writes_the_grid_and_single_images(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    summary = train_gan(tiny_config(release, 1), out=tmp_path / "run", device="cpu")
    result = sample(summary.checkpoint, out=tmp_path / "s", n=6, truncation=0.7, device="cpu")
    assert len(result.images) == 6 and result.step == 1
    for path in result.images:
        with Image.open(path) as image:
            assert image.size == (32, 32) and image.mode == "RGB"
    with Image.open(result.grid) as grid:  # 3 x 3 tiles of 32 px with 2 px padding
        assert grid.size == (3 * 34 + 2, 2 * 34 + 2)
    again = sample(summary.checkpoint, out=tmp_path / "t", n=6, truncation=0.7, device="cpu")
    assert again.grid.read_bytes() == result.grid.read_bytes()  # seeded
