"""digitnet: the handwritten-digit network of the 3Blue1Brown "Neural networks" lessons.

>>> import digitnet
>>> net = digitnet.Network((784, 16, 16, 10), seed=0)
>>> X, y = digitnet.data.load_mnist("train")

``import digitnet`` itself loads only the exceptions and the version: ``Network`` and ``data``
(NumPy, Numba...) are imported when first used. So the ``digitnet`` command is running its own
code, with Ctrl-C and SIGTERM handled, within milliseconds of starting, and an interrupt while
NumPy loads is one line, not a traceback.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, DataError, DigitNetError, DownloadError, ModelFileError, ShapeError, TrainingDiverged
from .version import __version__

if TYPE_CHECKING:
    from . import data
    from .network import Network

__all__ = ["Network", "data", "DigitNetError", "DataError", "ModelFileError", "ConfigError", "ShapeError",
           "TrainingDiverged", "DownloadError", "__version__"]

_LAZY = {"Network": ".network", "data": ".data"}


def __getattr__(name: str) -> Any:
    """``digitnet.Network`` and ``digitnet.data``, imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'digitnet' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name], __name__)
    value = module if name == "data" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
