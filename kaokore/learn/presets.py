"""Named training recipes and the learning-rate schedules they use.

Whose setting is whose (see docs/results.md, "Which settings are whose"):

- The paper states PyTorch reference models, standard augmentation, Adam and early stopping
  on the validation split; nothing more.
- ``official`` is the official repository's training script: Adam at 1e-3, batch 32, 20
  epochs, the rate divided by 10 every 10 epochs, 256 px inputs. That script builds
  ``keras.applications`` models with their default ImageNet weights; here the weights come
  from ``--weights FILE`` when the user has them on disk, else the run is from scratch and
  says so.
- ``scratch`` is ours: a schedule meant to train from scratch to convergence (Adam at 1e-3
  with weight decay 1e-4, 2 warm-up epochs then a cosine decay over 60 epochs, batch 64).

Both keep the paper's early stopping in its mild form: the best dev epoch is restored at the
end (no patience stop, so a step or cosine schedule runs its course).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from kaokore.errors import ArgumentError, UsageError

__all__ = ["PRESETS", "SCHEDULES", "lr_at", "preset_settings", "with_preset"]

SCHEDULES: Final[tuple[str, ...]] = ("constant", "step", "cosine")

#: The settings each preset fixes (TrainConfig field names); any other option stays free.
PRESETS: Final[dict[str, dict[str, Any]]] = {
    "official": {
        "lr": 1e-3,
        "batch_size": 32,
        "epochs": 20,
        "patience": 20,
        "schedule": "step",
        "step_every": 10,
        "step_gamma": 0.1,
        "warmup_epochs": 0,
        "weight_decay": 0.0,
        "image_size": 256,
    },
    "scratch": {
        "lr": 1e-3,
        "batch_size": 64,
        "epochs": 60,
        "patience": 60,
        "schedule": "cosine",
        "warmup_epochs": 2,
        "weight_decay": 1e-4,
    },
}


def preset_settings(name: str) -> dict[str, Any]:
    """The settings of preset ``name``; UsageError names the valid presets."""
    if name not in PRESETS:
        raise ArgumentError("preset", name, f"use one of {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def with_preset(preset: str | None, explicit: Mapping[str, Any]) -> dict[str, Any]:
    """TrainConfig fields: the preset's settings, each overridden by an option the user gave
    (any value but None); fields in neither keep TrainConfig's defaults."""
    chosen = preset_settings(preset) if preset else {}
    chosen.update({key: value for key, value in explicit.items() if value is not None})
    if preset:
        chosen["preset"] = preset
    return chosen


def lr_at(
    *,
    lr: float,
    schedule: str,
    epoch: int,
    horizon: int,
    step_every: int = 10,
    step_gamma: float = 0.1,
    warmup_epochs: int = 0,
    planned: int | None = None,
) -> float:
    """The learning rate of 1-based ``epoch`` in a run planned to last ``horizon`` epochs.

    ``step`` divides by ``1 / step_gamma`` after every ``step_every`` epochs (Keras'
    ``epoch // 10`` rule of the official script); ``cosine`` warms up linearly for
    ``warmup_epochs`` then decays to 0 at ``horizon``. A time-limited run shortens ``horizon``
    to the epochs it can afford, below the ``planned`` ones: the cosine still ends at 0, and
    the steps come at the same fractions of the run (10 of 20 epochs becomes 4 of 8).
    """
    if schedule == "constant":
        return lr
    if schedule == "step":
        every = max(step_every, 1)
        if planned is not None and horizon < planned:
            every = max(1, round(every * horizon / planned))
        return lr * step_gamma ** ((epoch - 1) // every)
    if schedule == "cosine":
        if epoch <= warmup_epochs:
            return lr * epoch / (warmup_epochs + 1)
        span = max(horizon - warmup_epochs, 1)
        done = min(epoch - 1 - warmup_epochs, span)
        return lr * 0.5 * (1.0 + math.cos(math.pi * done / span))
    raise UsageError(f"Unknown schedule {schedule!r}. Valid values are {', '.join(SCHEDULES)}.")
