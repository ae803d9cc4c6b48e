"""``kaokore paint optimize | agent | run`` through the CLI, on a tiny fake release."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from PIL import Image  # noqa: E402

from kaokore.cli import app  # noqa: E402
from kaokore.learn.paint import load_actor  # noqa: E402
from tests.learn.test_gan import make_release  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def invoke(*args: str | Path) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_optimize_writes_sequences_finals_and_numbers(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    images = [release / "images_256" / f"0000000{i}.jpg" for i in (0, 1)]
    out = tmp_path / "paint"
    result = invoke(
        "paint", "optimize", *images, "--strokes", "8", "--size", "32", "--stages", "2",
        "--steps", "3", "--every", "2", "--display-size", "48", "--device", "cpu", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("00000000", "00000001"):
        with Image.open(out / f"optimize_{name}.png") as strip:  # reference + 4 frames
            assert strip.size == (5 * 50 + 2, 50 + 2)
        with Image.open(out / f"optimize_{name}.gif") as gif:
            assert gif.n_frames == 5
    summary = json.loads((out / "optimize.json").read_text())
    assert summary["strokes"] == 8 and len(summary["mse"]["00000000"]) == 3
    assert torch.load(out / "optimize_strokes.pt").shape == (2, 8, 12)


@pytest.mark.slow
def test_agent_then_run(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    agent = tmp_path / "agent"
    trained = invoke(
        "paint", "agent", "--release", release, "--out", agent, "--steps", "3", "--size", "32",
        "--episode-steps", "2", "--batch-size", "2", "--renderer-steps", "3", "--device", "cpu",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "Dev faces, mean squared error after 32 strokes" in trained.output
    assert load_actor(agent / "actor.pt")[2].episode_steps == 2

    again = invoke(
        "paint", "agent", "--release", release, "--out", tmp_path / "agent2", "--steps", "2",
        "--size", "32", "--batch-size", "2", "--renderer", agent / "renderer.pt", "--device", "cpu",
    )  # fmt: skip
    assert again.exit_code == 0, again.output

    image = release / "images_256" / "00000003.jpg"
    out = tmp_path / "run"
    ran = invoke(
        "paint", "run", image, "--actor", agent / "actor.pt", "--out", out, "--device", "cpu"
    )
    assert ran.exit_code == 0, ran.output
    assert (out / "agent_00000003.gif").is_file() and (out / "agent_finals.png").is_file()
    assert torch.load(out / "agent_strokes.pt").shape == (1, 2 * 16, 12)


def test_errors_are_one_line(tmp_path: Path) -> None:
    missing = invoke("paint", "optimize", tmp_path / "none.jpg", "--out", tmp_path / "o")
    assert (
        missing.exit_code == 2 and f"Error: no image at {tmp_path / 'none.jpg'}" in missing.output
    )
    actor = invoke(
        "paint", "run", tmp_path / "x.jpg", "--actor", tmp_path / "a.pt", "--out", tmp_path
    )
    assert actor.exit_code == 2 and "Error: no actor at" in actor.output
    size = invoke("paint", "agent", "--release", tmp_path, "--out", tmp_path / "a", "--size", "40")
    assert (
        size.exit_code == 2 and "Error: --size must be --grid times a power of two" in size.output
    )
    release = invoke("paint", "agent", "--release", tmp_path / "nothing", "--out", tmp_path / "a")
    assert release.exit_code == 1 and "Error: No release at" in release.output
