"""``digitnet evaluate MODEL``: accuracy, cost and accuracy per digit on the test set."""

from __future__ import annotations

import argparse
import json

from ._common import READ_FILE, add_data_option


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="accuracy, cost and accuracy per digit of a saved model",
                              description="Judge a saved model on the 10,000 test digits (or another IDX dataset).")
    p.add_argument("model", type=READ_FILE, help="a model file written by `digitnet train`")
    add_data_option(p)
    p.add_argument("--split", choices=["test", "train"], default="test", help="which part of the data to judge on")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def evaluate(net, X, y) -> dict:
    """Accuracy, mean cost and accuracy per class of ``net`` on (X, y), as a JSON-ready dict."""
    from ..evaluation import evaluate as judge

    e = judge(net, X, y)
    return {"examples": e.examples, "accuracy": e.accuracy, "cost": e.cost,
            "per_class": {k: {"count": n, "accuracy": acc} for k, (n, acc) in e.per_class.items()}}


def run(args: argparse.Namespace) -> int:
    from .. import data
    from ..errors import ConfigError
    from ..network import Network

    net = Network.load(args.model)
    X, y = data.load_mnist(args.split, data_dir=args.data)
    names = data.class_names(args.data)
    if net.sizes[0] != X.shape[1] or net.sizes[-1] != len(names):
        raise ConfigError(f"model {args.model} takes {net.sizes[0]} inputs and gives {net.sizes[-1]} outputs, "
                          f"but the data has {X.shape[1]} pixels per image and {len(names)} classes")
    result = evaluate(net, X, y)
    result["model"] = str(args.model)
    result["split"] = args.split
    if args.json:
        result["per_class"] = {names[k]: v for k, v in result["per_class"].items()}
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.model}: {'-'.join(map(str, net.sizes))} {net.activation}, {net.cost_name} cost")
    print(f"{args.split} accuracy {100 * result['accuracy']:.2f}% ({round(result['accuracy'] * len(y)):,} of "
          f"{len(y):,})  cost {result['cost']:.4f}")
    width = max(len("class"), *(len(n) for n in names))
    print(f"{'class':<{width}}  {'accuracy':>8}  {'count':>6}")
    for k, v in result["per_class"].items():
        acc = "-" if v["accuracy"] is None else f"{100 * v['accuracy']:.2f}%"
        print(f"{names[k]:<{width}}  {acc:>8}  {v['count']:>6,}")
    return 0
