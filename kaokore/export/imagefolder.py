"""``kaokore export imagefolder``: the ImageNet folder layout, ``SET/CLASS/FILE.jpg``.

Why this layout: it is what ``torchvision.datasets.ImageFolder``,
``tf.keras.utils.image_dataset_from_directory`` and most (unsupervised) training setups read
without any code, which is what the KaoKore paper promised.

Why hard links: an export of the whole release would otherwise double its size on disk for
bytes that never change. A link is tried first and the export falls back to copies where the
file system refuses links (another device, or no link support). The catch: a linked file *is*
the release's file, so editing it in place would change the release; ``copy=True`` (``--copy``)
gives independent files for anyone who means to modify them.

Why every class folder exists in every set, even when empty: ``ImageFolder`` numbers the
classes by the folders it finds, so a set lacking a folder would number its classes
differently from the others. A set that lacks a class reads with ``allow_empty=True``.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Final

from kaokore.export.common import (
    ExportSummary,
    check_category,
    check_output,
    open_release,
    staged_output,
    write_provenance,
)
from kaokore.release.layout import SETS
from kaokore.vocab import class_names

__all__ = ["export_imagefolder"]

#: Errors that mean "this file system does not link here": stop trying, copy from now on.
_NO_LINKS: Final = frozenset(
    getattr(errno, name)
    for name in ("EXDEV", "EPERM", "EACCES", "ENOTSUP", "EOPNOTSUPP", "ENOSYS")
    if hasattr(errno, name)
)


def export_imagefolder(
    release: Path | str,
    out: Path | str,
    *,
    category: str = "gender",
    split: str | None = None,
    copy: bool = False,
) -> ExportSummary:
    """Write ``out/{train,dev,test}/{class name}/{file}.jpg`` for the labelled faces of ``release``.

    ``category`` picks the class folders (``gender``: male, female; ``status``: noble,
    warrior, incarnation, commoner). ``split`` picks the split file that assigns the sets
    (None: the ``set`` column of ``labels.csv``). Images are hard links to the release unless
    ``copy`` or the file system refuses links. Note that ``ImageFolder`` numbers classes in
    alphabetical order of the folder names, not in the release's index order; ``export.json``
    gives both.

    Raises UsageError for a non-empty ``out`` or an unknown category or split, ReleaseError
    for a release that fails ``kaokore verify``.
    """
    source, target = Path(release), Path(out)
    check_category(category)
    check_output(target, source)
    checked = open_release(source, split=split)
    classes = class_names(category)
    sets = checked.by_set()
    linking = not copy
    linked = copied = 0
    with staged_output(target, source) as folder:
        for set_name in SETS:
            for name in classes:
                (folder / set_name / name).mkdir(parents=True)
            for sample in sets[set_name]:
                destination = folder / set_name / classes[sample.label(category)] / sample.image
                if linking:
                    try:
                        os.link(sample.path, destination)
                        linked += 1
                        continue
                    except OSError as exc:
                        if exc.errno in _NO_LINKS:
                            linking = False
                shutil.copyfile(sample.path, destination)
                copied += 1
        counts = {name: len(sets[name]) for name in SETS}
        files = [f"{name}/" for name in SETS]
        write_provenance(
            folder,
            checked,
            kind="imagefolder",
            counts=counts,
            files=files,
            extra={
                "category": category,
                "classes": classes,
                "release_class_index": {name: i for i, name in enumerate(classes)},
                "imagefolder_class_index": {name: i for i, name in enumerate(sorted(classes))},
            },
            how=[
                "```python",
                "from torchvision.datasets import ImageFolder",
                'train = ImageFolder("OUT/train")  # classes in alphabetical order',
                "",
                "import tensorflow as tf",
                'train = tf.keras.utils.image_dataset_from_directory("OUT/train", '
                "image_size=(256, 256))",
                "```",
                "",
                f"Classes ({category}), with the release's class index: "
                + ", ".join(f"{name} = {i}" for i, name in enumerate(classes))
                + ". ImageFolder readers number them alphabetically instead.",
                "Every class folder exists in every set; a set lacking a class reads with "
                "`ImageFolder(..., allow_empty=True)`.",
                "The images may be hard links to the release's files: do not edit them in "
                "place (export with `--copy` to get independent files).",
            ],
        )
    return ExportSummary(
        format="imagefolder",
        path=target,
        version=checked.version,
        checksum=checked.checksum,
        split=split,
        counts=counts,
        files=tuple(files),
        linked=linked,
        copied=copied,
    )
