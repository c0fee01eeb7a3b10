"""``digitnet predict MODEL IMAGE...``: the network's guess for images of digits (PNG, JPEG...)."""

from __future__ import annotations

import argparse
import json

from ._common import READ_FILE, add_data_option


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict", help="guess the digit in image files",
        description="Bring each image to MNIST's form (greyscale, ink bright on dark, fitted into a 20x20 box, "
                    "centred by its centre of mass in 28x28) and print the guess and the 10 output activations.")
    p.add_argument("model", type=READ_FILE, help="a model file written by `digitnet train`")
    p.add_argument("images", nargs="+", metavar="IMAGE", type=READ_FILE, help="PNG/JPEG images of a digit")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON (one list)")
    add_data_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import data
    from ..errors import ConfigError
    from ..network import Network
    from ..preprocess import load_image

    net = Network.load(args.model)
    if net.sizes[0] != 784:
        raise ConfigError(f"model {args.model} takes {net.sizes[0]} inputs; `predict` needs a 28x28 (784-input) model")
    names = data.class_names(args.data) if args.data else [str(k) for k in range(net.sizes[-1])]
    if len(names) != net.sizes[-1]:
        names = [str(k) for k in range(net.sizes[-1])]
    X = np.stack([load_image(path) for path in args.images])  # (m, 784); every file is read before printing
    A = net.predict_proba(X)
    results: list[dict] = []
    for path, x, a in zip(args.images, X, A):
        if not x.any():  # to_mnist gives 784 zeros exactly when the image holds no ink
            results.append({"image": str(path), "blank": True, "guess": None, "label": None, "activations": None})
            continue
        guess = int(np.argmax(a))
        results.append({"image": str(path), "blank": False, "guess": guess, "label": names[guess],
                        "activations": [round(float(v), 6) for v in a]})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        if r["blank"]:
            print(f"{r['image']}: blank (no ink found: nothing to read, so no guess)")
            continue
        acts = " ".join(f"{names[k]}:{v:.3f}" for k, v in enumerate(r["activations"]))
        print(f"{r['image']}: {r['label']}   ({acts})")
    return 0
