"""The stroke: a quadratic Bezier brush stroke, and its differentiable analytic rasteriser.

A stroke is 12 numbers in ``[0, 1]`` (the layout of *Learning to Paint*, Huang et al. 2019):

=========  ==========================================================================
0-5        start, control and end points ``(x0, y0, x1, y1, x2, y2)``, unit coordinates
6-7        radius at the start and at the end (``1`` = :data:`MAX_RADIUS` of the side)
8          opacity
9-11       colour (RGB)
=========  ==========================================================================

The first :data:`SHAPE_PARAMS` describe the footprint, which is what a neural renderer has to
learn; opacity and colour are applied analytically when compositing.

Rasterising: the curve is sampled at ``samples`` points, and every pixel takes its distance to
the nearest polyline segment, the radius interpolated along that segment, and a coverage
``sigmoid((radius - distance) / softness)``. Every step is smooth (almost everywhere), so
gradients reach every parameter; coordinates are in units of the side, so the same strokes can
be rendered at any size (a painting optimised at 64 px can be shown at 256 px).
"""

from __future__ import annotations

import torch

__all__ = [
    "MAX_RADIUS",
    "curve_coverage",
    "end_radii",
    "MIN_RADIUS_PX",
    "PARAMS",
    "SHAPE_PARAMS",
    "composite",
    "render",
    "stroke_coverage",
]

PARAMS = 12
SHAPE_PARAMS = 8
#: Radius of a stroke whose radius parameter is 1, as a fraction of the canvas side.
MAX_RADIUS = 0.25
#: Every stroke is at least this thick, in pixels, so that thin strokes do not vanish.
MIN_RADIUS_PX = 0.5
#: Pixels beyond a stroke's edge still rasterised (coverage there is below 0.3%).
_WINDOW_MARGIN_PX = 3.0
#: Largest intermediate tensor of the nearest-segment search, in elements.
_CHUNK_ELEMENTS = 1 << 21
#: Strokes composited in one vectorised group.
_COMPOSITE_GROUP = 32


def end_radii(shape: torch.Tensor, size: int) -> torch.Tensor:
    """Radii ``(..., 2)`` at the start and end of strokes ``(..., 8+)``, in units of the side."""
    low = MIN_RADIUS_PX / size
    return low + (MAX_RADIUS - low) * shape[..., 6:8]


def _bezier(
    control: torch.Tensor, radii: torch.Tensor, samples: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``(M, T, 2)`` and radii ``(M, T)`` along curves ``control (M, 3, 2)``."""
    t = torch.linspace(0, 1, samples, device=control.device, dtype=control.dtype)[None, :, None]
    p0, p1, p2 = control[:, None, 0], control[:, None, 1], control[:, None, 2]
    points = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    tt = t[..., 0]
    radius = (1 - tt) * radii[:, None, 0] + tt * radii[:, None, 1]
    return points, radius


def _segment_margin(
    ax: torch.Tensor,
    ay: torch.Tensor,
    dx: torch.Tensor,
    dy: torch.Tensor,
    ra: torch.Tensor,
    dr: torch.Tensor,
    px: torch.Tensor,
    py: torch.Tensor,
) -> torch.Tensor:
    """``radius - distance`` of pixels ``(px, py)`` to segments ``a -> a + d`` (broadcasting)."""
    ex, ey = px - ax, py - ay
    u = ((ex * dx + ey * dy) / (dx * dx + dy * dy + 1e-12)).clamp(0, 1)
    ex, ey = ex - u * dx, ey - u * dy
    return ra + u * dr - (ex * ex + ey * ey + 1e-10).sqrt()


def stroke_coverage(
    shape: torch.Tensor, size: int, *, samples: int = 16, softness_px: float = 0.5
) -> torch.Tensor:
    """Footprints ``(..., size, size)`` in ``[0, 1]`` of strokes ``shape (..., 8)``.

    Two things make this fast enough for a CPU:

    * Local windows: each stroke is rasterised only in a square window around its bounding
      box (one window size for the batch, the largest needed), then placed on the canvas.
      Small strokes cost their area, not the canvas's.
    * The nearest segment of each pixel is found without autograd, one segment at a time;
      only that segment's margin is recomputed with autograd (the gradient of a max is the
      gradient at its argmax), so memory and backward time do not grow with ``samples``.
    """
    lead = shape.shape[:-1]
    flat = shape.reshape(-1, shape.shape[-1])
    coverage = curve_coverage(
        flat[:, :6].reshape(-1, 3, 2), end_radii(flat, size), size,
        samples=samples, softness_px=softness_px,
    )  # fmt: skip
    return coverage.reshape(*lead, size, size)


def curve_coverage(
    control: torch.Tensor,
    radii: torch.Tensor,
    size: int,
    *,
    samples: int = 16,
    softness_px: float = 0.5,
) -> torch.Tensor:
    """Footprints ``(M, size, size)`` of curves ``control (M, 3, 2)`` with end ``radii (M, 2)``.

    Coordinates and radii are in units of the side; see :func:`stroke_coverage`.
    """
    m, device, dtype = control.shape[0], control.device, control.dtype
    if m == 0:
        return control.new_zeros(0, size, size)
    points, radius = _bezier(control, radii, samples)
    a, d = points[:, :-1], points[:, 1:] - points[:, :-1]  # (M, S, 2)
    ra, dr = radius[:, :-1], radius[:, 1:] - radius[:, :-1]  # (M, S)
    with torch.no_grad():
        reach = radius[..., None] + (_WINDOW_MARGIN_PX * softness_px / 0.5) / size
        low = ((points - reach).amin(dim=1) * size).floor()  # (M, 2) in pixels, (x, y)
        high = ((points + reach).amax(dim=1) * size).ceil()
        width = int(min(size, max(1.0, float((high - low).amax()))))
        origin = low.clamp(0, size - width).long()  # window corners, inside the canvas
        steps = torch.arange(width, device=device)
        ix = origin[:, 0, None] + steps  # (M, W) absolute pixel columns
        iy = origin[:, 1, None] + steps
        px = ((ix.to(dtype) + 0.5) / size)[:, None, :]  # (M, 1, W)
        py = ((iy.to(dtype) + 0.5) / size)[:, :, None]  # (M, W, 1)
        # segments in chunks: vectorised while small, bounded in memory when large
        chunk = max(1, _CHUNK_ELEMENTS // (m * width * width))
        best: torch.Tensor | None = None
        arg = torch.zeros((m, width, width), device=device, dtype=torch.long)
        for s0 in range(0, samples - 1, chunk):
            part = slice(s0, s0 + chunk)
            margin = _segment_margin(
                a[:, part, 0, None, None],
                a[:, part, 1, None, None],
                d[:, part, 0, None, None],
                d[:, part, 1, None, None],
                ra[:, part, None, None],
                dr[:, part, None, None],
                px[:, None],
                py[:, None],
            )  # fmt: skip  (M, chunk, W, W)
            value, where = margin.max(dim=1)
            if best is None:
                best, arg = value, where
            else:
                better = value > best
                best = torch.where(better, value, best)
                arg = torch.where(better, where + s0, arg)
        index = arg.view(m, -1)  # (M, W*W)
        flat = (iy[:, :, None] * size + ix[:, None, :]).view(m, -1)  # canvas positions

    def pick(values: torch.Tensor) -> torch.Tensor:
        return torch.gather(values, 1, index)

    margin = _segment_margin(
        pick(a[..., 0]), pick(a[..., 1]), pick(d[..., 0]), pick(d[..., 1]), pick(ra), pick(dr),
        px.expand(m, width, width).reshape(m, -1), py.expand(m, width, width).reshape(m, -1),
    )  # fmt: skip
    local = torch.sigmoid(margin * (size / softness_px))
    coverage = local.new_zeros(m, size * size).scatter(1, flat, local)
    return coverage.view(m, size, size)


def composite(
    canvas: torch.Tensor,
    coverage: torch.Tensor,
    opacity: torch.Tensor,
    colour: torch.Tensor,
) -> torch.Tensor:
    """Paint strokes in order onto ``canvas (N, 3, H, W)``.

    ``coverage (N, K, H, W)``, ``opacity (N, K)``, ``colour (N, K, 3)``; each stroke blends
    its colour over what is below with alpha ``opacity * coverage``. Computed in closed form
    per group of strokes, ``canvas * T_0 + sum_k alpha_k colour_k T_(k+1)`` with ``T_k`` the
    product of ``1 - alpha`` of strokes ``k`` and later, which is much faster than one blend
    per stroke (and its backward) on a CPU.
    """
    for start in range(0, coverage.shape[1], _COMPOSITE_GROUP):
        part = slice(start, start + _COMPOSITE_GROUP)
        # in reverse order (top stroke first) the products are plain cumulative products
        alpha = (coverage[:, part] * opacity[:, part, None, None]).flip(1)  # (N, G, H, W)
        kept = torch.cumprod(1 - alpha, dim=1)  # kept[r]: light through the top r+1 strokes
        through = torch.cat([torch.ones_like(kept[:, :1]), kept[:, :-1]], dim=1)
        paint = torch.einsum("nkhw,nkc->nchw", alpha * through, colour[:, part].flip(1))
        canvas = canvas * kept[:, -1:] + paint
    return canvas


def render(
    strokes: torch.Tensor,
    canvas: torch.Tensor,
    *,
    samples: int = 16,
    softness_px: float = 0.5,
) -> torch.Tensor:
    """Paint ``strokes (N, K, 12)`` onto ``canvas (N, 3, S, S)`` with the analytic rasteriser."""
    size = canvas.shape[-1]
    coverage = stroke_coverage(
        strokes[..., :SHAPE_PARAMS], size, samples=samples, softness_px=softness_px
    )
    return composite(canvas, coverage, strokes[..., 8], strokes[..., 9:12])
