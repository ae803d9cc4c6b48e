"""tools/make_v10_split.py rebuilds the paper's version 1.0 split from the 1.2 images."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT, shared_path


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_v10_split", REPO_ROOT / "tools" / "make_v10_split.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_version_1_0_folder_has_the_official_split(tmp_path: Path) -> None:
    pytest.importorskip("torchvision", reason="reads the folder with KaoKore")
    from kaokore.learn.data import KaoKore

    data = shared_path("data", "kaokore")
    out = tmp_path / "kaokore-1.0"
    assert load_tool().make_v10_folder(data, out) == 5298
    sizes = {
        split: len(KaoKore(out, split=split, strict=True)) for split in ("train", "dev", "test")
    }
    assert sizes == {"train": 4238, "dev": 533, "test": 527}  # the paper's split
    with open(data / "v1.0_to_v1.2_map.csv", newline="") as handle:
        pair = next(row for row in csv.DictReader(handle) if row["present_here"] == "1")
    linked = out / "images_256" / pair["v1_0_image"]
    assert linked.read_bytes() == (data / "images_256" / pair["v1_2_image"]).read_bytes()
    assert (out / "labels.csv").read_bytes() == (
        data / "official" / "v1.0" / "labels.csv"
    ).read_bytes()


def test_inconsistent_map_is_refused(tmp_path: Path) -> None:
    data = shared_path("data", "kaokore")
    fake = tmp_path / "data"
    (fake / "official" / "v1.0").mkdir(parents=True)
    (fake / "images_256").symlink_to(data / "images_256")
    labels = (data / "official" / "v1.0" / "labels.csv").read_text().splitlines()[:3]
    (fake / "official" / "v1.0" / "labels.csv").write_text("\n".join(labels) + "\n")
    mapping = (data / "v1.0_to_v1.2_map.csv").read_text().splitlines()
    first = labels[1].split(",")[0]
    rows = [mapping[0]] + [
        line.replace(",train", ",test") if line.startswith(first) else line for line in mapping[1:]
    ]
    (fake / "v1.0_to_v1.2_map.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(SystemExit, match=f"{first}: the map's labels differ"):
        load_tool().make_v10_folder(fake, tmp_path / "out")
