"""A StyleGAN2-style generator and a residual discriminator for 64, 128 or 256 px faces.

Generator: ``z`` is normalised and mapped by an MLP (learning rate x0.01) to ``w``; the
synthesis network starts from a learned 4x4 constant and doubles the resolution per block,
each layer modulated by ``w`` (one style input per layer, so styles can be mixed), with noise,
and an RGB output per block summed through upsampling ("skip" architecture). A running mean
of ``w`` is tracked during training for the truncation trick: ``w' = w_avg + psi (w - w_avg)``
trades variety for fidelity as ``psi`` goes below 1.

Discriminator: residual blocks down to 4x4, a minibatch standard-deviation feature (so it
can see a lack of variety in a batch) and a linear head giving one logit per image.

Simplifications against StyleGAN2, to keep the code short and CPU friendly: bilinear
up/downsampling instead of FIR filters, and no path-length regularisation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from kaokore.learn.gan.layers import EqualConv2d, EqualLinear, SynthesisLayer, ToRGB

__all__ = ["RESOLUTIONS", "Discriminator", "GanConfig", "Generator", "MappingNetwork"]

#: The output sizes the networks are built for.
RESOLUTIONS = (32, 64, 128, 256)


@dataclass(frozen=True, kw_only=True)
class GanConfig:
    """The architecture, stored in every checkpoint so that a sampler can rebuild it.

    ``channels(res) = min(channel_max, 32 * channel_max // res)``: full width up to 32 px,
    halving at each doubling above (StyleGAN2-ADA's ``cbase = 32 * cmax``): with 512, 256
    channels at 64 px, 128 at 128 px, 64 at 256 px. The high resolutions dominate the cost.
    """

    res: int = 64
    z_dim: int = 256
    w_dim: int = 256
    mapping_layers: int = 4
    channel_max: int = 512

    def __post_init__(self) -> None:
        if self.res not in RESOLUTIONS:
            raise ValueError(f"res must be one of {RESOLUTIONS}, not {self.res}")

    def channels(self, res: int) -> int:
        """Feature maps at resolution ``res``."""
        return min(self.channel_max, 32 * self.channel_max // res)

    @property
    def block_resolutions(self) -> list[int]:
        """4, 8, ..., res."""
        return [2**i for i in range(2, int(math.log2(self.res)) + 1)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MappingNetwork(nn.Module):
    """``z`` (normalised) -> ``w`` through an MLP with a 100x lower learning rate."""

    def __init__(self, z_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(
            *[
                EqualLinear(a, b, lr_mul=0.01, activation=True)
                for a, b in zip(dims[:-1], dims[1:], strict=True)
            ]
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        out: torch.Tensor = self.net(z)
        return out


class SynthesisBlock(nn.Module):
    """One resolution: (upsampling) modulated convolutions, then an RGB output."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, res: int) -> None:
        super().__init__()
        self.first = res == 4
        self.conv0 = (
            None if self.first else SynthesisLayer(in_channels, out_channels, w_dim, res, up=True)
        )
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, res)
        self.torgb = ToRGB(out_channels, w_dim)
        #: style inputs this block reads (its convolutions and its RGB output)
        self.num_ws = 2 if self.first else 3

    def forward(
        self,
        x: torch.Tensor,
        rgb: torch.Tensor | None,
        ws: torch.Tensor,
        *,
        noise_mode: str,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        i = 0
        if self.conv0 is not None:
            x = self.conv0(x, ws[:, 0], noise_mode=noise_mode, generator=generator)
            i = 1
        x = self.conv1(x, ws[:, i], noise_mode=noise_mode, generator=generator)
        y = self.torgb(x, ws[:, i + 1])
        if rgb is not None:
            y = y + F.interpolate(rgb, scale_factor=2.0, mode="bilinear", align_corners=False)
        return x, y


class Generator(nn.Module):
    """Mapping network + synthesis network; ``forward(z)`` gives images in about ``[-1, 1]``."""

    w_avg: torch.Tensor

    def __init__(self, config: GanConfig, *, w_avg_beta: float = 0.995) -> None:
        super().__init__()
        self.config = config
        self.mapping = MappingNetwork(config.z_dim, config.w_dim, config.mapping_layers)
        first = config.channels(4)
        self.const = nn.Parameter(torch.randn(first, 4, 4))
        blocks: list[SynthesisBlock] = []
        previous = first
        for res in config.block_resolutions:
            blocks.append(SynthesisBlock(previous, config.channels(res), config.w_dim, res))
            previous = config.channels(res)
        self.blocks = nn.ModuleList(blocks)
        # consecutive blocks share one index: a block's RGB style is the next block's first
        self.num_ws = 2 * len(blocks)
        self.register_buffer("w_avg", torch.zeros(config.w_dim))
        self.w_avg_beta = w_avg_beta

    def map(
        self, z: torch.Tensor, *, truncation: float = 1.0, update_w_avg: bool = False
    ) -> torch.Tensor:
        """``z`` -> per-layer styles ``ws (N, num_ws, w_dim)``, truncated towards ``w_avg``."""
        w: torch.Tensor = self.mapping(z)
        if update_w_avg:
            self.w_avg.copy_(w.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if truncation != 1.0:
            w = self.w_avg.lerp(w, truncation)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(
        self,
        ws: torch.Tensor,
        *,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Per-layer styles -> images ``(N, 3, res, res)``."""
        x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
        rgb: torch.Tensor | None = None
        index = 0
        for block in cast(list[SynthesisBlock], list(self.blocks)):
            x, rgb = block(
                x,
                rgb,
                ws[:, index : index + block.num_ws],
                noise_mode=noise_mode,
                generator=generator,
            )
            index += block.num_ws - 1
        assert rgb is not None
        return rgb

    def forward(
        self,
        z: torch.Tensor,
        *,
        truncation: float = 1.0,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        ws = self.map(z, truncation=truncation)
        return self.synthesis(ws, noise_mode=noise_mode, generator=generator)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """Append the mean standard deviation of features across a group of samples as a channel."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    while n % g:
        g -= 1
    y = x.reshape(g, n // g, c, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
    y = y.mean(dim=(1, 2, 3)).reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w)
    return torch.cat([x, y.reshape(n, 1, h, w)], dim=1)


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions and a 2x average-pool downsample, with a 1x1 residual skip."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, activation=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip: torch.Tensor = self.skip(F.avg_pool2d(x, 2))
        x = F.avg_pool2d(self.conv1(self.conv0(x)), 2)
        return (x + skip) / math.sqrt(2.0)


class Discriminator(nn.Module):
    """A residual discriminator; ``forward(images)`` gives one real/fake logit per image."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        resolutions = config.block_resolutions[::-1]  # res, ..., 4
        self.fromrgb = EqualConv2d(3, config.channels(config.res), 1)
        self.blocks = nn.Sequential(
            *[
                DiscriminatorBlock(config.channels(r), config.channels(r // 2))
                for r in resolutions[:-1]
            ]
        )
        last = config.channels(4)
        self.conv = EqualConv2d(last + 1, last, 3)
        self.fc = EqualLinear(last * 16, last, activation=True)
        self.out = EqualLinear(last, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.fromrgb(images))
        x = self.conv(minibatch_stddev(x))
        logits: torch.Tensor = self.out(self.fc(x.flatten(1)))
        return logits.squeeze(1)
