"""The GPU scripts run as the GPU machine would run them: a bare python, a pack, few outputs.

``bench/gpu_baselines.sh`` and ``bench/gpu_generative.sh`` with ``DRY_RUN=1`` run the same
command path on the CPU. Here they run under a python that has only torch, torchvision, numpy
and Pillow (``tools/bare_python.py``), so any import beyond those (SQLAlchemy, typer, rich,
matplotlib) fails the test, and what they leave in ``$OUT`` is held to the machine's limits:
at most 8 files of at most 16 MiB, no checkpoint. The size check holds what must travel (the
working tree and the carried pack) to 64 MiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs the train extra")

from kaokore.learn.pack import make_pack  # noqa: E402
from tests.conftest import shared_path  # noqa: E402
from tests.learn.conftest import make_folder, make_rows  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import bare_python  # noqa: E402
import travel_size  # noqa: E402

MIB = 2**20


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = bare_python.make_bare_python(tmp_path_factory.mktemp("bare") / "venv")
    for module in ("sqlalchemy", "typer", "rich", "matplotlib", "httpx"):
        check = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        assert check.returncode != 0, f"the bare python can import {module}"
    return python


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faces") / "kaokore"
    make_folder(folder, make_rows({"train": (24, 16), "dev": (8, 8), "test": (8, 8)}))
    pack = folder.parent / "small.npz"
    make_pack(folder, pack)
    return pack


def run_script(script: str, bare: Path, pack: Path, tmp_path: Path, **env: str) -> Path:
    out = tmp_path / "out"
    environment = {
        **os.environ,
        "DRY_RUN": "1",
        "OUT": str(out),
        "WORK": str(tmp_path / "work"),
        "PACK": str(pack),
        "PYTHON": str(bare),
        **env,
    }
    done = subprocess.run(
        ["bash", str(REPO / "bench" / script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert 0 < len(files) <= 8
    assert all(p.stat().st_size <= 16 * MIB for p in files)
    assert not [p for p in files if p.suffix in {".pt", ".pth", ".npy", ".npz"}]
    return out


@pytest.mark.slow
def test_baselines_dry_run_in_a_bare_python(bare: Path, small_pack: Path, tmp_path: Path) -> None:
    out = run_script("gpu_baselines.sh", bare, small_pack, tmp_path, ARCHS="resnet18,mobilenet_v2")
    assert {p.name for p in out.iterdir()} == {
        "baselines.md",
        "baselines.csv",
        "baselines.png",
        "logs.tar.gz",
    }
    table = (out / "baselines.md").read_text()
    assert "| ResNet-18 | 92.98 |" in table and "| MobileNet-v2 | 95.06 |" in table
    assert "preset official" in table and "start from scratch" in table and "DRY RUN" in table
    assert len((out / "baselines.csv").read_text().splitlines()) == 5  # header + 2 x 2 runs
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = tar.getnames()
    assert "./grid.log" in names and "./resnet18-status/metrics.json" in names


@pytest.mark.slow
def test_generative_dry_run_in_a_bare_python(bare: Path, small_pack: Path, tmp_path: Path) -> None:
    out = run_script("gpu_generative.sh", bare, small_pack, tmp_path, GAN_SECONDS="5")
    names = {p.name for p in out.iterdir()}
    assert {"summary.txt", "gan_psi0.7.png", "gan_psi1.0.png", "logs.tar.gz"} <= names
    assert {"optimize_finals.png", "agent_finals.png"} <= names
    assert len([n for n in names if n.endswith(".gif")]) == 2
    summary = (out / "summary.txt").read_text()
    assert "Frechet distance" in summary and "Mean squared error" in summary


def test_size_check_fails_past_the_limit(tmp_path: Path) -> None:
    tree, _ = travel_size.travel_size(REPO, [])
    assert 0 < tree < 16 * MIB  # the code alone is small; the pack gets the rest
    limit = (tree + 1 * MIB) / MIB
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (2 * MIB))
    assert travel_size.main(["--carry", str(big), "--limit-mib", str(limit)]) == 1
    assert travel_size.main(["--carry", str(tmp_path / "absent"), "--limit-mib", "64"]) == 0


@pytest.mark.slow
def test_the_real_pack_fits_with_the_tree(tmp_path: Path) -> None:
    """The version 1.0 pack plus the working tree stay within 64 MiB (made from ../shared)."""
    pack = REPO / "gpu-pack" / "kaokore-v1.0.npz"
    if not pack.is_file():
        data = shared_path("data", "kaokore")
        if not (data / "v1.0_to_v1.2_map.csv").is_file():
            pytest.skip("../shared/data/kaokore is absent: no pack to measure")
        source = tmp_path / "v1.0"
        subprocess.run(
            [sys.executable, str(REPO / "tools" / "make_v10_split.py"), str(source), "--data",
             str(data)],
            check=True, capture_output=True,
        )  # fmt: skip
        pack = tmp_path / "gpu-pack" / "kaokore-v1.0.npz"
        make_pack(source, pack, workers=2)
    assert travel_size.main(["--carry", str(pack), "--limit-mib", "64"]) == 0


@pytest.mark.slow
def test_the_learning_entry_point_imports_nothing_else() -> None:
    """Fast companion of the dry runs: in this full environment too, the modules the GPU path
    uses import none of the packages the GPU machine lacks or that are optional there."""
    modules = ", ".join(
        f"kaokore.learn.{name}"
        for name in ("cli", "train", "baselines", "pretrain", "pack", "gan", "paint")
    )
    code = (
        f"import sys, {modules}\n"
        "absent = {'sqlalchemy', 'alembic', 'pyld', 'rdflib', 'tenacity', 'typer', 'rich',"
        " 'matplotlib', 'httpx'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & absent))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
