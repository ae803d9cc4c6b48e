"""A Fréchet distance between two sets of faces, with feature extractors that work offline.

FID (Heusel et al. 2017) fits a Gaussian to the features of each set and reports
``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. The published FID uses an Inception
network trained on ImageNet, whose weights kaokore may not download, so the extractor is one of:

* ``None`` / ``"random"`` (default, always available): a torchvision network with a fixed,
  seeded random initialisation. Random convolutional features still separate image
  statistics (colour, texture, blur) and the numbers are deterministic, but they are **only
  comparable with other kaokore numbers from the same extractor** (name, seed, input size),
  never with published FIDs.
* a run folder of ``kaokore train classify`` (``config.json`` naming the ``arch``, and the
  checkpoint beside it): the classifier's penultimate features, trained on KaoKore faces.
* a file of torchvision weights for ``arch`` (for instance ImageNet weights copied onto the
  machine by hand): the classic setting, up to the choice of network.

The square root of the covariance product is taken through symmetric eigendecompositions
(``S_a^(1/2) S_b S_a^(1/2)`` has the same eigenvalues as ``S_a S_b``), so no SciPy is needed and
the distance of a set to itself is zero up to rounding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kaokore.errors import UsageError

__all__ = [
    "FeatureExtractor",
    "FeatureStats",
    "compute_stats",
    "feature_stats",
    "fid",
    "frechet_distance",
    "load_extractor",
]

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CHECKPOINT_NAMES = ("best.pt", "checkpoint.pt", "model.pt", "best.pth", "model.pth")
_META = ("arch", "image_size", "mean", "std")


@dataclass(frozen=True)
class FeatureStats:
    """The Gaussian fitted to a set's features: mean, covariance, and how many samples."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int


class FeatureExtractor(nn.Module):
    """Images ``(N, 3, H, W)`` in ``[0, 1]`` -> features ``(N, D)``, with a descriptive ``name``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        backbone: nn.Module,
        *,
        name: str,
        input_size: int,
        mean: tuple[float, ...] = _IMAGENET_MEAN,
        std: tuple[float, ...] = _IMAGENET_STD,
    ) -> None:
        super().__init__()
        self.backbone = backbone.eval()
        self.name = name
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float()
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(
                x, size=(self.input_size, self.input_size), mode="bilinear",
                align_corners=False, antialias=True,
            )  # fmt: skip
        x = (x - self.mean) / self.std
        features: torch.Tensor = self.backbone(x)
        return features.flatten(1)


def _replace_head(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Replace the classification head (the last 2-D weight of the state dict) by Identity."""
    heads = [k for k, v in state.items() if k.endswith(".weight") and v.dim() == 2]
    if not heads:
        raise UsageError("the weights hold no linear classification head to take features before")
    *parents, name = heads[-1].removesuffix(".weight").split(".")
    parent = model.get_submodule(".".join(parents)) if parents else model
    setattr(parent, name, nn.Identity())  # also right for Sequential children named "6"


def _build(arch: str, state: dict[str, torch.Tensor] | None) -> nn.Module:
    import torchvision

    if arch not in torchvision.models.list_models(module=torchvision.models):
        raise UsageError(f"unknown torchvision architecture {arch!r}")
    kwargs: dict[str, Any] = {"weights": None}
    if state is not None:
        heads = [v for k, v in state.items() if k.endswith(".weight") and v.dim() == 2]
        kwargs["num_classes"] = int(heads[-1].shape[0]) if heads else 1000
        if arch == "inception_v3":
            kwargs["aux_logits"] = any(k.startswith("AuxLogits.") for k in state)
            kwargs["init_weights"] = False
    model: nn.Module = torchvision.models.get_model(arch, **kwargs)
    return model


def _state_dict_from(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("model_state_dict", "model_state", "state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UsageError(f"{path}: not a state dict of a torchvision model")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def _random_extractor(arch: str, seed: int, input_size: int) -> FeatureExtractor:
    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's random stream untouched
        torch.manual_seed(seed)
        model = _build(arch, None)
    _replace_head(model, model.state_dict())
    return FeatureExtractor(
        model, name=f"random-{arch}-seed{seed}-{input_size}px", input_size=input_size
    )


def load_extractor(
    source: str | Path | None = None,
    *,
    arch: str = "resnet18",
    input_size: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> FeatureExtractor:
    """The feature extractor named by ``source`` (see the module docstring), on ``device``.

    ``source`` is ``None``/``"random"``, a ``kaokore train classify`` run folder (or its
    checkpoint file, with ``config.json`` beside it), or a torchvision weights file for ``arch``.
    """
    if source is None or str(source) == "random":
        extractor = _random_extractor(arch, seed, input_size or 64)
        return extractor.to(device)
    path = Path(source)
    if not path.exists():
        raise UsageError(f"feature extractor {path} does not exist")
    config_path = (path if path.is_dir() else path.parent) / "config.json"
    if path.is_dir():
        found = [path / n for n in _CHECKPOINT_NAMES if (path / n).is_file()]
        if not config_path.is_file() or not found:
            raise UsageError(
                f"{path} is not a `kaokore train classify` run: expected config.json and one of "
                f"{', '.join(_CHECKPOINT_NAMES)}"
            )
        path = found[0]
    config: dict[str, Any] = {}
    if config_path.is_file() and path.parent == config_path.parent:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same here
        raise UsageError(f"{path}: cannot be read as torch weights ({exc})") from exc
    state = _state_dict_from(loaded, path)
    # `kaokore train classify` stores arch, input size and normalisation in best.pt too
    meta = {k: v for k, v in loaded.items() if k in _META} if isinstance(loaded, dict) else {}
    info = {**meta, **{k: v for k, v in config.items() if k in _META}}
    arch = str(info.get("arch", arch))
    model = _build(arch, state)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise UsageError(f"{path}: the weights do not fit a {arch}: {exc}") from exc
    _replace_head(model, state)
    size = input_size or int(info.get("image_size") or 0)
    size = size or (299 if arch == "inception_v3" else 224)
    mean = tuple(float(v) for v in info.get("mean", _IMAGENET_MEAN))
    std = tuple(float(v) for v in info.get("std", _IMAGENET_STD))
    return FeatureExtractor(
        model, name=f"{arch}:{path.name}-{size}px", input_size=size, mean=mean, std=std
    ).to(device)


def feature_stats(features: np.ndarray | torch.Tensor) -> FeatureStats:
    """Mean and covariance (float64) of features ``(N, D)``, ``N >= 2``."""
    array = np.asarray(
        features.detach().cpu().double().numpy()
        if isinstance(features, torch.Tensor)
        else features,
        dtype=np.float64,
    )
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError("feature_stats needs an (N, D) array with N >= 2")
    return FeatureStats(array.mean(axis=0), np.cov(array, rowvar=False), array.shape[0])


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    result: np.ndarray = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    return result


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """The Fréchet distance between the Gaussians ``a`` and ``b`` (never negative)."""
    diff = a.mu - b.mu
    root_a = _sqrt_psd(a.sigma)
    product = root_a @ b.sigma @ root_a
    values = np.linalg.eigvalsh((product + product.T) / 2)
    trace_covmean = float(np.sqrt(np.clip(values, 0, None)).sum())
    value = float(diff @ diff + np.trace(a.sigma) + np.trace(b.sigma) - 2 * trace_covmean)
    return max(value, 0.0)


def compute_stats(
    extractor: FeatureExtractor, images: torch.Tensor, *, batch_size: int = 64
) -> FeatureStats:
    """Features of ``images`` (uint8, or float in ``[0, 1]``) in batches, fitted as a Gaussian."""
    device = extractor.mean.device
    chunks = []
    for start in range(0, images.shape[0], batch_size):
        batch = images[start : start + batch_size].to(device)
        if batch.dtype == torch.uint8:
            batch = batch.float().div(255.0)
        chunks.append(extractor(batch).double().cpu())
    return feature_stats(torch.cat(chunks))


def fid(
    images_a: torch.Tensor,
    images_b: torch.Tensor,
    *,
    extractor: FeatureExtractor | None = None,
    batch_size: int = 64,
) -> float:
    """The Fréchet distance between two sets of images (default: the random extractor)."""
    extractor = extractor or load_extractor()
    return frechet_distance(
        compute_stats(extractor, images_a, batch_size=batch_size),
        compute_stats(extractor, images_b, batch_size=batch_size),
    )
