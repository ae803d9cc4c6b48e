"""The paper's seven torchvision reference classifiers, built offline, and their loss.

Models are built with ``weights=None`` (nothing is ever downloaded); ``--weights FILE`` loads a
local state dict into everything but the classification head, which is always new since the
KaoKore classes are not the weights' classes. Inception-v3 follows the paper's setup: 299 px
input and auxiliary logits added to the loss with weight 0.4 (torchvision's reference recipe);
below 299 px its auxiliary head cannot run, so it is left out and recorded in the run config.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import torch
from torch import nn
from torchvision import models

from kaokore.errors import ArgumentError, UsageError

__all__ = [
    "ARCHS",
    "AUX_LOSS_WEIGHT",
    "INCEPTION_AUX_MIN_SIZE",
    "PAPER_NAMES",
    "build_model",
    "default_image_size",
    "load_weights",
    "logits_and_loss",
    "min_image_size",
    "uses_aux_logits",
]

ARCHS: Final[tuple[str, ...]] = (
    "vgg11",
    "alexnet",
    "resnet18",
    "resnet34",
    "mobilenet_v2",
    "densenet121",
    "inception_v3",
)
#: How the paper's Table 2 names each architecture.
PAPER_NAMES: Final[dict[str, str]] = {
    "vgg11": "VGG-11",
    "alexnet": "AlexNet",
    "resnet18": "ResNet-18",
    "resnet34": "ResNet-34",
    "mobilenet_v2": "MobileNet-v2",
    "densenet121": "DenseNet-121",
    "inception_v3": "Inception-v3",
}
#: Smallest input whose auxiliary classifier still has a 5x5 map to convolve.
INCEPTION_AUX_MIN_SIZE: Final = 299
AUX_LOSS_WEIGHT: Final = 0.4
#: Smallest input each network accepts (its pooling stages must keep at least one pixel).
_MIN_SIZE: Final[dict[str, int]] = {"alexnet": 63, "inception_v3": 75}
#: Parameter-name prefixes of each network's classification head.
_HEADS: Final[dict[str, tuple[str, ...]]] = {
    "vgg11": ("classifier.6.",),
    "alexnet": ("classifier.6.",),
    "resnet18": ("fc.",),
    "resnet34": ("fc.",),
    "mobilenet_v2": ("classifier.1.",),
    "densenet121": ("classifier.",),
    "inception_v3": ("fc.", "AuxLogits.fc."),
}


def default_image_size(arch: str) -> int:
    """The input size of the paper: the 256 px images as they are, 299 px for Inception-v3."""
    return INCEPTION_AUX_MIN_SIZE if arch == "inception_v3" else 256


def min_image_size(arch: str) -> int:
    """The smallest ``--image-size`` that ``arch`` accepts."""
    return _MIN_SIZE.get(arch, 32)


def uses_aux_logits(arch: str, image_size: int) -> bool:
    """Whether the auxiliary classifier is built (Inception-v3 at 299 px or more)."""
    return arch == "inception_v3" and image_size >= INCEPTION_AUX_MIN_SIZE


def build_model(
    arch: str, num_classes: int, *, image_size: int, weights: Path | None = None
) -> nn.Module:
    """A freshly initialised ``arch`` for ``num_classes``, with ``weights`` loaded if given."""
    if arch not in ARCHS:
        raise UsageError(f"Unknown architecture {arch!r}. Valid values are {', '.join(ARCHS)}.")
    if image_size < min_image_size(arch):
        raise UsageError(
            f"{arch} needs --image-size {min_image_size(arch)} or more (got {image_size})."
        )
    model: nn.Module
    if arch == "inception_v3":
        model = models.inception_v3(
            weights=None,
            num_classes=num_classes,
            aux_logits=uses_aux_logits(arch, image_size),
            init_weights=True,
            transform_input=False,
        )
    else:
        model = models.get_model(arch, weights=None, num_classes=num_classes)
    if weights is not None:
        load_weights(model, arch, weights)
    return model


def _state_dict_of(loaded: Any, path: Path) -> Mapping[str, torch.Tensor]:
    if isinstance(loaded, Mapping) and isinstance(loaded.get("model"), Mapping):
        loaded = loaded["model"]  # a checkpoint written by `kaokore train classify`
    if not isinstance(loaded, Mapping) or not all(isinstance(k, str) for k in loaded):
        raise ArgumentError("weights", str(path), "not a state dict (a mapping of parameter names)")
    return {key.removeprefix("module."): value for key, value in loaded.items()}


def load_weights(model: nn.Module, arch: str, path: Path) -> list[str]:
    """Load a local state dict into ``model`` except its head; return the head keys skipped.

    Raises UsageError if the file is unreadable or its parameters do not fit ``arch``.
    """
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArgumentError("weights", str(path), f"cannot read it ({reason})") from exc
    state = _state_dict_of(loaded, path)
    heads = _HEADS[arch]
    skipped = [key for key in state if key.startswith(heads)]
    body = {key: value for key, value in state.items() if not key.startswith(heads)}
    own = model.state_dict()
    wrong = [k for k, v in body.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    result = model.load_state_dict({k: v for k, v in body.items() if k not in wrong}, strict=False)
    missing = [key for key in result.missing_keys if not key.startswith(heads)]
    # Weights trained with Inception's auxiliary head may be loaded into a model without it.
    unexpected = [key for key in result.unexpected_keys if not key.startswith("AuxLogits.")]
    if missing or unexpected or wrong:
        problems = [
            f"{label}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("wrong shape", wrong),
            )
            if keys
        ]
        raise ArgumentError("weights", str(path), f"does not fit {arch} ({'; '.join(problems)})")
    return skipped


def logits_and_loss(
    output: Any, target: torch.Tensor, criterion: nn.Module
) -> tuple[torch.Tensor, torch.Tensor]:
    """The main logits and the training loss, adding Inception's auxiliary loss when present.

    Losses are computed in float32 even under bf16 autocast, for a stable softmax.
    """
    if isinstance(output, models.InceptionOutputs):
        logits = output.logits
        loss = criterion(logits.float(), target)
        if output.aux_logits is not None:
            loss = loss + AUX_LOSS_WEIGHT * criterion(output.aux_logits.float(), target)
        return logits, loss
    logits = output
    return logits, criterion(logits.float(), target)
