"""Export a network to ONNX, so any ONNX runtime (onnxruntime, browsers, phones) can run it.

Each layer a' = sigma(W a + b) becomes two ONNX nodes: a ``Gemm`` computing ``z = a @ W.T + b``
(Gemm with transB=1, so W is stored as digitnet keeps it, (k, n)) and the activation: ``Sigmoid``
or ``Relu`` for hidden layers, and for the output layer ``Sigmoid`` (quadratic cost) or ``Softmax``
(cross-entropy), the same output as ``Network.predict_proba``.

The graph's input is ``image``, float32 (N, 784) with brightnesses in [0, 1] (N, the batch size,
is free); its output is ``probabilities``, float32 (N, 10). Weights are stored as float32 whatever
the network's dtype. The model's metadata records the sizes, activation and cost.

Needs the ``onnx`` package (``pip install 'digitnet[onnx]'``, which also brings onnxruntime).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .costs import get_cost
from .errors import DigitNetError, ModelFileError
from .netlike import NetworkLike

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
# Opset 13 has every operator used here with today's semantics (Softmax over one axis) and is run
# by every maintained ONNX runtime; IR version 8 is the one that goes with it.
OPSET = 13
IR_VERSION = 8

# The hidden layers' activation, and the output layer's for each cost, as ONNX operators.
HIDDEN_OPS = {"sigmoid": "Sigmoid", "relu": "Relu"}
OUTPUT_OPS = {"quadratic": "Sigmoid", "cross-entropy": "Softmax"}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise DigitNetError(
            "exporting to ONNX needs the onnx package: pip install 'digitnet[onnx]'"
        ) from None
    return onnx


def to_model(net: NetworkLike) -> Any:
    """The ONNX ModelProto of ``net``: per layer a Gemm (z = a W^T + b) and its activation."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    if net.activation not in HIDDEN_OPS or net.cost_name not in OUTPUT_OPS:
        raise DigitNetError(
            f"cannot export a network with activation {net.activation!r} and cost {net.cost_name!r} to ONNX: "
            f"digitnet knows the ONNX operators for activations {sorted(HIDDEN_OPS)} and costs {sorted(OUTPUT_OPS)}"
        )
    n, k = net.sizes[0], net.sizes[-1]
    nodes, weights = [], []
    a = INPUT_NAME
    last = len(net.W) - 1
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        weights.append(numpy_helper.from_array(np.asarray(W, dtype=np.float32), name=f"W{l}"))  # (k, n)
        weights.append(numpy_helper.from_array(np.asarray(b, dtype=np.float32), name=f"b{l}"))  # (k,)
        z = f"z{l}"
        nodes.append(helper.make_node("Gemm", [a, f"W{l}", f"b{l}"], [z], name=f"layer{l}_weighted_sum", transB=1))
        a = OUTPUT_NAME if l == last else f"a{l + 1}"
        attributes: dict[str, Any] = {}
        if l == last:
            op = OUTPUT_OPS[net.cost_name]
            if op == "Softmax":
                attributes["axis"] = 1  # over each row's outputs, not the batch
        else:
            op = HIDDEN_OPS[net.activation]
        nodes.append(helper.make_node(op, [z], [a], name=f"layer{l}_activation", **attributes))

    graph = helper.make_graph(
        nodes,
        "digitnet",
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", n])],
        outputs=[helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", k])],
        initializer=weights,
    )
    graph.doc_string = (
        f"digitnet network {'-'.join(map(str, net.sizes))}: input {INPUT_NAME!r} float32 (N, {n}) "
        f"brightnesses in [0, 1]; output {OUTPUT_NAME!r} float32 (N, {k})"
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="digitnet",
        producer_version=_version(),
        ir_version=IR_VERSION,
    )
    helper.set_model_props(model, {
        "sizes": json.dumps(list(net.sizes)),
        "activation": net.activation,
        "cost": net.cost_name,
        "output_activation": get_cost(net.cost_name).output_name,
    })
    onnx.checker.check_model(model)
    return model


def export(net: NetworkLike, path: str | os.PathLike[str]) -> Path:
    """Write ``net`` as an ONNX model to ``path``; returns the path written."""
    onnx = _onnx()
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"cannot write the ONNX model to {path}: it is a directory; give a file name such as "
                             f"{path / 'model.onnx'}")
    model = to_model(net)
    try:
        onnx.save_model(model, str(path))
    except OSError as e:
        raise ModelFileError(f"cannot write the ONNX model to {path}: {e.strerror or e}") from e
    return path


def _version() -> str:
    from .version import __version__

    return __version__
