"""The painters: strokes, both renderers, the optimiser, the learned painter, the figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from PIL import Image  # noqa: E402

from kaokore.errors import UsageError  # noqa: E402
from kaokore.learn.gan.data import load_image  # noqa: E402
from kaokore.learn.paint import (  # noqa: E402
    AgentConfig,
    NeuralRenderer,
    OptimizeConfig,
    RendererTrainConfig,
    composite,
    load_actor,
    paint_by_optimization,
    paint_with_agent,
    render,
    run_agent,
    stroke_coverage,
    stroke_frames,
    train_agent,
    write_painting,
)
from kaokore.learn.paint.neural import _symmetry, frame_targets, random_shapes, stroke_frame  # noqa: E402
from kaokore.learn.paint.strokes import end_radii  # noqa: E402
from tests.conftest import shared_path  # noqa: E402
from tests.learn.test_gan import make_release  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: the test machines' cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def some_strokes(n: int = 2, k: int = 3, seed: int = 0) -> torch.Tensor:
    """Strokes well inside the canvas, of medium size, with random colours."""
    g = torch.Generator().manual_seed(seed)
    centre = 0.3 + 0.4 * torch.rand(n, k, 1, 2, generator=g)
    points = (centre + 0.2 * (torch.rand(n, k, 3, 2, generator=g) - 0.5)).reshape(n, k, 6)
    radii = 0.1 + 0.3 * torch.rand(n, k, 2, generator=g)
    rest = 0.2 + 0.6 * torch.rand(n, k, 4, generator=g)
    return torch.cat([points, radii, rest], dim=-1)


def naive_coverage(shape: torch.Tensor, size: int, samples: int = 16) -> torch.Tensor:
    """Every pixel against every segment, the definition the fast rasteriser must match."""
    t = torch.linspace(0, 1, samples)[None, :, None]
    p0, p1, p2 = shape[:, None, 0:2], shape[:, None, 2:4], shape[:, None, 4:6]
    points = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2  # (M, T, 2)
    r = end_radii(shape, size)
    radius = (1 - t[..., 0]) * r[:, None, 0] + t[..., 0] * r[:, None, 1]
    centres = (torch.arange(size) + 0.5) / size
    gy, gx = torch.meshgrid(centres, centres, indexing="ij")
    pixel = torch.stack([gx, gy], dim=-1).reshape(1, 1, -1, 2)
    a, b = points[:, :-1, None], points[:, 1:, None]
    u = (((pixel - a) * (b - a)).sum(-1) / ((b - a).square().sum(-1) + 1e-12)).clamp(0, 1)
    distance = (pixel - a - u[..., None] * (b - a)).norm(dim=-1)
    margin = radius[:, :-1, None] + u * (radius[:, 1:, None] - radius[:, :-1, None]) - distance
    return torch.sigmoid(margin.amax(dim=1) * size / 0.5).reshape(-1, size, size)


def test_fast_rasteriser_matches_the_definition() -> None:
    small = some_strokes(1, 4)[0, :, :8] * torch.tensor([1.0] * 6 + [0.2, 0.2])
    large = torch.rand(4, 8, generator=torch.Generator().manual_seed(2))
    for shapes in (small, large):  # local windows, and the whole canvas
        assert torch.allclose(stroke_coverage(shapes, 32), naive_coverage(shapes, 32), atol=3e-3)


def test_composite_equals_painting_one_stroke_after_another() -> None:
    g = torch.Generator().manual_seed(0)
    coverage, opacity = torch.rand(2, 40, 8, 8, generator=g), torch.rand(2, 40, generator=g)
    colour, canvas = torch.rand(2, 40, 3, generator=g), torch.rand(2, 3, 8, 8, generator=g)
    expected = canvas
    for k in range(40):
        alpha = (coverage[:, k] * opacity[:, k, None, None])[:, None]
        expected = expected * (1 - alpha) + alpha * colour[:, k, :, None, None]
    assert torch.allclose(composite(canvas, coverage, opacity, colour), expected, atol=1e-5)


def test_gradients_reach_every_parameter_of_the_analytic_renderer() -> None:
    strokes = some_strokes().requires_grad_(True)
    target = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    (render(strokes, torch.ones(2, 3, 32, 32)) - target).square().sum().backward()
    assert strokes.grad is not None
    assert (strokes.grad.abs() > 0).all(), strokes.grad


def test_gradients_reach_every_parameter_of_the_neural_renderer() -> None:
    torch.manual_seed(0)
    renderer = NeuralRenderer(size=32, patch=16, width=16)
    strokes = some_strokes().requires_grad_(True)
    target = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    coverage = renderer(strokes[..., :8])
    assert coverage.shape == (2, 3, 32, 32)
    painted = composite(torch.ones(2, 3, 32, 32), coverage, strokes[..., 8], strokes[..., 9:12])
    (painted - target).square().sum().backward()
    assert strokes.grad is not None
    assert (strokes.grad.abs() > 0).all(), strokes.grad


def test_neural_renderer_places_its_patch_where_the_stroke_is() -> None:
    """With the exact patch in place of the network, the neural path reproduces the strokes."""

    class Exact(NeuralRenderer):
        def draw_patch(self, local: torch.Tensor) -> torch.Tensor:
            return frame_targets(local, self.patch)

    shapes = random_shapes(32, torch.Generator().manual_seed(0))
    placed, exact = Exact(size=32, patch=32)(shapes), stroke_coverage(shapes, 32)
    assert (placed - exact).abs().mean() < 0.01
    assert (placed.roll(1, -1) - exact).abs().mean() > 0.02  # one pixel off is caught


def test_symmetries_of_the_training_strokes_are_exact() -> None:
    local = stroke_frame(random_shapes(32, torch.Generator().manual_seed(0)), 32)[0]
    patches = frame_targets(local, 16)
    moved, images = _symmetry(local, patches, torch.arange(32) % 16)
    assert not torch.equal(images, patches)
    assert torch.allclose(frame_targets(moved, 16), images, atol=2e-3)


def assert_paints_better_each_stage(target: torch.Tensor) -> None:
    config = OptimizeConfig(strokes=24, stages=3, steps=15, first_radius=0.15, seed=0)
    result = paint_by_optimization(target, config)
    errors = result.stage_errors[0].tolist()  # blank canvas, then after every stage
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < 0.3 * errors[0], errors
    assert result.strokes.shape == (1, 24, 12)
    again = render(result.strokes, torch.ones_like(target), samples=config.samples)
    assert torch.allclose(again, result.canvas, atol=1e-5)


def test_optimisation_reduces_the_error_stage_by_stage_on_a_real_face() -> None:
    face = shared_path("data", "kaokore", "images_256", "00000000.jpg")
    assert_paints_better_each_stage(load_image(face, 32)[None])


def test_optimisation_reduces_the_error_stage_by_stage_on_a_synthetic_image() -> None:
    y, x = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    disc = ((x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.05).float()
    image = torch.stack([0.8 * x, 0.3 + 0.4 * y, 0.2 + 0.6 * disc])[None]
    assert_paints_better_each_stage(image)


def test_figures(tmp_path: Path) -> None:
    strokes = some_strokes(2, 6)
    frames = stroke_frames(strokes, size=24, every=2)
    assert len(frames) == 3 and frames[0].shape == (2, 3, 24, 24)
    files = write_painting(tmp_path, ["a", "b"], torch.rand(2, 3, 48, 48), frames, prefix="p")
    with Image.open(files.strips[0]) as strip:  # reference + 3 frames, 2 px padding
        assert strip.size == (4 * 26 + 2, 26 + 2)
    with Image.open(files.gifs[1]) as gif:
        assert gif.n_frames == 4
    with Image.open(files.finals) as finals:  # references over final canvases
        assert finals.size == (2 * 26 + 2, 2 * 26 + 2)


def tiny_agent_config() -> AgentConfig:
    return AgentConfig(
        size=32, grid=4, episode_steps=3, width=8, steps=4, batch_size=2,
        renderer=RendererTrainConfig(size=32, patch=16, width=16, steps=6, pool=16, batch_size=4),
    )  # fmt: skip


def test_learned_painter_trains_saves_and_paints(tmp_path: Path) -> None:
    release = make_release(tmp_path / "rel")
    summary = train_agent(
        release, tiny_agent_config(), out=tmp_path / "agent", device=torch.device("cpu")
    )
    assert summary.actor.is_file() and (tmp_path / "agent" / "renderer.pt").is_file()
    assert summary.dev_mse > 0 and summary.blank_mse > 0
    actor, renderer, config = load_actor(summary.actor)
    assert config == tiny_agent_config()
    faces = torch.rand(2, 3, 32, 32)
    painting = paint_with_agent(actor, faces, steps=3)
    assert painting.strokes.shape == (2, 3 * 16, 12)
    assert painting.step_errors.shape == (2, 4)
    neural = paint_with_agent(actor, faces, steps=3, renderer=renderer)
    assert torch.equal(neural.strokes[:, :16], painting.strokes[:, :16])  # same first look
    image = release / "images_256" / "00000002.jpg"
    run = run_agent([image], actor=summary.actor, out=tmp_path / "run", device="cpu")
    assert run.files.finals.is_file() and run.strokes.is_file() and len(run.errors[0]) == 4
    with pytest.raises(UsageError, match="no actor"):
        run_agent([image], actor=tmp_path / "nothing.pt", out=tmp_path / "x", device="cpu")
