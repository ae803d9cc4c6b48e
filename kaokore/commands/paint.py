"""``kaokore paint``: paint faces with strokes, by optimisation or with a learned painter.

torch is imported inside the commands, so that ``kaokore --help`` works on an install
without the train extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kaokore.commands.common import console, require_train_extra
from kaokore.commands.learning import DeviceOption, MaxImagesOption, ReleaseOption, SeedOption
from kaokore.errors import UsageError

__all__ = ["agent", "app", "optimize", "run"]

app = typer.Typer(
    help="Paint faces with Bezier brush strokes: by optimisation, or with a learned painter.",
    no_args_is_help=True,
)

ImagesArgument = Annotated[
    list[Path], typer.Argument(help="Reference images (painted together, as one batch).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Folder for the figures and numbers.")]
EveryOption = Annotated[
    int | None,
    typer.Option("--every", help="A frame every N strokes [default: an eighth of them]."),
]
DisplaySizeOption = Annotated[
    int | None,
    typer.Option("--display-size", help="Size of the figures' frames [default: --size]."),
]


def _report(record: dict[str, float]) -> None:
    console.print(
        "  ".join(f"{k} {v:.5g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items())
    )


def _summary(run: Any) -> None:
    first = sum(r[0] for r in run.errors) / len(run.errors)
    last = sum(r[-1] for r in run.errors) / len(run.errors)
    console.print(
        f"Mean squared error {first:.4f} (blank) -> {last:.4f}; wrote {run.files.finals}, "
        f"{len(run.files.strips)} sequences (.png, .gif), {run.strokes} and {run.summary}"
    )


@app.command()
def optimize(
    images: ImagesArgument,
    out: OutOption,
    strokes: Annotated[int, typer.Option("--strokes", help="Strokes per image (K).")] = 256,
    size: Annotated[int, typer.Option("--size", help="Canvas size in pixels.")] = 64,
    stages: Annotated[
        int, typer.Option("--stages", help="Coarse-to-fine stages; the width cap halves each.")
    ] = 4,
    steps: Annotated[int, typer.Option("--steps", help="Adam steps per stage.")] = 100,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.04,
    every: EveryOption = None,
    display_size: DisplaySizeOption = None,
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
) -> None:
    """Paint references with K strokes by gradient descent, wide strokes first.

    Writes optimize_IMAGE.png/.gif (the reference, then the canvas every --every strokes),
    optimize_finals.png, optimize_strokes.pt and optimize.json.

    Examples:

    ```
    kaokore paint optimize face.jpg --strokes 256 --size 64 --out paintings
    kaokore paint optimize a.jpg b.jpg c.jpg --strokes 512 --size 128 --device cuda --out p128
    ```
    """
    require_train_extra("kaokore paint", ("torch", "torchvision"))
    from kaokore.learn.paint import OptimizeConfig, optimize_images

    if strokes < stages or stages < 1:
        raise UsageError("--strokes must be at least --stages, and --stages at least 1")
    config = OptimizeConfig(strokes=strokes, stages=stages, steps=steps, lr=lr, seed=seed)
    run = optimize_images(
        images, out=out, config=config, size=size, every=every,
        display_size=display_size, device=device, progress=_report,
    )  # fmt: skip
    _summary(run)


@app.command()
def agent(
    release: ReleaseOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for renderer.pt and actor.pt.")],
    steps: Annotated[int, typer.Option("--steps", help="Actor updates.")] = 2000,
    size: Annotated[
        int, typer.Option("--size", help="Canvas size: --grid times a power of two.")
    ] = 64,
    grid: Annotated[
        int, typer.Option("--grid", help="Strokes per step: one per cell of a grid x grid.")
    ] = 4,
    episode_steps: Annotated[
        int, typer.Option("--episode-steps", help="Steps of a painting episode.")
    ] = 8,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Parallel episodes.")] = 16,
    renderer_steps: Annotated[
        int, typer.Option("--renderer-steps", help="Updates of the neural renderer.")
    ] = 2000,
    renderer: Annotated[
        Path | None,
        typer.Option(
            "--renderer", help="Reuse this renderer.pt (or actor.pt) instead of training."
        ),
    ] = None,
    max_images: MaxImagesOption = None,
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
) -> None:
    """Train the learned painter: a neural renderer, then an actor through it.

    Each step, the actor proposes one stroke per cell of a --grid x --grid grid, smaller from
    step to step (coarse to fine). It is trained by backpropagating the one-step reward (the
    drop in log squared error) through the neural renderer: a critic-free simplification of
    the paper's model-based DDPG. Writes renderer.pt and actor.pt (for `kaokore paint run`).

    Examples:

    ```
    kaokore paint agent --release releases/kaokore-1.2 --steps 2000 --out painter
    kaokore paint agent --release rel --renderer painter/renderer.pt --steps 5000 --out painter2
    ```
    """
    require_train_extra("kaokore paint", ("torch", "torchvision"))
    from kaokore.learn.paint import AgentConfig, RendererTrainConfig, train_agent_on_release

    if size % grid or (size // grid) & (size // grid - 1) or size // grid < 4:
        raise UsageError(f"--size must be --grid times a power of two (4 or more), not {size}")
    config = AgentConfig(
        size=size, grid=grid, episode_steps=episode_steps,
        steps=steps, batch_size=batch_size, max_images=max_images, seed=seed,
        renderer=RendererTrainConfig(size=size, steps=renderer_steps, seed=seed),
    )  # fmt: skip
    summary = train_agent_on_release(
        release, out=out, config=config, device=device, renderer_file=renderer, progress=_report
    )
    console.print(
        f"Dev faces, mean squared error after {episode_steps * grid * grid} strokes: "
        f"{summary.blank_mse:.4f} (blank) -> {summary.dev_mse:.4f} (neural renderer), "
        f"{summary.dev_mse_analytic:.4f} (analytic); actor {summary.actor}"
    )


@app.command()
def run(
    images: ImagesArgument,
    actor: Annotated[Path, typer.Option("--actor", help="actor.pt of `kaokore paint agent`.")],
    out: OutOption,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Painting steps [default: the training episode].")
    ] = None,
    renderer: Annotated[
        str, typer.Option("--renderer", help="Canvas the actor sees: analytic or neural.")
    ] = "analytic",
    every: EveryOption = None,
    display_size: DisplaySizeOption = None,
    device: DeviceOption = "auto",
) -> None:
    """Paint references with a trained actor.

    Writes agent_IMAGE.png/.gif, agent_finals.png, agent_strokes.pt and agent.json.

    Examples:

    ```
    kaokore paint run face.jpg --actor painter/actor.pt --out paintings
    kaokore paint run a.jpg b.jpg --actor painter/actor.pt --steps 20 --display-size 128 --out p
    ```
    """
    require_train_extra("kaokore paint", ("torch", "torchvision"))
    from kaokore.learn.paint import run_agent

    painting = run_agent(
        images, actor=actor, out=out, steps=steps, every=every,
        display_size=display_size, renderer=renderer, device=device,
    )  # fmt: skip
    _summary(painting)
