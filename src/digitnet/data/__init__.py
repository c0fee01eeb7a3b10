"""digitnet's data: the IDX file format, MNIST (bundled, cached) and a checked downloader.

Example: X, y = load_mnist("train")  # X (60000, 784) float32 in [0, 1], y (60000,) int64
"""

from digitnet.data.cache import cache_dir
from digitnet.data.download import MIRRORS, download_mnist
from digitnet.data.idx import read_idx, read_idx_header, write_idx
from digitnet.data.mnist import class_names, load_mnist, load_mnist_uint8

__all__ = [
    "MIRRORS",
    "cache_dir",
    "class_names",
    "download_mnist",
    "load_mnist",
    "load_mnist_uint8",
    "read_idx",
    "read_idx_header",
    "write_idx",
]
