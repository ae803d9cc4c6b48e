"""The standard augmentation twice: as torchvision PIL transforms and as batched tensor ops.

The plain path (:class:`~kaokore.learn.data.KaoKore`) decodes a JPEG per item and applies
:func:`train_transform`/:func:`eval_transform`. The fast path keeps decoded uint8 images and
applies :class:`BatchAugment` to a whole batch at once, on whatever device the batch is on, so
the GPU does the augmentation and no JPEG is decoded after the first epoch.

The evaluation transforms of both paths give bit-identical tensors: the cache resizes with the
same PIL filter as ``Resize`` and normalisation runs the same float operations as ``ToTensor``
and ``Normalize``. The training crops are drawn with the same distribution (area fraction,
log-uniform aspect ratio, uniform position, horizontal flip), not the same random numbers.
"""

from __future__ import annotations

import math
from typing import Final

import torch
import torch.nn.functional as F
from torchvision import transforms

__all__ = [
    "CROP_RATIO",
    "CROP_SCALE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "BatchAugment",
    "eval_transform",
    "train_transform",
]

#: ImageNet statistics: the convention of torchvision's reference models and of any local
#: pretrained weights a user brings with ``--weights``.
IMAGENET_MEAN: Final = (0.485, 0.456, 0.406)
IMAGENET_STD: Final = (0.229, 0.224, 0.225)
#: Random resized crop: a milder area range than ImageNet's (0.08, 1), because a KaoKore image
#: is already a tight face crop and small crops would cut away what the label depends on.
CROP_SCALE: Final = (0.5, 1.0)
CROP_RATIO: Final = (3.0 / 4.0, 4.0 / 3.0)


def train_transform(size: int) -> transforms.Compose:
    """The plain path's training augmentation of a PIL image: crop, flip, normalise."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop((size, size), scale=CROP_SCALE, ratio=CROP_RATIO),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def eval_transform(size: int) -> transforms.Compose:
    """The plain path's evaluation transform: resize to ``size`` x ``size`` and normalise."""
    return transforms.Compose(
        [
            transforms.Resize((size, size)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


class BatchAugment:
    """Turn a uint8 batch ``N x 3 x H x W`` into normalised float images, augmented if training.

    Training draws one random resized crop and flip per image; on a GPU all are applied with a
    single ``affine_grid``/``grid_sample`` call, on a CPU with torch's fast uint8 antialiased
    resize per image. Evaluation only converts and normalises (and resizes, antialiased, if the
    stored size differs from ``size``). Parameters are drawn on the CPU from ``generator``, so a
    seed gives the same crop boxes on every device.
    """

    def __init__(
        self,
        size: int,
        *,
        train: bool,
        scale: tuple[float, float] = CROP_SCALE,
        ratio: tuple[float, float] = CROP_RATIO,
        flip_p: float = 0.5,
        mean: tuple[float, float, float] = IMAGENET_MEAN,
        std: tuple[float, float, float] = IMAGENET_STD,
        channels_last: bool = False,
        method: str = "auto",
    ) -> None:
        if method not in ("auto", "grid", "resize"):
            raise ValueError(f"method must be auto, grid or resize, not {method!r}")
        self.size = size
        self.train = train
        self.scale = scale
        self.ratio = ratio
        self.flip_p = flip_p
        self.mean = mean
        self.std = std
        self.channels_last = channels_last
        #: ``resize`` (per image, uint8), ``grid`` (batched grid_sample) or ``auto``: resize on
        #: a CPU, grid elsewhere.
        self.method = method

    def __repr__(self) -> str:
        mode = f"train, scale={self.scale}, ratio=({self.ratio[0]:.3f}, {self.ratio[1]:.3f})"
        return f"BatchAugment(size={self.size}, {mode if self.train else 'eval'})"

    def __call__(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"expected a uint8 batch N x 3 x H x W, got {images.dtype} {tuple(images.shape)}"
            )
        if self.train:
            x = self._augment(images, generator)
        else:
            # The exact operations of ToTensor then Normalize, for bit-identical results.
            x = images.float().div(255)
            if x.shape[-2:] != (self.size, self.size):
                x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True)
            x = x.sub(self._stat(self.mean, x)).div(self._stat(self.std, x))
        # The layout is the caller's choice, whatever path produced x: a model trained
        # channels-last wants its input so, and DDP wants gradients laid out like parameters.
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.contiguous(memory_format=fmt)

    @staticmethod
    def _stat(values: tuple[float, float, float], like: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(values, dtype=like.dtype, device=like.device).view(1, 3, 1, 1)

    def _sample(
        self, n: int, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image: crop left, top, width, height (fractions of the side) and flip (bool)."""

        def uniform(low: float, high: float) -> torch.Tensor:
            return torch.rand(n, generator=generator, dtype=torch.float64) * (high - low) + low

        area = uniform(*self.scale)
        aspect = torch.exp(uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
        # A crop that would not fit is clamped to the full side.
        width = torch.sqrt(area * aspect).clamp(max=1.0)
        height = torch.sqrt(area / aspect).clamp(max=1.0)
        left = uniform(0.0, 1.0) * (1.0 - width)
        top = uniform(0.0, 1.0) * (1.0 - height)
        flip = uniform(0.0, 1.0) < self.flip_p
        return left, top, width, height, flip

    def _augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, _, rows, cols = images.shape
        left, top, width, height, flip = self._sample(n, generator)
        method = self.method
        if method == "auto":
            method = "resize" if images.device.type == "cpu" else "grid"
        if method == "resize":
            # One antialiased uint8 resize per image: torch's vectorised uint8 path, several
            # times faster on a CPU than float grid sampling of the whole batch.
            # Written straight in the layout the caller wants, so no float copy follows.
            fmt = torch.channels_last if self.channels_last else torch.contiguous_format
            out = torch.empty((n, 3, self.size, self.size), dtype=torch.uint8).contiguous(
                memory_format=fmt
            )
            for i in range(n):
                w = max(1, round(float(width[i]) * cols))
                h = max(1, round(float(height[i]) * rows))
                x0 = min(round(float(left[i]) * cols), cols - w)
                y0 = min(round(float(top[i]) * rows), rows - h)
                crop = images[i : i + 1, :, y0 : y0 + h, x0 : x0 + w]
                if (h, w) != (self.size, self.size):
                    crop = F.interpolate(
                        crop, size=(self.size, self.size), mode="bilinear", antialias=True
                    )
                out[i : i + 1] = crop.flip(-1) if bool(flip[i]) else crop
            x = out.float()
        else:
            # One affine_grid/grid_sample for the whole batch: a single kernel on a GPU.
            sign = torch.where(flip, -1.0, 1.0).to(torch.float64)
            theta = torch.zeros(n, 2, 3, dtype=torch.float64)
            theta[:, 0, 0] = width * sign
            theta[:, 0, 2] = (left + width / 2) * 2 - 1
            theta[:, 1, 1] = height
            theta[:, 1, 2] = (top + height / 2) * 2 - 1
            x = images.float()
            grid = F.affine_grid(
                theta.to(device=x.device, dtype=x.dtype),
                [n, 3, self.size, self.size],
                align_corners=False,
            )
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        # (x / 255 - mean) / std in two in-place passes.
        scale = 1.0 / (255.0 * torch.as_tensor(self.std, dtype=torch.float64))
        shift = torch.as_tensor(self.mean, dtype=torch.float64) / torch.as_tensor(
            self.std, dtype=torch.float64
        )
        x.mul_(scale.to(x).view(1, 3, 1, 1)).sub_(shift.to(x).view(1, 3, 1, 1))
        return x
