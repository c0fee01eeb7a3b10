"""``digitnet export MODEL OUT.onnx``: write a trained network as an ONNX model."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="write a model as ONNX, to run it with onnxruntime and other ONNX runtimes",
        description="Write MODEL as an ONNX model: one Gemm and one activation per layer; input 'image' float32 "
                    "(N, 784) with brightnesses in [0, 1], output 'probabilities' float32 (N, 10), the same "
                    "output layer as digitnet's. Needs: pip install 'digitnet[onnx]'.")
    p.add_argument("model", help="a model file written by `digitnet train`")
    p.add_argument("output", help="the ONNX file to write, e.g. model.onnx")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..network import Network
    from ..onnx_export import export

    net = Network.load(args.model)
    print(export(net, args.output))
    return 0
