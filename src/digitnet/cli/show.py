"""``digitnet show WHAT MODEL``: the lessons' pictures of a trained network, written as PNG files.

    digitnet show weights MODEL        what each first-layer neuron looks for (and layer 2, roughly)
    digitnet show history MODEL        cost and accuracy after each epoch of training
    digitnet show confusion MODEL      which digits get confused, and the most confident mistakes
    digitnet show network MODEL [IMAGE | --test-index N]   the network picture, lit by one image
    digitnet show noise MODEL          how sure the network is about random noise
    digitnet show dream MODEL [--digit D ...]   the input that makes output D most active

Each writes MODEL-WHAT.png in the current directory (or ``--out PATH``) and prints its path;
``--show`` also opens it in a window when there is a display. The drawing is digitnet.plots.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._common import READ_FILE, WRITE_FILE, add_data_option

WHAT = {
    "weights": "each first-layer neuron's weights as a 28x28 image, and layer 2 through layer 1",
    "history": "training and test cost and accuracy after each epoch",
    "confusion": "the confusion matrix on the test set and the most confident mistakes",
    "network": "the lesson's network picture: neurons lit by their activation for one image",
    "noise": "the network's confidence on random noise, next to real test digits",
    "dream": "the input image that makes output D most active (gradient ascent on the pixels)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "show", help="draw the lessons' pictures of a model as PNG files",
        description="Draw a picture of a trained model: " + "; ".join(f"{k}: {v}" for k, v in WHAT.items()) + ".")
    kinds = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    for what, help_text in WHAT.items():
        q = kinds.add_parser(what, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        q.add_argument("model", type=READ_FILE, help="a model file written by `digitnet train`")
        if what == "network":
            q.add_argument("image", nargs="?", default=None, type=READ_FILE,
                           help="a PNG/JPEG image of a digit (default: a test image)")
            q.add_argument("--test-index", type=int, default=None, metavar="N",
                           help="draw the network for test image N instead (default: 0)")
        if what in ("confusion", "network", "noise"):
            add_data_option(q)
        if what == "confusion":
            q.add_argument("--mistakes", type=int, default=16, metavar="N",
                           help="how many of the most confident mistakes to show (default: 16)")
        if what == "noise":
            q.add_argument("--samples", type=int, default=5000, metavar="N",
                           help="how many random-noise images (default: 5000)")
            q.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
        if what == "dream":
            q.add_argument("--digit", type=int, nargs="+", default=None, metavar="D",
                           help="the output neuron(s) to dream for (default: every one)")
            q.add_argument("--steps", type=int, default=200, help="gradient-ascent steps (default: 200)")
            q.add_argument("--noise-level", type=float, default=0.25, metavar="L",
                           help="the noise start's pixels are uniform in [0, L] (default: 0.25)")
            q.add_argument("--seed", type=int, default=0, help="seed of the noise start (default: 0)")
        q.add_argument("--out", metavar="PATH", default=None, type=WRITE_FILE,
                       help=f"where to write the PNG (default: MODEL-{what}.png in the current directory)")
        q.add_argument("--dpi", type=int, default=100, help="resolution of the PNG (default: 100)")
        q.add_argument("--show", action="store_true", help="also open the picture in a window, if there is a display")
        q.set_defaults(func=run)
    q = kinds.add_parser("sweep", help="a sweep's accuracy: heat map over two settings, and against network size",
                         description="Draw a `digitnet sweep` database: the mean test accuracy over seeds as a heat "
                                     "map over two settings (DB-heatmap.png), and against the number of parameters "
                                     "with the spread over seeds, the lesson's 16-16 marked (DB-sizes.png).")
    q.add_argument("db", type=READ_FILE, help="a SQLite file written by `digitnet sweep`")
    q.add_argument("--x", default="learning_rate", help="the heat map's x setting, a column of the trials table "
                                                        "(default: learning_rate)")
    q.add_argument("--y", default="batch_size", help="the heat map's y setting (default: batch_size)")
    q.add_argument("--dpi", type=int, default=100, help="resolution of the PNGs (default: 100)")
    q.set_defaults(func=run_sweep)


def run(args: argparse.Namespace) -> int:
    from .. import plots
    from ..errors import ConfigError
    from ..network import Network

    if args.dpi < 10 or args.dpi > 1000:
        raise ConfigError(f"--dpi must be between 10 and 1000, got {args.dpi}")
    out = Path(args.out) if args.out else Path(f"{Path(args.model).stem}-{args.what}.png")
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {out}: the picture is written as PNG; give a path ending in .png")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise ConfigError(f"--out {out}: the directory {out.parent} does not exist")
    net = Network.load(args.model)

    if args.what == "weights":
        fig = plots.plot_weights(net)
    elif args.what == "history":
        fig = plots.plot_history(net)
    elif args.what == "confusion":
        X, y, names = _dataset(net, args)
        fig = plots.plot_confusion(net, X, y, class_names=names, n_mistakes=_positive(args.mistakes, "--mistakes"))
    elif args.what == "network":
        fig = _network(net, args)
    elif args.what == "noise":
        X, _, names = _dataset(net, args)
        fig = plots.plot_noise(net, X, n=_positive(args.samples, "--samples"), seed=args.seed, class_names=names)
    else:
        if args.digit is not None:
            for d in args.digit:
                if not 0 <= d < net.sizes[-1]:
                    raise ConfigError(f"--digit {d}: the model's outputs are 0..{net.sizes[-1] - 1}")
        fig = plots.plot_dream(net, args.digit, steps=_positive(args.steps, "--steps"),
                               noise_level=args.noise_level, seed=args.seed)

    _save(fig, out, args.dpi)
    print(out)
    if args.show:
        _open_window(fig, out)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    """``digitnet show sweep DB``: write DB-heatmap.png and DB-sizes.png in the current directory."""
    from ..errors import ConfigError
    from ..sweep import db, pictures

    con = db.connect(args.db, create=False)
    try:
        rows = db.rows(con, status="done")
    finally:
        con.close()
    if not rows:
        raise ConfigError(f"{args.db}: no finished trial to draw yet; run the sweep first")
    for axis in (args.x, args.y):
        if axis not in db.COLUMNS:
            raise ConfigError(f"--x/--y {axis}: not a setting; choose from {', '.join(db.COLUMNS)}")
    stem = Path(args.db).stem
    for name, fig in (("heatmap", pictures.plot_heatmap(rows, args.x, args.y)), ("sizes", pictures.plot_sizes(rows))):
        out = Path(f"{stem}-{name}.png")
        _save(fig, out, args.dpi)
        print(out)
    return 0


def _dataset(net, args: argparse.Namespace):
    """The test images, labels and class names (``--data DIR`` or the bundled MNIST), checked against net."""
    from .. import data
    from ..errors import ConfigError

    X, y = data.load_mnist("test", data_dir=args.data)
    names = data.class_names(args.data)
    if net.sizes[0] != X.shape[1] or net.sizes[-1] != len(names):
        raise ConfigError(f"model {args.model} takes {net.sizes[0]} inputs and gives {net.sizes[-1]} outputs, "
                          f"but the data has {X.shape[1]} pixels per image and {len(names)} classes")
    return X, y, names


def _network(net, args: argparse.Namespace):
    """The network picture for IMAGE, or for test image --test-index N (default 0)."""
    from .. import plots
    from ..errors import ConfigError

    if args.image is not None and args.test_index is not None:
        raise ConfigError("give an IMAGE or --test-index N, not both")
    if args.image is not None:
        from ..preprocess import load_image

        names = [str(k) for k in range(net.sizes[-1])]
        if args.data:
            names = _dataset(net, args)[2]
        return plots.plot_network(net, load_image(args.image), class_names=names)
    X, y, names = _dataset(net, args)
    i = 0 if args.test_index is None else args.test_index
    if not 0 <= i < len(X):
        raise ConfigError(f"--test-index {i}: the test set has images 0..{len(X) - 1}")
    return plots.plot_network(net, X[i], label=int(y[i]), class_names=names)


def _positive(n: int, option: str) -> int:
    from ..errors import ConfigError

    if n < 1:
        raise ConfigError(f"{option} must be at least 1, got {n}")
    return n


def _save(fig, out: Path, dpi: int) -> None:
    """Write the PNG beside its final name, then rename it into place: no half-written file on failure."""
    from ..errors import ConfigError

    tmp = out.with_name(f".{out.name}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, out)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ConfigError(f"cannot write {out}: {e.strerror or e}") from None


def _open_window(fig, out: Path) -> None:
    """Show ``fig`` in a window through pyplot, or say why there is none."""
    import matplotlib

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(f"digitnet: no display to open a window on; the picture is in {out}", file=sys.stderr)
        return
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend().lower()
    if backend in ("agg", "cairo", "pdf", "pgf", "ps", "svg", "template"):
        print(f"digitnet: matplotlib has no window backend here ({backend}); the picture is in {out}",
              file=sys.stderr)
        return
    # pyplot builds a figure through FigureClass; handing it the finished figure gives it a window.
    plt.figure(FigureClass=lambda **_: fig)  # type: ignore[arg-type]
    plt.show()
