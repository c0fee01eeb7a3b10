"""digitnet's own exceptions: every error a user can cause is one of these.

Each message names the file or value at fault and says what to do about it.
"""

from __future__ import annotations


class DigitNetError(Exception):
    """Base class of every error digitnet raises for bad input."""


class DataError(DigitNetError, ValueError):
    """A data file (IDX, image) is missing, truncated, corrupt or of the wrong shape."""


class ModelFileError(DigitNetError, ValueError):
    """A model file is missing, corrupt, of an unknown version or inconsistent."""


class ConfigError(DigitNetError, ValueError):
    """A setting is invalid: unknown activation or cost, learning rate <= 0, bad sizes..."""


class ShapeError(DigitNetError, ValueError):
    """An array passed to the network has the wrong shape or non-finite values."""


class TrainingDiverged(DigitNetError, FloatingPointError):
    """Training produced a non-finite cost or weight; the last finite model is kept."""


class DownloadError(DigitNetError, OSError):
    """A download failed or its checksum did not match."""
