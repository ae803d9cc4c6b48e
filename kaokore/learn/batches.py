"""Batches for training and evaluation, from the fast cached path or the plain JPEG path.

Both yield ``(images, labels)`` already on the device, images normalised float ``N x 3 x S x S``,
and both order a training epoch with :class:`~torch.utils.data.DistributedSampler` seeded by
the run's seed and the epoch, so a seed fixes the order whatever the path and however many
ranks share the work. A training batch of one image is dropped: batch norm cannot use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from kaokore.learn.augment import BatchAugment
from kaokore.learn.data import FastKaoKore, KaoKore

__all__ = ["Batches", "FastBatches", "PlainBatches"]

Batch = tuple[torch.Tensor, torch.Tensor]


class Batches(Protocol):
    """What the training loop iterates: an epoch of device batches, re-ordered per epoch."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Batch]: ...

    def set_epoch(self, epoch: int) -> None: ...


def _sampler(
    dataset: Dataset[Any], *, shuffle: bool, seed: int, rank: int, world_size: int
) -> DistributedSampler[int] | None:
    if not shuffle and world_size == 1:
        return None
    return DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
    )


def _batch_count(items: int, batch_size: int, *, train: bool) -> int:
    full, rest = divmod(items, batch_size)
    return full + (1 if rest > 1 or (rest == 1 and not train) else 0)


class FastBatches:
    """Batches gathered from a :class:`FastKaoKore` array and augmented on the device.

    With ``preload`` the whole split is copied to the device once as uint8 (about 1.7 GB for
    8,446 faces at 256 px), so an epoch moves no image between host and device.
    """

    def __init__(
        self,
        dataset: FastKaoKore,
        augment: BatchAugment,
        *,
        batch_size: int,
        device: torch.device,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        preload: bool = False,
    ) -> None:
        self.dataset = dataset
        self.augment = augment
        self.batch_size = batch_size
        self.device = device
        self.train = shuffle
        self.seed = seed
        self.rank = rank
        self.sampler = _sampler(
            dataset, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size
        )
        self.generator = torch.Generator()
        self.set_epoch(0)
        self._images: torch.Tensor | None = None
        self._labels: torch.Tensor | None = None
        if preload:
            images, labels = dataset.tensors()
            self._images = images.to(device)
            self._labels = labels.to(device)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch's order and the seed of its crops and flips."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        self.generator.manual_seed(self.seed * 1_000_003 + epoch * 1009 + self.rank)

    def _order(self) -> np.ndarray:
        if self.sampler is None:
            return np.arange(len(self.dataset), dtype=np.int64)
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def __len__(self) -> int:
        items = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return _batch_count(items, self.batch_size, train=self.train)

    def __iter__(self) -> Iterator[Batch]:
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            if self.train and len(index) < 2:
                break
            if self._images is not None and self._labels is not None:
                where = torch.from_numpy(index).to(self.device)
                images, labels = self._images[where], self._labels[where]
            else:
                images, labels = self.dataset.batch(index)
                images = images.to(self.device, non_blocking=True)
                labels = labels.to(self.device, non_blocking=True)
            yield self.augment(images, self.generator if self.train else None), labels


class PlainBatches:
    """A DataLoader over :class:`KaoKore` (one JPEG decoded per item, in ``workers`` processes)."""

    def __init__(
        self,
        dataset: KaoKore,
        *,
        batch_size: int,
        device: torch.device,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        workers: int = 0,
        channels_last: bool = False,
    ) -> None:
        self.device = device
        self.channels_last = channels_last
        self.sampler = _sampler(
            dataset, shuffle=shuffle, seed=seed, rank=rank, world_size=world_size
        )
        items = len(self.sampler) if self.sampler is not None else len(dataset)
        self.loader: DataLoader[tuple[torch.Tensor, int]] = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=self.sampler,
            num_workers=workers,
            generator=torch.Generator().manual_seed(seed + rank),
            drop_last=shuffle and items % batch_size == 1,
            pin_memory=device.type == "cuda",
            persistent_workers=workers > 0,
        )

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch's order (the workers' crops follow the loader's seeded generator)."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        for images, labels in self.loader:
            images = images.to(self.device, non_blocking=True)
            if self.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            yield images, labels.to(self.device, non_blocking=True)
