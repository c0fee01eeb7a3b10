"""MNIST, the lesson's data: 28x28 grey images of handwritten digits and their labels.

`load_mnist("train")` gives the 60,000 training examples as the network sees
them: X of shape (60000, 784), each row one image's pixels in [0, 1] (pixel / 255),
the lesson's 784 input neurons; y of shape (60000,), the digit 0-9.
"test" gives the 10,000 held-out examples.

With no `data_dir` the copy shipped inside the package is used, and each file's
sha256 is checked against the package's SHA256SUMS. Any directory of files in
MNIST's IDX format works too, gzipped or not: a download of MNIST, or a data set
of the same shape such as Fashion-MNIST (Debian's `dataset-fashion-mnist` puts it
in /usr/share/datasets/fashion-mnist/). Decompressed arrays are cached on disk
(see `digitnet.data.cache`), so only the first load pays for gunzip.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from digitnet.data.cache import read_idx_cached, sha256_file
from digitnet.data.idx import read_idx
from digitnet.errors import ConfigError, DataError

BUNDLED_DIR = Path(__file__).parent / "mnist"

# split -> (images file, labels file), as MNIST names them (without .gz).
SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DIGIT_NAMES = [str(d) for d in range(10)]
FASHION_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

# sha256 of the label values (the IDX data after the header), which stay the same
# however a copy was compressed: recognises a data set by its labels.
_KNOWN_LABELS: dict[str, list[str]] = {
    # MNIST train, test
    "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13": DIGIT_NAMES,
    "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5": DIGIT_NAMES,
    # Fashion-MNIST train, test
    "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7": FASHION_NAMES,
    "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9": FASHION_NAMES,
}


def _check_split(split: str) -> tuple[str, str]:
    if split not in SPLITS:
        raise ConfigError(f"unknown MNIST split {split!r}; use one of: {', '.join(map(repr, SPLITS))}.")
    return SPLITS[split]


def _candidates(stem: str) -> list[str]:
    """The names an IDX file goes by: gzipped or not, and with '.idx' as some unpackers write it."""
    dotted = stem.replace("-idx", ".idx")  # e.g. train-images.idx3-ubyte
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def _find(directory: Path, stem: str) -> Path | None:
    for name in _candidates(stem):
        if (directory / name).is_file():
            return directory / name
    return None


def _require(directory: Path, stem: str) -> Path:
    """The file for `stem` in `directory`, or a DataError saying what was looked for."""
    if not directory.is_dir():
        raise DataError(
            f"data directory {directory} does not exist or is not a directory. "
            "Give a directory of MNIST-format IDX files, or download MNIST with digitnet.data.download_mnist()."
        )
    path = _find(directory, stem)
    if path is None:
        present = sorted(p.name for p in directory.iterdir())[:12]
        raise DataError(
            f"no {stem} file in {directory} (looked for {', '.join(_candidates(stem))}; "
            f"found {', '.join(present) or 'nothing'}). "
            "The directory needs MNIST's four IDX files, e.g. from digitnet.data.download_mnist()."
        )
    return path


def _bundled_digests() -> dict[str, str]:
    """File name -> expected sha256, from the package's SHA256SUMS."""
    sums = BUNDLED_DIR / "SHA256SUMS"
    try:
        lines = sums.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(
            f"{sums}: cannot read the bundled MNIST checksums ({e}). "
            "The package's copy is damaged: reinstall digitnet (pip install --force-reinstall digitnet)."
        ) from e
    digests = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            digests[parts[1].lstrip("*")] = parts[0].lower()
    return digests


def _verified_bundled(path: Path, digests: dict[str, str]) -> str:
    """Check a bundled file against SHA256SUMS; return its sha256."""
    try:
        actual = sha256_file(path)
    except OSError as e:
        raise DataError(
            f"{path}: cannot read the bundled MNIST file ({e}). "
            "The package's copy is damaged: reinstall digitnet (pip install --force-reinstall digitnet)."
        ) from e
    expected = digests.get(path.name)
    if actual != expected:
        raise DataError(
            f"{path}: the package's copy of MNIST is corrupt (sha256 {actual}, expected {expected}). "
            "Reinstall digitnet (pip install --force-reinstall digitnet)."
        )
    return actual


def load_mnist_uint8(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None, *, cache: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split with the pixels as stored: uint8 in 0-255, a quarter of float32's memory traffic.

    Args:
        split: "train" or "test".
        data_dir: a directory of MNIST-format IDX files; None for the bundled MNIST.
        cache: keep decompressed arrays in the on-disk cache (see digitnet.data.cache).

    Returns:
        images: (N, H*W) uint8, one flattened image per row ((N, 784) for MNIST).
        labels: (N,) int64.

    Raises:
        ConfigError: unknown split.
        DataError: missing, corrupt or mismatched files.
    """
    images_stem, labels_stem = _check_split(split)
    if data_dir is None:
        directory = BUNDLED_DIR
        images_path, labels_path = _require(directory, images_stem), _require(directory, labels_stem)
        digests = _bundled_digests()
        images_digest = _verified_bundled(images_path, digests)
        _verified_bundled(labels_path, digests)
    else:
        directory = Path(data_dir)
        images_path, labels_path = _require(directory, images_stem), _require(directory, labels_stem)
        images_digest = None

    images = read_idx_cached(images_path, images_digest, use_cache=cache)
    labels = read_idx(labels_path)  # a few kB: not worth caching

    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(
            f"{images_path}: expected images of shape (N, height, width) with uint8 pixels, "
            f"got shape {images.shape} of {images.dtype}. Is this an MNIST-format images file?"
        )
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        raise DataError(
            f"{labels_path}: expected labels of shape (N,) of integers, got shape {labels.shape} "
            f"of {labels.dtype}. Is this an MNIST-format labels file?"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} labels. "
            "The two files belong to different data sets or one is damaged; download them again."
        )
    if len(labels) and labels.min() < 0:
        raise DataError(f"{labels_path}: negative label {labels.min()}; labels are class numbers 0, 1, 2...")
    n, height, width = images.shape
    return images.reshape(n, height * width), labels.astype(np.int64)


def load_mnist(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None, *, cache: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load a split as the network's input: X = pixel / 255 in [0, 1], y = the class.

    Args:
        split: "train" (60,000 examples for MNIST) or "test" (10,000).
        data_dir: a directory of MNIST-format IDX files; None for the bundled MNIST.
        cache: keep decompressed arrays in the on-disk cache.

    Returns:
        X: (N, 784) float32, one image per row, the lesson's 784 input activations.
        y: (N,) int64, the digit (or class) of each image.

    Raises:
        ConfigError: unknown split.
        DataError: missing, corrupt or mismatched files.
    """
    images, labels = load_mnist_uint8(split, data_dir, cache=cache)
    X = images.astype(np.float32)  # (N, 784)
    X /= np.float32(255.0)  # float32 division is correctly rounded: X == float32(pixel / 255)
    return X, labels


def class_names(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The names of the classes, index = label: "0".."9" for MNIST, clothing names for Fashion-MNIST.

    A directory can name its classes in a `classes.txt`, one name per line.
    Otherwise the data set is recognised by the sha256 of its labels, then by
    'fashion' in its path; anything else gets the label numbers as names.

    Raises:
        DataError: classes.txt is empty, has fewer names than there are labels,
            or a labels file is corrupt.
    """
    if data_dir is None:
        return list(DIGIT_NAMES)
    directory = Path(data_dir)
    labels = None
    for _, labels_stem in SPLITS.values():
        path = _find(directory, labels_stem) if directory.is_dir() else _require(directory, labels_stem)
        if path is not None:
            labels = read_idx(path)
            break
    if labels is None:  # a directory with no labels file is no data set: say what was looked for
        _require(directory, list(SPLITS.values())[-1][1])
    n_classes = int(labels.max()) + 1 if labels is not None and labels.size else 0

    classes_txt = directory / "classes.txt"
    if classes_txt.is_file():
        try:
            names = [line.strip() for line in classes_txt.read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(
                f"{classes_txt}: cannot read ({e}); it should be UTF-8 text, one class name per line."
            ) from e
        names = [name for name in names if name]
        if not names:
            raise DataError(f"{classes_txt} is empty; write one class name per line, in label order.")
        if len(names) < n_classes:
            raise DataError(
                f"{classes_txt} names {len(names)} classes but the labels go up to {n_classes - 1}. "
                "Write one class name per line, in label order."
            )
        return names

    if labels is not None:
        known = _KNOWN_LABELS.get(hashlib.sha256(labels.tobytes()).hexdigest())
        if known is not None:
            return list(known)
    if "fashion" in str(directory.absolute()).lower():
        return list(FASHION_NAMES)
    return [str(k) for k in range(max(10, n_classes))]
