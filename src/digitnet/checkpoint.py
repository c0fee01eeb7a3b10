"""Checkpoints: an interrupted training run, saved so that it can be resumed exactly.

A checkpoint is a model file (see model_file.py) with more in it: the optimiser's velocities
(``vW0.npy, vb0.npy, ...``) and, in the header, ``"checkpoint": {"epoch", "rng_state",
"settings"}``: the number of whole epochs done, the random generator's state at that point and
the run's settings, a plain dict: ``TrainingSettings.to_dict()`` and what the network was built
from (hidden, activation, cost, seed, dtype; data, limit, engine). Resuming from it repeats the
remaining epochs with the same shuffles and steps, so it ends with the same model, bit for bit,
as a run that was never interrupted.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .engine import ENGINES
from .errors import ConfigError, ModelFileError
from .model_file import existing_model, header_of, read_archive, read_array, write_archive
from .network import Network
from .optimizer import SGD
from .settings import TrainingSettings


def save_checkpoint(path: str | os.PathLike, net: Network, opt: SGD, settings: dict[str, Any]) -> None:
    """Write net, the optimiser state and the settings to ``path`` atomically (only over a model file)."""
    header = header_of(net)
    header["checkpoint"] = {
        "epoch": len(net.history),
        "rng_state": net.rng.bit_generator.state,
        "settings": settings,
    }
    arrays: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    for l, (vW, vb) in enumerate(zip(opt.vW, opt.vb)):
        arrays[f"vW{l}"], arrays[f"vb{l}"] = vW, vb
    existing_model(path)
    try:
        write_archive(path, header, arrays)
    except OSError as e:
        raise ModelFileError(f"cannot write checkpoint {path}: {e.strerror or e}") from None


def load_checkpoint(path: str | os.PathLike) -> tuple[Network, SGD, dict[str, Any]]:
    """Read a checkpoint: the network (with its history and random state), the optimiser, the settings."""
    net = Network.load(path)
    header, zf = read_archive(path)
    with zf:
        info = header.get("checkpoint")
        if not isinstance(info, dict) or not isinstance(info.get("settings"), dict):
            raise ModelFileError(f"{path} is a model file, not a checkpoint; only checkpoints can be resumed")
        settings = info["settings"]
        if info.get("epoch") != len(net.history):
            raise ModelFileError(f"{path}: the checkpoint's epoch does not match its history")
        try:
            net.rng.bit_generator.state = info["rng_state"]
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise ModelFileError(f"{path}: invalid random state in the checkpoint ({e})") from None
        _check_checkpoint_settings(path, settings, net)
        dtype = np.dtype(net.dtype).name
        vW = [read_array(path, zf, f"vW{l}", W.shape, dtype) for l, W in enumerate(net.W)]
        vb = [read_array(path, zf, f"vb{l}", b.shape, dtype) for l, b in enumerate(net.b)]
    opt = SGD.from_settings(TrainingSettings.from_dict(settings))
    opt.vW, opt.vb = vW, vb
    return net, opt, settings


def _check_checkpoint_settings(path: str | os.PathLike, settings: dict[str, Any], net: Network) -> None:
    """Check the settings a resumed run will use, so that a damaged checkpoint fails here, clearly."""
    try:
        TrainingSettings.from_dict(settings)
    except KeyError as e:
        raise ModelFileError(f"{path}: the checkpoint's training settings lack {e}; it is damaged") from None
    except ConfigError as e:
        raise ModelFileError(f"{path}: invalid training settings in the checkpoint: {e}") from None
    limit, data = settings.get("limit"), settings.get("data")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ModelFileError(f"{path}: invalid training settings in the checkpoint: limit {limit!r}")
    if data is not None and not isinstance(data, str):
        raise ModelFileError(f"{path}: invalid training settings in the checkpoint: data {data!r}")
    if settings.get("engine", "auto") not in ENGINES:
        raise ModelFileError(f"{path}: invalid training settings in the checkpoint: engine {settings['engine']!r}")
    built = {"hidden": list(net.sizes[1:-1]), "activation": net.activation, "cost": net.cost_name,
             "seed": net.seed, "dtype": np.dtype(net.dtype).name}
    for key, value in built.items():
        if settings.get(key) != value:
            raise ModelFileError(f"{path}: the checkpoint's settings give {key} {settings.get(key)!r} "
                                 f"but its network has {value!r}; it is damaged")
