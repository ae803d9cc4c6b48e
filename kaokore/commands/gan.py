"""``kaokore gan train`` and ``kaokore gan sample``: a StyleGAN-style generator of faces.

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

__all__ = ["app", "sample", "train"]

app = typer.Typer(
    help="Train a StyleGAN-style generator on the faces of a release, and sample faces from it. "
    "Needs the train extra: pip install 'kaokore[train]'.",
    no_args_is_help=True,
)


@app.command()
def train(
    release: ReleaseOption,
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoint, history, samples.")],
    res: Annotated[
        int, typer.Option("--res", help="Image size: 64, 128 or 256 (32 for tests).")
    ] = 64,
    steps: Annotated[
        int, typer.Option("--steps", help="Train until this many steps in all.")
    ] = 10_000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images per step.")] = 32,
    channels: Annotated[
        int, typer.Option("--channels", help="Widest layer; halves per doubling above 32 px.")
    ] = 512,
    split: Annotated[str, typer.Option("--split", help="train, dev, test or all.")] = "train",
    max_images: MaxImagesOption = None,
    augment: Annotated[
        str, typer.Option("--augment", help="DiffAugment policy; '' for none.")
    ] = "color,translation,cutout",
    r1_gamma: Annotated[
        float | None, typer.Option("--r1-gamma", help="R1 weight [default: 0.0002 res^2/batch].")
    ] = None,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate of G and D.")] = 0.0025,
    fid_every: Annotated[
        int, typer.Option("--fid-every", help="Score G_ema every N steps (0: never).")
    ] = 1000,
    fid_samples: Annotated[int, typer.Option("--fid-samples", help="Faces per side.")] = 1000,
    fid_extractor: Annotated[
        str | None,
        typer.Option(
            "--fid-extractor",
            help="random (default), a `kaokore train classify` run folder, or a torchvision "
            "weights file.",
        ),
    ] = None,
    log_every: Annotated[int, typer.Option("--log-every", help="Report every N steps.")] = 50,
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", help="Save the checkpoint every N steps.")
    ] = 500,
    snapshot_every: Annotated[
        int, typer.Option("--snapshot-every", help="Write a 4x4 sample grid every N steps.")
    ] = 1000,
    time_budget: Annotated[
        float | None,
        typer.Option("--time-budget", help="Stop and save after this many seconds (resumable)."),
    ] = None,
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its checkpoint.")
    ] = False,
) -> None:
    """Train a StyleGAN-style generator on the faces of a release.

    Non-saturating loss with lazy R1, differentiable augmentation for a small dataset, an EMA
    generator, and a Fréchet distance to the real faces every --fid-every steps. The run can
    be stopped at any time and continued bit-for-bit with --resume.

    Examples:

    ```
    kaokore gan train --release releases/kaokore-1.2 --res 64 --steps 20000 --out runs/g64
    kaokore gan train --release releases/kaokore-1.2 --res 64 --steps 40000 --out runs/g64 --resume
    kaokore gan train --release rel --res 64 --channels 64 --steps 300 --device cpu --out tiny
    ```
    """
    require_train_extra("kaokore gan train", ("torch", "torchvision"))
    from kaokore.learn.gan import GanConfig, GanTrainConfig, train_gan

    if res not in (32, 64, 128, 256):
        raise UsageError(f"--res must be 64, 128 or 256 (or 32 for tests), not {res}")
    if steps < 1 or batch_size < 1:
        raise UsageError("--steps and --batch-size must be at least 1")
    config = GanTrainConfig(
        release=str(release),
        model=GanConfig(res=res, channel_max=channels),
        steps=steps, batch_size=batch_size, lr=lr, r1_gamma=r1_gamma, augment=augment,
        split=split, max_images=max_images, seed=seed, log_every=log_every,
        checkpoint_every=checkpoint_every, snapshot_every=snapshot_every,
        fid_every=fid_every, fid_samples=fid_samples, fid_extractor=fid_extractor,
        time_budget=time_budget,
    )  # fmt: skip

    def report(record: dict[str, Any]) -> None:
        fid = f"  fd {record['fid']:.2f}" if record.get("fid") is not None else ""
        console.print(
            f"step {record['step']:>7}  D {record['loss_d']:.3f}  G {record['loss_g']:.3f}  "
            f"{record['images_per_second']:.1f} img/s{fid}"
        )

    summary = train_gan(config, out=out, device=device, resume=resume, progress=report)
    fid = f", Fréchet distance {summary.fid:.2f}" if summary.fid is not None else ""
    console.print(
        f"Trained to step {summary.step} at {summary.images_per_second:.1f} images/s{fid}; "
        f"checkpoint {summary.checkpoint}"
    )


@app.command()
def sample(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", help="checkpoint.pt of `kaokore gan train`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for grid.png and images/.")],
    n: Annotated[int, typer.Option("--n", help="How many faces.")] = 64,
    truncation: Annotated[
        float, typer.Option("--truncation", help="psi: 1 = no truncation, lower = safer faces.")
    ] = 0.7,
    scale: Annotated[int, typer.Option("--scale", help="Enlarge the grid N times.")] = 1,
    device: DeviceOption = "auto",
    seed: SeedOption = 0,
) -> None:
    """Write an uncurated grid of generated faces and each face as a PNG.

    Examples:

    ```
    kaokore gan sample --checkpoint runs/gan64/checkpoint.pt --n 64 --truncation 0.7 --out samples
    kaokore gan sample --checkpoint runs/gan64/checkpoint.pt --n 16 --truncation 1 --seed 3 --out s3
    ```
    """
    require_train_extra("kaokore gan sample", ("torch", "torchvision"))
    from kaokore.learn.gan import sample as draw

    if n < 1:
        raise UsageError("--n must be at least 1")
    result = draw(
        checkpoint, out=out, n=n, truncation=truncation, seed=seed, device=device, scale=scale
    )
    console.print(
        f"Wrote {result.grid} and {len(result.images)} faces in {result.grid.parent / 'images'} "
        f"(step {result.step}, truncation {truncation})"
    )
