"""digitnet: the handwritten-digit network of the 3Blue1Brown "Neural networks" lessons.

>>> import digitnet
>>> net = digitnet.Network((784, 16, 16, 10), seed=0)
>>> X, y = digitnet.data.load_mnist("train")
"""

from . import data
from .errors import ConfigError, DataError, DigitNetError, DownloadError, ModelFileError, ShapeError, TrainingDiverged
from .network import Network
from .version import __version__

__all__ = ["Network", "data", "DigitNetError", "DataError", "ModelFileError", "ConfigError", "ShapeError",
           "TrainingDiverged", "DownloadError", "__version__"]
