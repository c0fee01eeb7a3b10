"""``digitnet export MODEL OUT``: write a trained network as ONNX (.onnx) or as a page to share (.html)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import DigitNetError
from ._common import READ_FILE, WRITE_FILE

FORMATS = {".onnx": "ONNX, for onnxruntime and other ONNX runtimes",
           ".html": "one self-contained web page that runs the network offline",
           ".htm": "the same page as .html"}



def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help="write a model as ONNX (.onnx) or as a self-contained web page to share (.html)",
        description="Write MODEL in the format its file name's suffix asks for. "
                    ".onnx: an ONNX model, one Gemm and one activation per layer; input 'image' float32 "
                    "(N, 784) with brightnesses in [0, 1], output 'probabilities' float32 (N, 10), the same "
                    "output layer as digitnet's (needs: pip install 'digitnet[onnx]'). "
                    ".html: one file that runs the network in any browser with no server and no network: "
                    "draw a digit, see the ten outputs and the hidden layers, inspect a neuron.")
    p.add_argument("model", type=READ_FILE, help="a model file written by `digitnet train`")
    p.add_argument("output", type=WRITE_FILE, help="the file to write: model.onnx or page.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..network import Network

    suffix = Path(args.output).suffix.lower()
    if suffix not in FORMATS:
        choices = ", ".join(FORMATS)
        raise DigitNetError(f"cannot tell what to write for {args.output!r}: end its name in one of {choices}")
    net = Network.load(args.model)
    if suffix == ".onnx":
        from ..onnx_export import export
        print(export(net, args.output))
    else:
        from ..page_export import export as export_page
        print(export_page(net, args.output))
    return 0
