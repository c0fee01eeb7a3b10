"""digitnet's data: the IDX file format, MNIST (bundled, cached) and a checked downloader."""

from digitnet.data.idx import read_idx, read_idx_header, write_idx

__all__ = ["read_idx", "read_idx_header", "write_idx"]
