"""``digitnet train``: train a network on MNIST (or any MNIST-format data) and save it.

With no options it trains the lessons' network: 784-16-16-10, sigmoid, quadratic cost.
Ctrl-C or SIGTERM saves a checkpoint; ``--resume CHECKPOINT`` continues it to the same result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..run import DEFAULTS
from ..words import plural
from . import _signals
from ._common import READ_FILE, WRITE_FILE, add_data_option, int_list

DEFAULT_OUT = "digitnet-model.npz"


def register(subparsers: argparse._SubParsersAction) -> None:
    d = DEFAULTS
    p = subparsers.add_parser(
        "train", help="train the network and save it",
        description="Train a network by stochastic gradient descent and save it. With no options: the "
                    "lessons' 784-16-16-10 sigmoid network with the quadratic cost, on the bundled MNIST.")
    p.add_argument("--hidden", type=int_list, default=d["hidden"], metavar="SIZES",
                   help="hidden layer sizes, e.g. 16,16 or 100 (input and output sizes come from the data)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default=d["activation"],
                   help="hidden layers' activation")
    p.add_argument("--cost", choices=list(COSTS), default=d["cost"],
                   help="quadratic (sigmoid outputs, the lesson's) or cross-entropy (softmax outputs)")
    p.add_argument("--epochs", type=int, metavar="N", default=d["epochs"], help="passes over the training data")
    p.add_argument("--batch-size", type=int, metavar="N", default=d["batch_size"], help="examples per mini-batch")
    p.add_argument("--learning-rate", "--eta", type=float, metavar="ETA", default=d["learning_rate"],
                   help="step size eta")
    p.add_argument("--momentum", type=float, metavar="MU", default=d["momentum"], help="momentum mu (0 = plain SGD)")
    p.add_argument("--weight-decay", type=float, metavar="LAMBDA", default=d["weight_decay"],
                   help="L2 weight decay lambda")
    p.add_argument("--lr-decay", type=float, metavar="F", default=d["learning_rate_decay"], dest="learning_rate_decay",
                   help="multiply the learning rate by this after every epoch")
    p.add_argument("--seed", type=int, metavar="N", default=d["seed"],
                   help="random seed (same seed, same model, bit for bit)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=d["dtype"], help="floating-point precision")
    p.add_argument("--engine", choices=["auto", "compiled", "numpy", "numba"], default=None,
                   help="the compiled engine, or the plain NumPy reference (default: auto, or the engine of the "
                        "run being resumed, so that it ends as it would have)")
    add_data_option(p)
    p.add_argument("--limit", type=int, default=None, metavar="N", help="train on the first N training images only")
    p.add_argument("-o", "--out", default=DEFAULT_OUT, metavar="PATH", type=WRITE_FILE, help="where to save the model")
    p.add_argument("--checkpoint", default=None, metavar="PATH", type=WRITE_FILE,
                   help="where to save a checkpoint on Ctrl-C/SIGTERM (default: OUT with .checkpoint.npz)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT", type=READ_FILE,
                   help="continue an interrupted run from its checkpoint (its settings are used)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _check_out(path: Path, option: str) -> str | None:
    """What a save to ``path`` would replace (None if nothing); a ConfigError if digitnet must not replace it."""
    from ..errors import ConfigError, ModelFileError
    from ..model_file import existing_model

    try:
        return existing_model(path)
    except ModelFileError as e:
        raise ConfigError(f"{option} {path}: {e}") from None


def _beside(out: Path, what: str) -> Path:
    """A free name next to ``out`` for a model that must not replace it, e.g. model.diverged.npz."""
    stem = out.name[:-4] if out.name.endswith(".npz") else out.name
    candidate, n = out.with_name(f"{stem}.{what}.npz"), 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = out.with_name(f"{stem}.{what}-{n}.npz")
    return candidate


def _checkpoint_path(out: Path, given: str | None, resumed: str | None = None) -> Path:
    if given or resumed:
        return Path(given or resumed)  # type: ignore[arg-type]
    name = out.name[:-4] if out.name.endswith(".npz") else out.name
    return out.with_name(name + ".checkpoint.npz")


def _start(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any]]:
    """The run's settings (a plain dict, as checkpoints keep them), and the network and optimiser
    of the run being resumed (None, None for a new run)."""
    from ..checkpoint import load_checkpoint
    from ..errors import ConfigError

    if args.resume:
        net, opt, settings = load_checkpoint(args.resume)
        print(f"resuming {args.resume} after epoch {len(net.history)} of {settings['epochs']}")
    else:
        net, opt = None, None
        settings = {k: getattr(args, k) for k in DEFAULTS}
        settings["hidden"] = list(settings["hidden"])
        settings["data"] = args.data
        settings["limit"] = args.limit
        settings["engine"] = args.engine or "auto"
    if settings.get("limit") is not None and settings["limit"] < 1:
        raise ConfigError(f"--limit must be >= 1, got {settings['limit']}")
    return net, opt, settings


def _data_and_network(args: argparse.Namespace, settings: dict[str, Any], training: Any, net: Any, opt: Any
                      ) -> tuple[Any, Any, Any, Any, Any, Any]:
    """The training and test images, and the network and optimiser: new, or the resumed run's
    (whose sizes must fit the data)."""
    from .. import run as training_run
    from ..errors import ConfigError

    data = training_run.load_data(settings["data"])
    X, y = data.training(settings.get("limit"))
    sizes = training_run.sizes_for(settings, data)
    if net is None or opt is None:
        net, opt = training_run.build(settings, data)
    elif tuple(net.sizes) != sizes:
        raise ConfigError(f"checkpoint {args.resume} is for sizes {net.sizes}, but the data gives {sizes}")

    print(f"training {'-'.join(map(str, net.sizes))} {net.activation} network, {net.cost_name} cost, "
          f"{plural(len(X), 'image')}, {training.describe()}")
    return X, y, data.X_test, data.y_test, net, opt


def _prepare(args: argparse.Namespace) -> tuple[Any, ...]:
    """Everything before the first step: the checks of --out and --checkpoint, the settings, the
    data, the network and the compiled engine. Returns what ``run`` trains with."""
    from ..errors import ConfigError
    from ..settings import TrainingSettings

    out = Path(args.out)
    replaces = _check_out(out, "--out")
    ckpt_path = _checkpoint_path(out, args.checkpoint, args.resume)
    net, opt, settings = _start(args)
    # The engines agree to rounding, not bit for bit: a resumed run keeps its engine unless told otherwise.
    engine = args.engine or settings.get("engine", "auto")
    training = TrainingSettings.from_dict(settings)
    if training.epochs == 0:
        raise ConfigError("--epochs 0 trains nothing, and an untrained network is no model to save; give --epochs 1 "
                          "or more (`digitnet show` looks at an existing model)")
    _check_out(ckpt_path, "--checkpoint")  # found out now, not at the interrupt when the training is at stake

    X, y, X_test, y_test, net, opt = _data_and_network(args, settings, training, net, opt)
    return out, replaces, ckpt_path, settings, engine, training, X, y, X_test, y_test, net, opt


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..checkpoint import save_checkpoint
    from ..errors import TrainingDiverged
    from ..training import fit

    try:
        out, replaces, ckpt_path, settings, engine, training, X, y, X_test, y_test, net, opt = _prepare(args)
    except (KeyboardInterrupt, Exception) as e:
        if not _signals.by_signal(e):
            raise
        print("digitnet: interrupted before the training started; no model or checkpoint was written", file=sys.stderr)
        return 130
    epochs = training.epochs
    bar = None
    quiet = args.quiet or not sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="img", unit_scale=True, leave=False, file=sys.stderr,
                       desc=f"epoch {len(net.history) + 1}/{epochs}")
        bar.n = done
        bar.refresh()

    def on_epoch(record: dict[str, Any]) -> None:
        nonlocal bar
        if bar is not None:
            bar.close()
            bar = None
        print(f"epoch {record['epoch']:>3}/{epochs}  cost {record['train_cost']:.4f}  "
              f"test cost {record['test_cost']:.4f}  test accuracy {100 * record['test_accuracy']:.2f}%  "
              f"{record['seconds']:.2f} s", flush=True)

    try:
        fit(net, X, y, training, validation_data=(X_test, y_test), callback=on_epoch, progress=progress,
            engine=engine, optimizer=opt, start_epoch=len(net.history))
        return _save_finished(net, out, X_test, y_test)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        if len(net.history) >= epochs:  # the training had finished: its model is saved, not a checkpoint
            return _save_finished(net, out, X_test, y_test, interrupted=True)
        with _signals.deferred():  # a second Ctrl-C (or kill) must not cut the checkpoint short
            save_checkpoint(ckpt_path, net, opt, settings)
        print(f"\ninterrupted: {plural(len(net.history), 'whole epoch')} kept in checkpoint {ckpt_path}\n"
              f"resume with: digitnet train --resume {ckpt_path} --out {out}", file=sys.stderr)
        return 130
    except TrainingDiverged as e:
        if bar is not None:
            bar.close()
        # A diverged run never replaces a model: its last finite network goes beside it.
        target = _beside(out, "diverged") if replaces else out
        with _signals.deferred():
            net.save(target)
        print(f"digitnet: error: {e}\nthe last finite model ({plural(len(net.history), 'epoch')}) is saved in {target}"
              + (f"; {out} is left as it was" if replaces else ""), file=sys.stderr)
        return 1


def _save_finished(net: Any, out: Path, X_test: Any, y_test: Any, interrupted: bool = False) -> int:
    """Save a finished run at ``out``, an interrupt held back until the file is whole; say what it replaced.

    ``interrupted``: an interrupt came after the last epoch but before the save could hold it back.
    """
    with _signals.deferred() as caught:
        replaces = _check_out(out, "--out")  # looked at again: it may have changed during the training
        net.save(out)
    accuracy = net.history[-1]["test_accuracy"] if net.history else net.accuracy(X_test, y_test)
    replaced = f" (it replaced {replaces})" if replaces else ""
    if caught.signal or interrupted:
        how = f" ({caught.signal})" if caught.signal else ""
        print(f"digitnet: interrupted{how} after the training had finished; the model is saved in "
              f"{out}{replaced}", file=sys.stderr)
        return 130
    print(f"test accuracy {100 * accuracy:.2f}%; model saved to {out}{replaced}")
    return 0
