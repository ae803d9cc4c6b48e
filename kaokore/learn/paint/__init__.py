"""Stroke-based painting of faces: the two neural painters of the KaoKore paper.

* :func:`paint_by_optimization` (``kaokore paint optimize``): differentiable Bezier strokes
  optimised against the reference, coarse to fine.
* :func:`train_agent` / :func:`paint_with_agent` (``kaokore paint agent`` / ``paint run``):
  a neural renderer and an actor trained through it, which paints a new face in one pass.

Both share the stroke (:mod:`kaokore.learn.paint.strokes`) and the figures
(:mod:`kaokore.learn.paint.figures`), so their paintings of the same faces compare directly.

>>> import torch
>>> from kaokore.learn.paint import OptimizeConfig, paint_by_optimization
>>> faces = torch.rand(2, 3, 32, 32)
>>> result = paint_by_optimization(faces, OptimizeConfig(strokes=8, stages=2, steps=5))
>>> result.strokes.shape
torch.Size([2, 8, 12])
"""

from kaokore.learn.paint.agent import (
    Actor,
    AgentConfig,
    AgentPainting,
    AgentSummary,
    load_actor,
    paint_with_agent,
    train_agent,
)
from kaokore.learn.paint.figures import PaintingFiles, stroke_frames, write_painting
from kaokore.learn.paint.neural import NeuralRenderer, RendererTrainConfig, train_renderer
from kaokore.learn.paint.optimize import OptimizeConfig, OptimizeResult, paint_by_optimization
from kaokore.learn.paint.runs import (
    RENDERERS,
    PaintingRun,
    optimize_images,
    run_agent,
    train_agent_on_release,
)
from kaokore.learn.paint.strokes import (
    MAX_RADIUS,
    PARAMS,
    SHAPE_PARAMS,
    composite,
    render,
    stroke_coverage,
)

__all__ = [
    "MAX_RADIUS",
    "PARAMS",
    "RENDERERS",
    "SHAPE_PARAMS",
    "Actor",
    "AgentConfig",
    "AgentPainting",
    "AgentSummary",
    "NeuralRenderer",
    "OptimizeConfig",
    "OptimizeResult",
    "PaintingFiles",
    "PaintingRun",
    "RendererTrainConfig",
    "composite",
    "load_actor",
    "optimize_images",
    "paint_by_optimization",
    "paint_with_agent",
    "render",
    "run_agent",
    "stroke_coverage",
    "stroke_frames",
    "train_agent",
    "train_agent_on_release",
    "train_renderer",
    "write_painting",
]
