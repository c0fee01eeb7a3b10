"""Loading MNIST: the bundled copy against its published figures, the cache, other directories."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import digitnet.data.cache as cache_module
from digitnet.data import cache_dir, class_names, load_mnist, load_mnist_uint8, mnist, read_idx, write_idx
from digitnet.errors import ConfigError, DataError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Published MNIST figures (PROVENANCE.md and the data set's documentation).
TRAIN_PIXEL_MEAN = 0.1306604762738429
TRAIN_PIXEL_STD = 0.30810780385646264
TRAIN_IMAGES_SHA256 = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"  # uncompressed file
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the tests' cache out of the user's home directory."""
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITNET_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def train_uint8() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist_uint8("train")


@pytest.fixture(scope="module")
def train() -> tuple[np.ndarray, np.ndarray]:
    return load_mnist("train")


def make_dir(
    directory: Path,
    n_images: int = 5,
    n_labels: int = 5,
    shape: tuple[int, int] = (4, 3),
    suffix: str = ".gz",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A small MNIST-format directory written with write_idx; returns (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_labels, dtype=np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    for images_stem, labels_stem in mnist.SPLITS.values():
        write_idx(directory / (images_stem + suffix), images)
        write_idx(directory / (labels_stem + suffix), labels)
    return images, labels


# ---------------------------------------------------------------- the bundled MNIST


def test_train_shapes_dtypes_and_range(train: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = train
    assert X.shape == (60000, 784) and X.dtype == np.float32
    assert y.shape == (60000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_train_pixel_mean_and_std_match_the_published_figures(
    train: tuple[np.ndarray, np.ndarray], train_uint8: tuple[np.ndarray, np.ndarray]
) -> None:
    X, _ = train
    np.testing.assert_allclose(X.mean(dtype=np.float64), TRAIN_PIXEL_MEAN, rtol=1e-6)
    # The exact figures from a histogram of the 0-255 pixel values (quicker than std over 47M floats).
    images, _ = train_uint8
    counts = np.zeros(256)
    for rows in np.array_split(images, 60):  # in pieces: bincount widens its input to int64
        counts += np.bincount(rows.ravel(), minlength=256)
    values = np.arange(256) / 255
    mean = counts @ values / counts.sum()
    std = np.sqrt(counts @ (values - mean) ** 2 / counts.sum())
    np.testing.assert_allclose(mean, TRAIN_PIXEL_MEAN, rtol=1e-12)
    np.testing.assert_allclose(std, TRAIN_PIXEL_STD, rtol=1e-12)


def test_float_images_are_pixels_over_255(
    train: tuple[np.ndarray, np.ndarray], train_uint8: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = train
    images, labels = train_uint8
    np.testing.assert_allclose(X[:2000], images[:2000].astype(np.float64) / 255, rtol=1e-7, atol=0)
    np.testing.assert_array_equal(y, labels)


def test_train_images_are_bit_for_bit_the_published_file(train_uint8: tuple[np.ndarray, np.ndarray]) -> None:
    images, _ = train_uint8
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    digest = hashlib.sha256(header + images.tobytes()).hexdigest()
    assert digest == TRAIN_IMAGES_SHA256


def test_label_counts_per_digit(train_uint8: tuple[np.ndarray, np.ndarray]) -> None:
    _, y_train = train_uint8
    _, y_test = load_mnist_uint8("test")
    counts = np.bincount(y_test, minlength=10)
    assert counts.sum() == 10000
    assert counts.tolist() == TEST_COUNTS
    assert np.bincount(y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert (y_train[0], y_test[0]) == (5, 7)  # the first digit of each set


def test_test_split() -> None:
    X, y = load_mnist("test")
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0


@pytest.mark.parametrize("split", ["validation", "Train", "", "t10k"])
def test_unknown_split_names_the_allowed_values(split: str) -> None:
    with pytest.raises(ConfigError, match="'train', 'test'"):
        load_mnist(split)


def test_corrupt_bundled_copy_says_reinstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["SHA256SUMS", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        shutil.copy(mnist.BUNDLED_DIR / name, tmp_path / name)
    monkeypatch.setattr(mnist, "BUNDLED_DIR", tmp_path)
    assert load_mnist_uint8("test", cache=False)[0].shape == (10000, 784)  # the copy itself is fine
    damaged = bytearray((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    damaged[100] ^= 1
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(damaged))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*corrupt.*[Rr]einstall"):
        load_mnist("test")


# ---------------------------------------------------------------- the cache


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(path))
    return path


def cached_files(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.npy"))


def test_cache_is_written_then_used_with_identical_arrays(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X1, y1 = load_mnist("test")
    digest = mnist._bundled_digests()["t10k-images-idx3-ubyte.gz"]
    assert [p.name for p in cached_files(fresh_cache)] == [f"{digest}.npy"]

    def no_decompressing(path: object) -> None:
        raise AssertionError(f"read {path} although it is cached")

    monkeypatch.setattr(cache_module, "read_idx", no_decompressing)
    X2, y2 = load_mnist("test")
    np.testing.assert_array_equal(X2, X1)
    np.testing.assert_array_equal(y2, y1)
    assert X2.dtype == X1.dtype


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong shape", "pickled object"])
def test_damaged_cache_is_ignored_and_rewritten(fresh_cache: Path, damage: str) -> None:
    images, _ = load_mnist_uint8("test")
    (cached,) = cached_files(fresh_cache)
    if damage == "truncate":
        cached.write_bytes(cached.read_bytes()[:5000])
    elif damage == "garbage":
        cached.write_bytes(b"not a numpy file")
    elif damage == "wrong shape":
        np.save(cached, np.zeros((10000, 28, 27), np.uint8))
    else:
        np.save(cached, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    again, _ = load_mnist_uint8("test")
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(np.load(cached).reshape(10000, 784), images)  # repaired


def test_unwritable_cache_falls_back_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache directory cannot be created under a file")
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(blocker / "cache"))
    images, labels = load_mnist_uint8("test")
    assert images.shape == (10000, 784) and labels.shape == (10000,)


def test_cache_false_writes_nothing(fresh_cache: Path) -> None:
    load_mnist_uint8("test", cache=False)
    assert cached_files(fresh_cache) == []


def test_changed_source_is_not_served_from_the_cache(tmp_path: Path, fresh_cache: Path) -> None:
    first, _ = make_dir(tmp_path / "d", seed=1)
    np.testing.assert_array_equal(load_mnist_uint8("train", tmp_path / "d")[0], first.reshape(5, 12))
    second, _ = make_dir(tmp_path / "d", seed=2)
    np.testing.assert_array_equal(load_mnist_uint8("train", tmp_path / "d")[0], second.reshape(5, 12))
    assert len(cached_files(fresh_cache)) == 2


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("DIGITNET_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "digitnet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "digitnet"


# ---------------------------------------------------------------- other directories


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_a_directory_of_small_idx_files(tmp_path: Path, suffix: str) -> None:
    images, labels = make_dir(tmp_path, n_images=6, n_labels=6, shape=(5, 7), suffix=suffix)
    X, y = load_mnist("test", tmp_path)
    assert X.shape == (6, 35) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, images.reshape(6, 35) / 255.0, rtol=1e-7)
    np.testing.assert_array_equal(y, labels)


def test_dotted_file_names_are_found(tmp_path: Path) -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint16).reshape(2, 28, 28).astype(np.uint8)
    write_idx(tmp_path / "train-images.idx3-ubyte", images)
    write_idx(tmp_path / "train-labels.idx1-ubyte", np.array([3, 1], np.uint8))
    X, y = load_mnist_uint8("train", tmp_path)
    np.testing.assert_array_equal(X, images.reshape(2, 784))
    assert y.tolist() == [3, 1]


def test_mismatched_counts_name_both_files_and_counts(tmp_path: Path) -> None:
    make_dir(tmp_path, n_images=5, n_labels=4)
    with pytest.raises(
        DataError, match=r"train-images-idx3-ubyte.gz holds 5 images but .*train-labels-idx1-ubyte.gz holds 4"
    ):
        load_mnist("train", tmp_path)


def test_missing_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_mnist("train", tmp_path / "nowhere")
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(DataError, match="no train-labels-idx1-ubyte file.*train-labels-idx1-ubyte.gz"):
        load_mnist("train", tmp_path)


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (np.zeros((2, 3, 3), np.float32), np.zeros(2, np.uint8), "uint8 pixels"),
        (np.zeros((2, 9), np.uint8), np.zeros(2, np.uint8), r"shape \(N, height, width\)"),
        (np.zeros((2, 3, 3), np.uint8), np.zeros((2, 1), np.uint8), r"labels of shape \(N,\)"),
        (np.zeros((2, 3, 3), np.uint8), np.zeros(2, np.float32), "of integers"),
        (np.zeros((2, 3, 3), np.uint8), np.array([0, -1], np.int8), "negative label"),
    ],
)
def test_files_of_the_wrong_kind(tmp_path: Path, images: np.ndarray, labels: np.ndarray, match: str) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=match):
        load_mnist("test", tmp_path)


def test_corrupt_file_in_a_directory_is_a_data_error(tmp_path: Path) -> None:
    make_dir(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist("test", tmp_path, cache=False)


# ---------------------------------------------------------------- class names


def test_class_names_of_mnist(tmp_path: Path) -> None:
    assert class_names() == [str(d) for d in range(10)]
    shutil.copy(mnist.BUNDLED_DIR / "t10k-labels-idx1-ubyte.gz", tmp_path)
    assert class_names(tmp_path) == [str(d) for d in range(10)]


def test_classes_txt_names_the_classes(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 2, 1], np.uint8))
    (tmp_path / "classes.txt").write_text("cat\ndog\n  bird  \n\n", encoding="utf-8")
    assert class_names(tmp_path) == ["cat", "dog", "bird"]
    (tmp_path / "classes.txt").write_text("cat\ndog\n", encoding="utf-8")
    with pytest.raises(DataError, match="names 2 classes but the labels go up to 2"):
        class_names(tmp_path)
    (tmp_path / "classes.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        class_names(tmp_path)


def test_unknown_data_set_gets_numbers_as_names(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 12], np.uint8))
    assert class_names(tmp_path) == [str(k) for k in range(13)]
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 3], np.uint8))
    assert class_names(tmp_path) == [str(k) for k in range(10)]


def test_fashion_in_the_path_means_fashion_names(tmp_path: Path) -> None:
    directory = tmp_path / "My-Fashion-Set"
    make_dir(directory)
    assert class_names(directory)[0] == "T-shirt/top" and len(class_names(directory)) == 10


# ---------------------------------------------------------------- Fashion-MNIST


@pytest.fixture
def fashion_dir() -> Path:
    if not (FASHION_DIR / "t10k-labels-idx1-ubyte.gz").is_file():
        reason = f"Fashion-MNIST is not installed in {FASHION_DIR} (apt-get install dataset-fashion-mnist)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return FASHION_DIR


def test_fashion_mnist_loads(fashion_dir: Path) -> None:
    X, y = load_mnist("test", fashion_dir)
    assert X.shape == (10000, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert np.bincount(y, minlength=10).tolist() == [1000] * 10  # Fashion-MNIST's test set is balanced
    images, _ = load_mnist_uint8("train", fashion_dir)
    assert images.shape == (60000, 784)
    assert class_names(fashion_dir) == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


def test_fashion_mnist_is_recognised_by_its_labels_wherever_it_is(
    fashion_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("relocated")
    assert "fashion" not in str(elsewhere).lower()
    for name in ["t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"]:
        shutil.copy(fashion_dir / name, elsewhere)
        assert class_names(elsewhere)[9] == "Ankle boot"
        assert read_idx(elsewhere / name).ndim == 1
        (elsewhere / name).unlink()
