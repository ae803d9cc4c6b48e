"""The building blocks of StyleGAN2 (Karras et al. 2020), written for clarity over speed.

* Equalised learning rate: weights are stored as N(0, 1) and scaled by ``1/sqrt(fan_in)`` at
  run time, so Adam's per-parameter step sizes are the same for every layer.
* Modulated convolution: each sample's style scales the input channels, the convolution
  weight is shared, and demodulation rescales each output channel to unit expected variance.
  This is the "non-fused" form, equal to scaling the weight per sample, but it runs as one
  ordinary convolution over the batch, which is what CPUs and cuDNN are fastest at.
* Noise inputs: per-pixel Gaussian noise, one learned strength per layer, for stochastic
  detail (hair strands, paper grain) that the style should not have to encode.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "NOISE_MODES",
    "EqualConv2d",
    "EqualLinear",
    "ModulatedConv2d",
    "SynthesisLayer",
    "ToRGB",
    "lrelu",
]

#: ``random``: fresh noise per call; ``const``: a fixed buffer per layer; ``none``: no noise.
NOISE_MODES = ("random", "const", "none")
_GAIN = math.sqrt(2.0)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU with the gain that keeps the activations' variance (StyleGAN's ``lrelu``)."""
    return F.leaky_relu(x, 0.2) * _GAIN


class EqualLinear(nn.Module):
    """A linear layer with equalised learning rate; ``lr_mul`` slows it (the mapping network)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return lrelu(out) if self.activation else out


class EqualConv2d(nn.Module):
    """A square convolution with equalised learning rate, 'same' padding, optional lrelu."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
        return lrelu(out) if self.activation else out


class ModulatedConv2d(nn.Module):
    """A convolution whose input channels are scaled by a per-sample style from ``w``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        *,
        demodulate: bool = True,
        up: bool = False,
    ) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.scale
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            # sum over (in, k, k) of (w * s)^2, per sample and output channel
            sq = weight.square().sum(dim=(2, 3))  # (out, in)
            demod = torch.rsqrt(styles.square() @ sq.t() + 1e-8)  # (N, out)
            x = x * demod[:, :, None, None]
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution, noise input, bias and lrelu: one layer of the generator."""

    noise_const: torch.Tensor

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *, up: bool = False
    ) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.resolution = resolution

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        *,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        x = self.conv(x, w)
        if noise_mode == "random":
            noise = torch.randn(
                x.shape[0], 1, self.resolution, self.resolution,
                device=x.device, dtype=x.dtype, generator=generator,
            )  # fmt: skip
            x = x + noise * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode != "none":
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, not {noise_mode!r}")
        return lrelu(x + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to RGB, without demodulation (it is an output layer)."""

    def __init__(self, in_channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x, w)
        return out + self.bias[None, :, None, None]
