"""A StyleGAN-style GAN for KaoKore faces: networks, training with exact resume, sampling.

>>> from pathlib import Path
>>> from kaokore.learn.gan import GanConfig, GanTrainConfig, train_gan, sample
>>> config = GanTrainConfig(release="releases/kaokore-1.2", model=GanConfig(res=64), steps=2000)
>>> summary = train_gan(config, out=Path("runs/gan64"))          # doctest: +SKIP
>>> sample(summary.checkpoint, out=Path("runs/gan64/samples"))   # doctest: +SKIP

The CLI is ``kaokore gan train`` and ``kaokore gan sample``.
"""

from kaokore.learn.gan.augment import DEFAULT_POLICY, diff_augment
from kaokore.learn.gan.data import load_release_images, release_image_paths
from kaokore.learn.gan.networks import RESOLUTIONS, Discriminator, GanConfig, Generator
from kaokore.learn.gan.sample import SampleResult, load_generator, sample
from kaokore.learn.gan.train import (
    CHECKPOINT_NAME,
    GanTrainConfig,
    TrainSummary,
    generate,
    load_checkpoint,
    train_gan,
)

__all__ = [
    "CHECKPOINT_NAME",
    "DEFAULT_POLICY",
    "RESOLUTIONS",
    "Discriminator",
    "GanConfig",
    "GanTrainConfig",
    "Generator",
    "SampleResult",
    "TrainSummary",
    "diff_augment",
    "generate",
    "load_checkpoint",
    "load_generator",
    "load_release_images",
    "release_image_paths",
    "sample",
    "train_gan",
]
