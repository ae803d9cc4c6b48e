"""The Fréchet distance and its offline feature extractors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytestmark = pytest.mark.torch

from kaokore.errors import UsageError  # noqa: E402
from kaokore.learn.fid import (  # noqa: E402
    FeatureStats,
    compute_stats,
    fid,
    frechet_distance,
    load_extractor,
)
from kaokore.learn.gan.data import load_images  # noqa: E402
from tests.conftest import shared_path  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: the test machines' cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def synthetic_faces(n: int = 48, size: int = 32) -> torch.Tensor:
    """Smooth random colour fields, a stand-in for faces when ../shared is absent."""
    low = torch.rand(n, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bicubic").clamp(0, 1)


def real_faces(n: int = 48, size: int = 32) -> torch.Tensor:
    folder = shared_path("data", "kaokore", "images_256")
    paths = sorted(folder.glob("*.jpg"))[:n]
    return load_images(paths, size).float().div(255)


def distances_with_noise(images: torch.Tensor) -> list[float]:
    extractor = load_extractor(input_size=32)
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(1))
    reference = compute_stats(extractor, images)
    return [
        frechet_distance(reference, compute_stats(extractor, (images + level * noise).clamp(0, 1)))
        for level in (0.0, 0.05, 0.1, 0.2, 0.4)
    ]


def test_a_set_against_itself_is_zero() -> None:
    images = synthetic_faces()
    assert fid(images, images, extractor=load_extractor(input_size=32)) < 1e-6


@pytest.mark.slow
def test_grows_with_noise_on_synthetic_images() -> None:
    values = distances_with_noise(synthetic_faces())
    assert values[0] < 1e-6
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values


def test_grows_with_noise_on_real_faces() -> None:
    values = distances_with_noise(real_faces())
    assert values[0] < 1e-6
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values


def test_matches_the_closed_form_for_diagonal_gaussians() -> None:
    # for diagonal covariances: |mu_a - mu_b|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    a = FeatureStats(np.array([0.0, 1.0, 2.0]), np.diag([1.0, 4.0, 9.0]), 10)
    b = FeatureStats(np.array([1.0, 1.0, 0.0]), np.diag([4.0, 1.0, 1.0]), 10)
    expected = (1 + 0 + 4) + (1 + 1 + 4)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_random_extractor_is_seeded_and_leaves_the_global_stream_alone() -> None:
    images = synthetic_faces(4)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = load_extractor(input_size=32)
    assert torch.equal(torch.rand(1), expected_next)
    assert torch.equal(first(images), load_extractor(input_size=32)(images))
    assert not torch.equal(first(images), load_extractor(input_size=32, seed=1)(images))
    assert "random-resnet18-seed0" in first.name


def test_classifier_run_folder(tmp_path: Path) -> None:
    """A run folder as `kaokore train classify` writes it: config.json and best.pt."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=4)
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": model.state_dict(), "arch": "resnet18", "image_size": 32}, run / "best.pt")
    (run / "config.json").write_text(json.dumps({"arch": "resnet18", "image_size": 32}))
    extractor = load_extractor(run)
    images = synthetic_faces(3)
    features = extractor(images)
    assert features.shape == (3, 512) and extractor.input_size == 32
    model.fc = torch.nn.Identity()
    model.eval()
    normalised = (images - extractor.mean) / extractor.std
    assert torch.allclose(features, model(normalised), atol=1e-5)
    stats = compute_stats(extractor, images)
    assert stats.mu.shape == (512,) and stats.n == 3


def test_torchvision_weights_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "mobilenet.pth"
    torch.save(torchvision.models.mobilenet_v2().state_dict(), weights)
    extractor = load_extractor(weights, arch="mobilenet_v2", input_size=32)
    assert extractor(synthetic_faces(2)).shape == (2, 1280)


def test_unusable_extractors_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_extractor(tmp_path / "missing.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a `kaokore train classify` run"):
        load_extractor(tmp_path / "empty")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not torch")
    with pytest.raises(UsageError, match="cannot be read"):
        load_extractor(junk)
    wrong = tmp_path / "wrong.pt"
    torch.save(torchvision.models.resnet18().state_dict(), wrong)
    with pytest.raises(UsageError, match="do not fit a mobilenet_v2"):
        load_extractor(wrong, arch="mobilenet_v2")
