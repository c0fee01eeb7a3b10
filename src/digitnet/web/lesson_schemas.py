"""Requests and responses of the lessons' views (lessons.py): speed, steps, nudges, surface, replay.

Limits keep each request cheap: a surface is at most 41x41 points on 1,000 images; the gradient
lists at most 2,000 entries; recording names are plain file names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .schemas import Image784, Strict

MAX_RESOLUTION = 41


class SpeedRequest(Strict):
    seconds_per_batch: float | None = Field(
        default=None, ge=0.05, le=5.0, allow_inf_nan=False,
        description="slow motion: one mini-batch every this many seconds (0.5: the lesson's pace); null: full speed")


class StepReport(BaseModel):
    """What one mini-batch step changed: the batch's cost and the fixed sample's, before and after."""

    step: int = Field(description="steps done after this one")
    indices: list[int] = Field(description="the mini-batch: indices into the training images")
    batch_cost_before: float
    batch_cost_after: float
    sample_cost_before: float
    sample_cost_after: float


class ParameterName(BaseModel):
    layer: int = Field(description="layer of weights, 0 = from the input to the first hidden layer")
    kind: Literal["W", "b"]
    row: int = Field(description="the neuron fed (in layer + 1)")
    col: int | None = Field(description="the neuron feeding it (in layer); none for a bias")
    name: str = Field(description="e.g. W0[3, 405] or b1[7]")


class MiniBatch(BaseModel):
    """The next mini-batch of a paused run, opened up: each example's cost, guess and nudge."""

    step: int = Field(description="the step this mini-batch is for (steps done so far)")
    indices: list[int]
    labels: list[int]
    guesses: list[int]
    costs: list[float] = Field(description="each example's cost C_k")
    images: list[str] = Field(description="each image as 784 bytes (uint8, base64)")
    parameter: ParameterName
    value: float = Field(description="the parameter's current value")
    nudges: list[float] = Field(description="each example's wish -dC_k/dw")
    average: float = Field(description="their mean, -dC/dw: the step moves the parameter by learning rate times it")
    learning_rate: float


class GradientEntry(BaseModel):
    parameter: ParameterName
    gradient: float = Field(description="dC/dw on the mini-batch")


class RankedGradientResponse(BaseModel):
    """The gradient of the next mini-batch's cost, its largest entries first."""

    step: int
    n_parameters: int
    norm: float = Field(description="|grad C|")
    top: list[GradientEntry]
    share: dict[str, float] = Field(description="n -> the share of |grad C|^2 the n largest entries carry")
    scale: list[float] = Field(description="per first-layer neuron, its largest |dC/dw|")
    images: list[str] = Field(description="per first-layer neuron, dC/dW as 784 int8 (base64): g / scale * 127")


class SurfaceRequest(Strict):
    directions: Literal["gradient", "path"] = "gradient"
    resolution: int = Field(default=21, ge=5, le=MAX_RESOLUTION)
    span: float | None = Field(default=None, gt=0.0, le=100.0, allow_inf_nan=False,
                               description="the grid covers [-span, span]; default: 1 (gradient) or the path's size")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="the random direction's seed")


class SurfaceResponse(BaseModel):
    step: int
    directions: str
    alpha: list[float]
    beta: list[float]
    cost: list[list[float]] = Field(description="cost[i][j] at alpha[j], beta[i]")
    path: list[list[float]] = Field(description="the snapshots of training so far, as (alpha, beta), oldest first")
    explained: float | None = Field(description="share of the path's spread in this plane")
    origin_cost: float = Field(description="the cost at the current weights (alpha = beta = 0)")
    sample_cost: float = Field(description="the network's own cost on the sample, computed directly")
    images: int = Field(description="the fixed sample of test images the cost is measured on")


class ReplayState(BaseModel):
    """The recorded run as it was after ``step`` steps."""

    step: int
    total_steps: int = Field(description="the last step recorded")
    steps_per_epoch: int
    epoch: float
    points: list[dict[str, float]] = Field(description="the curve points recorded up to this step")
    scale: list[float]
    images: list[str] = Field(description="first-layer weights, as in /api/train/weights")


class ReplayForwardRequest(Strict):
    step: int = Field(ge=0, le=10_000_000)
    image: Image784


class RecordingName(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="file name without extension")


class RecordingInfo(BaseModel):
    filename: str
    steps: int
    snapshots: int
