"""The KaoKore torch datasets: the official loader's behaviour, and a fast cached variant.

:class:`KaoKore` keeps the official loader's signature and results (``(PIL image, int)`` in
``labels.csv`` order, rows whose image is absent skipped) and adds torchvision's conventions:
``target_transform``, ``classes``, ``class_to_idx``, ``targets``, ``extra_repr`` and
``verify_str_arg`` messages. It can also read a release's alternative splits.

:class:`FastKaoKore` decodes its split once into a memory-mapped uint8 array (see
:mod:`kaokore.learn.cache`) and returns uint8 tensors; pair it with
:class:`~kaokore.learn.augment.BatchAugment` to augment whole batches on the device.

Both hold only paths and lists, so they pickle cleanly into DataLoader workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torchvision.datasets import VisionDataset
from torchvision.datasets.utils import verify_str_arg

from kaokore.errors import ReleaseError
from kaokore.learn.cache import decoded_array, load_image
from kaokore.release import ReleaseFolder
from kaokore.release.layout import CATEGORIES, SETS, SPLIT_FILES
from kaokore.vocab import class_names

__all__ = ["FastKaoKore", "KaoKore", "Kaokore"]


class KaoKore(VisionDataset):  # type: ignore[misc]  # torchvision ships no type information
    """Faces of a KaoKore release (or official download) with their gender or status label.

    Args:
        root: the folder holding ``images_256/`` and ``labels.csv``.
        split: ``train``, ``dev`` or ``test``.
        category: ``gender`` (2 classes) or ``status`` (4 classes); picks the label column.
        transform: applied to the PIL image.
        target_transform: applied to the int label.
        split_file: which split assigns images to sets: None for the ``set`` column of
            ``labels.csv`` (as the official loader), or ``official``, ``stable``, ``by-work``,
            ``by-page`` for ``splits/NAME.csv`` of a release.
        strict: raise ReleaseError naming the first missing image instead of skipping it as
            the official loader does (training always uses strict datasets).

    Raises:
        DatasetNotFoundError: ``root`` has no ``labels.csv``/``images_256``, or no such split file.
        ReleaseError: a row of ``labels.csv`` or of the split file is malformed (the error
            names the file, the line and the field).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        category: str = "gender",
        transform: Callable[..., Any] | None = None,
        target_transform: Callable[..., Any] | None = None,
        *,
        split_file: str | None = None,
        strict: bool = False,
    ) -> None:
        super().__init__(
            os.path.expanduser(os.fspath(root)),
            transform=transform,
            target_transform=target_transform,
        )
        self.split = verify_str_arg(split, "split", SETS)
        self.category = verify_str_arg(category, "category", CATEGORIES)
        self.split_file = (
            None if split_file is None else verify_str_arg(split_file, "split_file", SPLIT_FILES)
        )
        release = ReleaseFolder.open(self.root)
        chosen = [(row.image, row.label(category)) for row in release.in_set(split, split_file)]
        image_dir = release.image_dir
        #: Images listed for this split whose file is absent (skipped unless ``strict``).
        self.missing: list[str] = [name for name, _ in chosen if not (image_dir / name).is_file()]
        if self.missing and strict:
            more = f" (and {len(self.missing) - 1} more)" if len(self.missing) > 1 else ""
            raise ReleaseError(f"{image_dir / self.missing[0]}: the image is missing{more}")
        absent = set(self.missing)
        #: ``(file name, label)`` pairs, as the official loader's ``entries``.
        self.entries: list[tuple[str, int]] = [item for item in chosen if item[0] not in absent]
        self.images: list[str] = [name for name, _ in self.entries]
        self.targets: list[int] = [label for _, label in self.entries]
        self.samples: list[tuple[str, int]] = [
            (str(image_dir / name), label) for name, label in self.entries
        ]
        self.classes: list[str] = class_names(category)
        self.class_to_idx: dict[str, int] = {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.entries)

    def restrict(self, limit: int) -> None:
        """Keep only the first ``limit`` items, in order: a small, fixed subset for smoke runs."""
        del self.entries[limit:], self.images[limit:], self.targets[limit:], self.samples[limit:]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, label = self.samples[index]
        try:
            image: Any = load_image(path)
        except FileNotFoundError:
            raise ReleaseError(f"{path}: the image is missing") from None
        except OSError as exc:
            raise ReleaseError(f"{path}: cannot decode the image ({exc})") from None
        target: Any = label
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def extra_repr(self) -> str:
        source = f"splits/{self.split_file}.csv" if self.split_file else "labels.csv set column"
        return f"Split: {self.split}\nCategory: {self.category}\nSplit file: {source}"


class FastKaoKore(KaoKore):
    """A :class:`KaoKore` split decoded once into a memory-mapped ``N x S x S x 3`` uint8 array.

    Items are ``(uint8 tensor 3 x S x S, int)`` before ``transform``; :meth:`batch` gathers many
    at once. The array is built on construction (which validates every image: missing or
    corrupt files raise ReleaseError naming the file) and reused by every later run on the same
    unchanged folder, split and size.

    Args (beyond :class:`KaoKore`'s):
        image_size: side ``S`` of the stored images (PIL bilinear resize, as ``Resize``).
        cache_dir: where arrays live; default ``$KAOKORE_HOME/cache/decoded``.
        workers: processes decoding JPEGs while the array is built (0: this process).
        limit: keep only the first ``limit`` items (see :meth:`restrict`) before decoding.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        category: str = "gender",
        transform: Callable[..., Any] | None = None,
        target_transform: Callable[..., Any] | None = None,
        *,
        split_file: str | None = None,
        strict: bool = False,
        image_size: int = 256,
        cache_dir: str | os.PathLike[str] | None = None,
        workers: int = 0,
        limit: int | None = None,
    ) -> None:
        super().__init__(
            root,
            split,
            category,
            transform,
            target_transform,
            split_file=split_file,
            strict=strict,
        )
        if limit is not None:
            self.restrict(limit)
        self.image_size = image_size
        self.cache_path = decoded_array(
            Path(self.root),
            self.images,
            image_size,
            cache_dir=None if cache_dir is None else Path(cache_dir),
            workers=workers,
        )
        self._array: NDArray[np.uint8] | None = None

    @property
    def array(self) -> NDArray[np.uint8]:
        """The decoded images, memory-mapped read-only (opened lazily, once per process)."""
        if self._array is None:
            self._array = np.load(self.cache_path, mmap_mode="r")
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_array"] = None  # each worker maps the file itself
        return state

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = torch.from_numpy(np.array(self.array[index])).permute(2, 0, 1)
        target: Any = self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def batch(self, indices: NDArray[np.int64] | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``N x 3 x S x S`` (uint8, channels-last in memory) and int64 labels."""
        index = np.asarray(indices, dtype=np.int64)
        images = torch.from_numpy(np.ascontiguousarray(self.array[index])).permute(0, 3, 1, 2)
        labels = torch.as_tensor(np.asarray(self.targets, dtype=np.int64)[index])
        return images, labels

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole split as one uint8 batch and its labels, e.g. to preload on a GPU."""
        return self.batch(np.arange(len(self), dtype=np.int64))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}\nImage size: {self.image_size}\nCache: {self.cache_path}"


#: The official loader's class name (``from dataset import Kaokore``), so code written against
#: the official repository runs unchanged.
Kaokore = KaoKore
