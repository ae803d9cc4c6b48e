"""Device choice and random state: what makes a run reproducible and resumable.

One :func:`resolve_device` and one :func:`seed_everything` serve every run (classifiers,
pretraining, the GAN, the painters), so ``--device`` means the same everywhere. Training saves
every random generator it draws from (Python, NumPy, torch CPU and CUDA) in its checkpoint, so
a resumed run continues with exactly the numbers the uninterrupted run would have drawn.
Helpers that must not disturb that stream (snapshots, the metric) draw from their own seeded
``torch.Generator`` instead.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from kaokore.errors import UsageError

__all__ = ["DEVICES", "get_rng_state", "resolve_device", "seed_everything", "set_rng_state"]

#: The devices a run accepts (``cuda:N`` names one CUDA device).
DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str, *, local_rank: int = 0) -> torch.device:
    """``auto`` picks CUDA, then MPS, then the CPU; an unavailable choice is a UsageError.

    ``cuda`` is the CUDA device of this process's ``local_rank`` (under ``torchrun``);
    ``cuda:N`` is device N.
    """
    kind, _colon, index = name.partition(":")
    if kind not in DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise UsageError(f"Unknown device {name!r}. Valid values are {', '.join(DEVICES)}.")
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if kind == "auto":
        kind = "cuda" if cuda else "mps" if mps else "cpu"
    if kind == "cuda":
        if not cuda:
            raise UsageError(f"Device {name!r}: torch sees no CUDA device on this machine.")
        return torch.device("cuda", int(index) if index else local_rank % torch.cuda.device_count())
    if kind == "mps" and not mps:
        raise UsageError(f"Device {name!r}: torch sees no Apple GPU (MPS) on this machine.")
    return torch.device(kind)


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
