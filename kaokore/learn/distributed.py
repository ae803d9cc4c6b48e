"""One process or many: the same training code under ``torchrun`` and without it.

``torchrun --nproc-per-node N -m kaokore train classify ...`` sets ``WORLD_SIZE``, ``RANK`` and
``LOCAL_RANK``; :func:`setup` then joins the process group (NCCL on CUDA, gloo otherwise) and
pins each rank to its GPU. Without them, or with a world of one, nothing is initialised and
every helper is a no-op, so single-process runs pay nothing. A group initialised by the caller
(a test, a notebook) is used as it is.

Rank 0 alone evaluates, writes files and prints; the others train their shard and wait.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from kaokore.learn.runtime import resolve_device

__all__ = ["DistContext", "setup"]


@dataclass(frozen=True)
class DistContext:
    """This process's place in the run: its rank, the world size and its device."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """Whether this process writes files, evaluates and prints (rank 0)."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """Whether a process group of more than one process, or one we were given, is in use."""
        return dist.is_available() and dist.is_initialized()

    def barrier(self) -> None:
        """Wait for every rank (e.g. while rank 0 builds the decoded-array cache)."""
        if self.active:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of ``values`` over all ranks (training loss, correct, seen)."""
        if not self.active:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self._comm_device)
        dist.all_reduce(tensor)
        return [float(v) for v in tensor.tolist()]

    def broadcast_flag(self, flag: bool) -> bool:
        """Rank 0's decision (stop early, or not) made known to every rank."""
        if not self.active:
            return flag
        tensor = torch.tensor([1 if flag else 0], dtype=torch.int64, device=self._comm_device)
        dist.broadcast(tensor, src=0)
        return bool(tensor.item())

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` wrapped in DistributedDataParallel when a group is active."""
        if not self.active:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def close(self) -> None:
        """Leave the process group if :func:`setup` created it."""
        if self.owns_group and self.active:
            dist.destroy_process_group()

    @property
    def _comm_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")


def setup(device: str) -> DistContext:
    """Join the ``torchrun`` process group if there is one, and pick this rank's device."""
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank))
        return DistContext(rank, world, resolve_device(device, local_rank=local))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(0, 1, resolve_device(device))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device(device, local_rank=local)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), chosen, owns_group=True)
