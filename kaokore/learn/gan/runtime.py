"""Device choice and random state: what makes a run reproducible and resumable.

Training saves every random generator it draws from (Python, NumPy, torch CPU and CUDA) in
its checkpoint, so a resumed run continues with exactly the numbers the uninterrupted run
would have drawn. Helpers that must not disturb that stream (snapshots, the metric) draw from
their own seeded ``torch.Generator`` instead.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from kaokore.errors import UsageError

__all__ = ["DEVICES", "get_rng_state", "resolve_device", "seed_everything", "set_rng_state"]

#: The values ``--device`` accepts.
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """Turn ``auto|cpu|cuda`` (or ``cuda:N``) into a device, refusing CUDA where there is none."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {device}: no CUDA device is available here; use cpu or auto"
            )
        return torch.device(device)
    raise UsageError(f"--device {device!r} is not one of {', '.join(DEVICES)}")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """Every global random state, to be stored in a checkpoint."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` captured (CUDA only where both runs had it)."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
