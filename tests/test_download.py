"""The downloader, against a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from digitnet.data import MIRRORS, download_mnist, load_mnist, mnist, write_idx
from digitnet.data.download import MNIST_MD5, default_checksums
from digitnet.errors import ConfigError, DownloadError

NAMES = list(MNIST_MD5)


def small_mnist(directory: Path) -> dict[str, bytes]:
    """Four tiny MNIST-format .gz files: name -> bytes."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    labels = np.array([4, 0, 9], np.uint8)
    directory.mkdir(exist_ok=True)
    for name in NAMES:
        write_idx(directory / name, images if "images" in name else labels)
    return {name: (directory / name).read_bytes() for name in NAMES}


class Server:
    """A threaded HTTP server on 127.0.0.1: routes[path] = body; anything else is a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.no_length: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                if self.path not in server.no_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output clean

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return small_mnist(tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def sums(files: dict[str, bytes]) -> dict[str, str]:
    """Checksums of the small files: md5 for labels, sha256 for images, as both must work."""
    return {
        name: (hashlib.sha256(body) if "images" in name else hashlib.md5(body)).hexdigest()
        for name, body in files.items()
    }


@pytest.fixture
def server(files: dict[str, bytes]) -> Iterator[Server]:
    s = Server()
    for name, body in files.items():
        s.routes[f"/good/{name}"] = body
        s.routes[f"/corrupt/{name}"] = body[:-1] + bytes([body[-1] ^ 1])
    try:
        yield s
    finally:
        s.close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def test_downloads_all_files_from_a_good_mirror(
    tmp_path: Path, server: Server, files: dict[str, bytes], sums: dict[str, str]
) -> None:
    dest = download_mnist(tmp_path / "dl", [server.url + "/good/"], checksums=sums, timeout=5)
    assert dest == tmp_path / "dl"
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)  # no temporary files left
    for name, body in files.items():
        assert (dest / name).read_bytes() == body
    X, y = load_mnist("test", dest, cache=False)
    assert X.shape == (3, 784) and y.tolist() == [4, 0, 9]


def test_files_already_present_and_valid_are_not_fetched_again(
    tmp_path: Path, server: Server, sums: dict[str, str]
) -> None:
    download_mnist(tmp_path, [server.url + "/good"], checksums=sums, timeout=5)
    assert len(server.requests) == 4
    download_mnist(tmp_path, [server.url + "/good"], checksums=sums, timeout=5)
    assert len(server.requests) == 4


def test_a_damaged_local_file_is_replaced(
    tmp_path: Path, server: Server, files: dict[str, bytes], sums: dict[str, str]
) -> None:
    for other, body in files.items():
        (tmp_path / other).write_bytes(body)
    name = "t10k-labels-idx1-ubyte.gz"
    (tmp_path / name).write_bytes(files[name][:10])
    download_mnist(tmp_path, [server.url + "/good/"], checksums=sums, timeout=5)
    assert (tmp_path / name).read_bytes() == files[name]
    assert server.requests == [f"/good/{name}"]  # only the damaged file was fetched


def test_a_404_mirror_is_followed_by_the_next(
    tmp_path: Path, server: Server, files: dict[str, bytes], sums: dict[str, str]
) -> None:
    download_mnist(tmp_path, [server.url + "/missing/", server.url + "/good/"], checksums=sums, timeout=5)
    assert all((tmp_path / name).read_bytes() == body for name, body in files.items())
    assert server.requests[:2] == [f"/missing/{NAMES[0]}", f"/good/{NAMES[0]}"]


def test_a_corrupt_file_is_rejected_and_the_next_mirror_used(
    tmp_path: Path, server: Server, files: dict[str, bytes], sums: dict[str, str]
) -> None:
    download_mnist(tmp_path, [server.url + "/corrupt/", server.url + "/good/"], checksums=sums, timeout=5)
    assert all((tmp_path / name).read_bytes() == body for name, body in files.items())
    assert len(server.requests) == 8


def test_every_mirror_failing_lists_each_mirror_and_why(tmp_path: Path, server: Server, sums: dict[str, str]) -> None:
    refused = closed_port_url()
    mirrors = [server.url + "/missing/", server.url + "/corrupt/", refused]
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, mirrors, checksums=sums, timeout=5)
    message = str(info.value)
    assert f"could not download {NAMES[0]} from any of 3 mirror(s)" in message
    assert f"{server.url}/missing/{NAMES[0]}: HTTP 404" in message
    assert f"{server.url}/corrupt/{NAMES[0]}: checksum mismatch" in message
    assert f"{refused}{NAMES[0]}: " in message
    assert list(tmp_path.iterdir()) == []  # nothing partial or wrong left behind


def test_an_oversized_response_is_cut_off(tmp_path: Path, server: Server, files: dict[str, bytes]) -> None:
    name = "train-images-idx3-ubyte.gz"
    server.no_length.add(f"/good/{name}")  # so the size is only found out while reading
    sums = {name: hashlib.md5(files[name]).hexdigest()}
    with pytest.raises(DownloadError, match="larger than the 100 bytes allowed"):
        download_mnist(tmp_path, [server.url + "/good/"], checksums=sums, max_bytes=100, timeout=5)
    server.no_length.clear()
    with pytest.raises(DownloadError, match=r"response of [\d,]+ bytes is larger than the 100 allowed"):
        download_mnist(tmp_path, [server.url + "/good/"], checksums=sums, max_bytes=100, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported(tmp_path: Path, server: Server, files: dict[str, bytes], sums: dict[str, str]) -> None:
    seen: dict[str, tuple[int, int | None]] = {}
    download_mnist(
        tmp_path,
        [server.url + "/good/"],
        checksums=sums,
        timeout=5,
        progress=lambda name, got, total: seen.__setitem__(name, (got, total)),
    )
    assert seen == {name: (len(body), len(body)) for name, body in files.items()}


@pytest.mark.parametrize("bad", ["xyz", "0" * 40, "g" * 32])
def test_malformed_checksums_are_a_config_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="neither an md5"):
        download_mnist(tmp_path, [closed_port_url()], checksums={"a.gz": bad})


def test_no_mirrors_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no mirrors"):
        download_mnist(tmp_path, [])


def test_unwritable_destination_is_a_download_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DownloadError, match="cannot create the download directory"):
        download_mnist(tmp_path / "file" / "mnist", [closed_port_url()])


def test_default_checksums_are_the_official_md5s_and_the_bundled_sha256s() -> None:
    sums = default_checksums()
    assert set(sums) == set(NAMES)
    for name, accepted in sums.items():
        assert MNIST_MD5[name] in accepted
        assert hashlib.sha256((mnist.BUNDLED_DIR / name).read_bytes()).hexdigest() in accepted
    # Three bundled files are byte for byte the official downloads, so their md5 checks the table.
    for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        assert hashlib.md5((mnist.BUNDLED_DIR / name).read_bytes()).hexdigest() == MNIST_MD5[name]
    assert MIRRORS[0].startswith("https://")


def test_a_copy_of_the_bundled_files_is_accepted_without_any_request(tmp_path: Path) -> None:
    for name in NAMES:
        shutil.copy(mnist.BUNDLED_DIR / name, tmp_path / name)
    # Nothing listens on the mirror: success shows every file was recognised as valid.
    assert download_mnist(tmp_path, [closed_port_url()]) == tmp_path


def test_default_destination_is_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: Server, sums: dict[str, str]
) -> None:
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(tmp_path / "cache"))
    dest = download_mnist(mirrors=[server.url + "/good/"], checksums=sums, timeout=5)
    assert dest == tmp_path / "cache" / "mnist"
    assert gzip.decompress((dest / "t10k-labels-idx1-ubyte.gz").read_bytes())[-3:] == bytes([4, 0, 9])
