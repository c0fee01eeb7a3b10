"""The web API's requests and responses, as pydantic models: every request is checked here.

The limits below keep one request cheap for the server: images are 784 finite brightnesses in
[0, 1]; a canvas is at most 280x280 grey levels; a network trained from the page has at most 4
hidden layers of at most 512 neurons and trains for at most 100 epochs. Layers are numbered as in
the lesson: layer 0 is the input, layer 1 the first hidden layer, layer L the output.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError
from ..settings import TrainingSettings
from .runstate import RunState

N_INPUTS = 784  # 28x28 pixels
N_OUTPUTS = 10  # the digits 0-9
MAX_CANVAS = 280  # a canvas grid larger than this gains nothing: MNIST's digits are 20x20
MAX_HIDDEN_LAYERS = 4
MAX_NEURONS = 512
MAX_EPOCHS = 100
MAX_BATCH = 1000
MAX_LEARNING_RATE = 10.0

Brightness = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Image784 = Annotated[list[Brightness], Field(min_length=N_INPUTS, max_length=N_INPUTS,
                                             description="784 brightnesses in [0, 1], the 28x28 image row by row")]
Label = Annotated[int, Field(ge=0, le=N_OUTPUTS - 1, description="the right digit, 0-9")]
LearningRate = Annotated[float, Field(gt=0.0, le=MAX_LEARNING_RATE, allow_inf_nan=False,
                                      description="eta, the size of a gradient step")]


class Strict(BaseModel):
    """Requests reject unknown fields, so a typo ("learning_rte") is an error, not a silent default,
    and values of the wrong JSON type (true for a number, "3" for 3) instead of converting them."""

    model_config = ConfigDict(extra="forbid", strict=True)  # strict: false is not 0, "3" is not 3


# -- requests -------------------------------------------------------------------------------------------


class ImageRequest(Strict):
    input: Image784


class CanvasRequest(Strict):
    """A drawing: a grey grid of ``height`` rows of ``width`` levels 0-255 (e.g. the canvas's alpha
    channel, downsampled), one byte per pixel row by row, base64-encoded (4x smaller and ~20x faster
    to read than a JSON list). Either polarity; it is brought to MNIST's form on the server."""

    width: int = Field(ge=8, le=MAX_CANVAS)
    height: int = Field(ge=8, le=MAX_CANVAS)
    pixels: str = Field(max_length=4 * (MAX_CANVAS * MAX_CANVAS + 2) // 3, pattern=r"^[A-Za-z0-9+/]*={0,2}$",
                        description="base64 of width x height bytes, 0 = no ink ... 255 = full ink")

    @model_validator(mode="after")
    def _whole_grid(self) -> CanvasRequest:
        try:
            n = len(base64.b64decode(self.pixels, validate=True))
        except binascii.Error as e:
            raise ValueError(f"pixels must be base64: {e}") from None
        if n != self.width * self.height:
            raise ValueError(f"expected width x height = {self.width * self.height} bytes of pixels, got {n}")
        return self

    def grid(self) -> np.ndarray:
        """The pixels as a (height, width) uint8 array."""
        data = np.frombuffer(base64.b64decode(self.pixels), dtype=np.uint8)
        return data.reshape(self.height, self.width)


class NeuronRequest(Strict):
    layer: int = Field(ge=1, le=MAX_HIDDEN_LAYERS + 1, description="1 = first hidden layer, L = output layer")
    index: int = Field(ge=0, lt=MAX_NEURONS, description="the neuron's index in its layer, from 0")
    input: Image784 | None = Field(default=None, description="the current image, to compute z and a")


class BackpropRequest(Strict):
    input: Image784
    label: Label
    learning_rate: LearningRate = 1.5
    top: int = Field(default=12, ge=1, le=100, description="how many of the most-changed weights to list")


class StepRequest(Strict):
    input: Image784
    label: Label
    learning_rate: LearningRate = 1.5


class TrainRequest(Strict):
    """Settings of a training run started from the page."""

    hidden: list[Annotated[int, Field(ge=1, le=MAX_NEURONS)]] = Field(
        default=[16, 16], max_length=MAX_HIDDEN_LAYERS, description="hidden layer sizes, e.g. [16, 16]")
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    cost: Literal["quadratic", "cross-entropy"] = "quadratic"
    learning_rate: LearningRate = 1.5
    batch_size: int = Field(default=10, ge=1, le=MAX_BATCH)
    epochs: int = Field(default=3, ge=1, le=MAX_EPOCHS)
    limit: int | None = Field(default=None, ge=100, le=60000,
                              description="train on only the first `limit` training images (default: all)")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    seconds_per_batch: float | None = Field(
        default=None, ge=0.05, le=5.0, allow_inf_nan=False,
        description="start in slow motion: one mini-batch every this many seconds; null: full speed")

    @model_validator(mode="after")
    def _valid_settings(self) -> TrainRequest:
        try:
            self.training_settings()
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return self

    def training_settings(self) -> TrainingSettings:
        """The request's SGD settings, checked as every training run's are."""
        return TrainingSettings.from_dict(self.model_dump(), partial=True)


Seed = Annotated[int, Field(ge=0, le=2**32 - 1,
                            description="the random generator's seed: the same seed, the same noise")]


class MisreadRequest(Strict):
    """One cell of the confusion matrix: the test images labelled ``label`` that the network reads as ``guess``."""

    label: Label
    guess: Label
    limit: int = Field(default=24, ge=1, le=64,
                       description="how many of the cell's images to send, the most confident first")


class DreamRequest(Strict):
    """Gradient ascent on the input pixels (``digitnet show dream``), for each digit in ``digits``."""

    digits: list[Label] = Field(default=list(range(N_OUTPUTS)), min_length=1, max_length=N_OUTPUTS)
    steps: int = Field(default=200, ge=0, le=300, description="ascent steps at most (it stops at a local maximum)")
    start: Literal["noise", "blank"] = Field(default="noise", description="faint random noise, or a blank image")
    seed: Seed = 0


class NoiseRequest(Strict):
    """The noise test (``digitnet show noise``): ``n`` images of uniform random pixels."""

    n: int = Field(default=1000, ge=1, le=5000)
    seed: Seed = 0


class SaveRequest(Strict):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$",
                             description="file name without extension; default: from the layer sizes and time")


# -- responses ------------------------------------------------------------------------------------------


class ErrorMessage(BaseModel):
    detail: str


class ModelInfo(BaseModel):
    sizes: list[int]
    activation: str
    cost: str
    hidden_symbol: str = Field(description="the hidden layers' sigma as written in a = sigma(z): σ or relu")
    output_symbol: str = Field(description="the output layer's: σ (quadratic cost) or softmax (cross-entropy)")
    cost_formula: str = Field(description="the cost of one example, C_0, as the page writes it")
    hidden_bounded: bool = Field(description="whether hidden activations lie in [0, 1] (sigmoid; not ReLU)")
    n_parameters: int
    source: str = Field(description="where the network came from: a file, the startup training, the page")
    test_accuracy: float | None = Field(description="accuracy on the 10,000 test images, when known")


class Status(BaseModel):
    ready: bool = Field(description="whether a network is loaded and the page can draw")
    message: str
    model: ModelInfo | None
    model_version: int = Field(description="changes whenever the network this visitor draws with changes")
    run: int | None = Field(None, description="the training run of the network this visitor draws with; "
                                              "null: the server's own network")
    training: RunState = Field(description="the state of the latest training run")
    progress: float = Field(ge=0, le=1, description="progress of the current training run (while no network is "
                                                    "ready: of the default network's training)")
    class_names: list[str] = Field(description="the name of each output, index = label")


class LayerActivity(BaseModel):
    z: list[float] = Field(description="weighted sums z = W a + b")
    a: list[float] = Field(description="activations a = sigma(z)")


class ForwardResponse(BaseModel):
    input: list[float] = Field(description="the 784 input brightnesses the network sees")
    layers: list[LayerActivity] = Field(description="layer 1 (first hidden) to L (output)")
    output: list[float]
    guess: int
    blank: bool = Field(description="the image holds no ink")
    model_version: int


class ExampleResponse(ForwardResponse):
    index: int
    label: int


class Connections(BaseModel):
    """The strongest connections into one layer: neuron ``to[i]`` is fed by ``from_[i]`` with ``weight[i]``."""

    model_config = ConfigDict(populate_by_name=True)

    layer: int
    to: list[int]
    from_: list[int] = Field(alias="from")
    weight: list[float]
    max_abs: float = Field(description="the largest |w| into this layer, to scale line widths")


class NetworkInfo(BaseModel):
    model: ModelInfo
    model_version: int
    biases: list[list[float]]
    connections: list[Connections]


class ActivationCurve(BaseModel):
    z: list[float] = Field(description="weighted sums z, from -h to h, covering every z of the layer")
    a: list[float] = Field(description="the activation at each z, the layer's other neurons held")


class NeuronResponse(BaseModel):
    layer: int
    index: int
    weights: list[float] = Field(description="incoming weights, one per neuron of the layer before")
    bias: float
    image_side: int | None = Field(description="28 when the weights come from the 28x28 input image")
    z: float | None
    a: float | None
    inputs: list[float] | None = Field(description="the activations of the layer before, for the current image")
    curve: ActivationCurve | None = Field(description="a as this neuron's z alone varies, for the current image")
    slope: float | None = Field(description="da/dz at this z: sigma'(z)")
    saturated: bool | None = Field(
        description="the slope is under 1% of the curve's steepest: this neuron barely learns")
    model_version: int


class WeightChange(BaseModel):
    layer: int
    to: int
    from_: int = Field(alias="from")
    weight: float
    change: float = Field(description="-eta dC/dw: how much one gradient step changes this weight")

    model_config = ConfigDict(populate_by_name=True)


class BackpropResponse(BaseModel):
    label: int
    cost: float = Field(description="C_0 for this example")
    output: list[float]
    target: list[float]
    wants: list[list[float]] = Field(
        description="-dC/da for layers 1..L: how each neuron's activation should change, and how much")
    weight_changes: list[WeightChange]
    layers: list[LayerActivity] = Field(description="z and a of layers 1..L of the network the wishes are of "
                                                    "(the practice copy, after its steps)")
    output_z: list[float] = Field(description="z_L of the output layer")
    output_delta: list[float] = Field(description="delta_L = dC/dz_L: small where the output's sigma is flat "
                                                  "(saturated), however wrong a_L is")
    wants_scale: list[float] = Field(description="for each layer 1..L, the scale of |-dC/da| the page draws on: "
                                                 "fixed for the network, not rescaled for each example")
    change_scale: float = Field(description="the scale of |-eta dC/dw| the page draws weight changes on")
    steps_taken: int = Field(description="gradient steps already taken on this visitor's practice copy")
    model_version: int


class StepResponse(BaseModel):
    before: list[float]
    after: list[float]
    cost_before: float
    cost_after: float
    guess_before: int
    guess_after: int
    steps_taken: int
    model_version: int


class ScratchStatus(BaseModel):
    steps_taken: int


class CurvePoint(BaseModel):
    epoch: float = Field(description="epochs done, fractional within an epoch")
    step: int = Field(0, description="mini-batch steps done")
    cost: float
    accuracy: float


class BatchPoint(BaseModel):
    """The mean cost of the mini-batches of one piece of training, each before its step."""

    step: int = Field(description="mini-batch steps done after the piece")
    epoch: float
    cost: float


class EpochRecord(BaseModel):
    epoch: int
    learning_rate: float
    train_cost: float
    train_accuracy: float | None
    test_cost: float | None = None
    test_accuracy: float | None = None
    seconds: float


class TrainSettings(BaseModel):
    sizes: list[int]
    activation: str
    cost: str
    learning_rate: float
    batch_size: int
    epochs: int
    limit: int | None
    seed: int | None


class TrainStatus(BaseModel):
    run: int = Field(description="number of the run, from 1; 0 before any")
    state: RunState
    message: str
    settings: TrainSettings | None
    epoch: int = Field(description="epochs finished")
    progress: float = Field(ge=0, le=1)
    points: list[CurvePoint]
    batches: list[BatchPoint] = []
    history: list[EpochRecord]
    has_network: bool = Field(description="a trained network is there to use, save or download")
    step: int = Field(0, description="mini-batch steps done")
    total_steps: int = 0
    steps_per_epoch: int = 0
    speed: float | None = Field(None, description="seconds per mini-batch in slow motion; null: full speed")


class WeightImages(BaseModel):
    """First-layer weights of up to 32 neurons, each as 784 bytes (int8, base64): w / scale * 127."""

    run: int
    neurons: int = Field(description="neurons in the first hidden layer")
    scale: list[float]
    data: list[str]


class SavedModel(BaseModel):
    path: str
    filename: str


class TemplatesResponse(BaseModel):
    """Second-layer neurons seen through the first layer, (W[1] W[0]) row by row: up to 32, each as 784
    bytes (int8, base64) = value / scale * 127."""

    neurons: int = Field(description="neurons in the second layer")
    scale: list[float]
    images: list[str]
    model_version: int


class ConfusionResponse(BaseModel):
    counts: list[list[int]] = Field(description="counts[label][guess] over the test images")
    total: int
    accuracy: float
    model_version: int


class MisreadResponse(BaseModel):
    label: int
    guess: int
    count: int = Field(description="test images in this cell")
    index: list[int] = Field(
        description="their numbers in the test set (for /api/example?index=), most confident first")
    confidence: list[float] = Field(description="the output activation of the guess, for each")
    images: list[str] = Field(description="each image as 784 bytes 0-255, base64")
    model_version: int


class DreamImage(BaseModel):
    digit: int
    image: str = Field(description="the image after the ascent, 784 bytes 0-255, base64")
    start: float = Field(description="a_D for the starting image")
    activation: float = Field(description="a_D for the dreamt image")
    steps: int = Field(description="ascent steps taken")
    guess: int = Field(description="what the network reads in the dreamt image")


class DreamResponse(BaseModel):
    dreams: list[DreamImage]
    model_version: int


class NoiseResponse(BaseModel):
    n: int
    digits: int = Field(description="test digits compared")
    bins: list[float] = Field(description="edges of the confidence histogram's bins over [0, 1]")
    noise_histogram: list[int]
    digit_histogram: list[int]
    noise_median: float = Field(description="the median largest output activation on noise")
    digit_median: float = Field(description="the same on the test digits")
    noise_guesses: list[int] = Field(description="how often each digit is guessed for noise")
    images: list[str] = Field(description="a few of the noise images, 784 bytes 0-255, base64")
    guesses: list[int]
    confidences: list[float]
    model_version: int
