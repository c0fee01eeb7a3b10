"""The shared page (``digitnet export MODEL page.html``) in headless Chromium, opened from file://
with every network request blocked: its forward pass gives digitnet's outputs and guesses on all
10,000 MNIST test images, its preprocessing of drawn strokes matches ``preprocess.to_mnist``, and
it reads a 1 and a 7 drawn with the mouse. Plus the command: it writes the file, refuses an
unknown suffix in one line, and never leaves half a file.

Chromium comes from the system (CHROMIUM, default /usr/bin/chromium); without it the browser
tests are skipped locally and fail in CI. DIGITNET_SCREENSHOTS=DIR saves the page after a drawn 7.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.cli import main
from digitnet.errors import DigitNetError
from digitnet.page_export import export
from digitnet.preprocess import to_mnist

BATCH = 2000  # test images per call into the page


@pytest.fixture(scope="module")
def trained() -> Network:
    """The lesson's 784-16-16-10 network after 3 epochs on 20,000 training digits (about 92% right)."""
    from digitnet.data import load_mnist

    X, y = load_mnist("train")
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(X[:20000], y[:20000], epochs=3, batch_size=10, learning_rate=1.5)
    return net


class Offline:
    """The exported page opened from file://, every other request aborted and recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("() => window.digitnet !== undefined")

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        assert self.blocked == [], f"the page asked the network for {self.blocked}"
        assert self.errors == [], f"the page logged errors: {self.errors}"
        self.context.close()

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """The page's output layer for the images X (m, 784), computed in the page."""
        rows = []
        for start in range(0, len(X), BATCH):
            chunk = np.ascontiguousarray(X[start:start + BATCH], dtype="<f4")
            b64 = base64.b64encode(chunk.tobytes()).decode("ascii")
            rows += self.page.evaluate("([b64, m]) => window.digitnet.predictProba(window.digitnet.floats(b64), m)",
                                       [b64, len(chunk)])
        return np.asarray(rows, dtype=np.float64)

    def draw(self, points: list[tuple[float, float]], steps: int = 8) -> None:
        """A mouse stroke through points given as fractions (x, y) of the drawing pad."""
        box = self.page.locator("#pad").bounding_box()
        xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
        self.page.mouse.move(*xy[0])
        self.page.mouse.down()
        for x, y in xy[1:]:
            self.page.mouse.move(x, y, steps=steps)
        self.page.mouse.up()
        self.page.wait_for_timeout(50)


@pytest.fixture
def opened(browser: Any, trained: Network, tmp_path: Path) -> Iterator[Offline]:
    page = Offline(browser, export(trained, tmp_path / "page.html"))
    yield page
    page.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["trained", "relu-softmax"])
def test_the_forward_pass_gives_digitnets_outputs_on_the_test_set(browser, trained, mnist, kind, tmp_path):
    """All 10,000 test images: the same guesses as net.predict and outputs within 2e-5."""
    X = mnist["X_test"]
    net = trained if kind == "trained" else Network((784, 32, 10), activation="relu", cost="cross-entropy", seed=3)
    page = Offline(browser, export(net, tmp_path / "page.html"))
    try:
        got = page.outputs(X)
    finally:
        page.close()
    assert got.shape == (10000, 10)
    np.testing.assert_allclose(got, net.predict_proba(X), atol=2e-5, rtol=0)
    np.testing.assert_array_equal(got.argmax(axis=1), net.predict(X))


STROKES = {  # point lists in the pad's 280x280 pixels
    "one": [[[140, 40], [142, 120], [144, 240]]],
    "seven": [[[70, 60], [210, 60], [120, 240]]],
    "small four, off centre": [[[30, 30], [20, 80], [70, 80]], [[60, 20], [62, 120]]],
    "wide dash": [[[20, 150], [260, 152]]],
    "a dot": [[[200, 200]]],
    "eight": [[[140, 40], [100, 80], [180, 160], [140, 240], [100, 160], [180, 80], [140, 40]]],
    "nothing": [],
}


@pytest.mark.browser
@pytest.mark.parametrize("name", list(STROKES))
def test_preprocessing_matches_digitnet(opened, name):
    """The page's pad grid through the page's toMnist and through preprocess.to_mnist: within 1/255."""
    grid = opened.page.evaluate("(s) => window.digitnet.drawStrokes(s)", STROKES[name])
    seen = np.asarray(opened.page.evaluate("() => window.digitnet.input()"))
    expected = to_mnist(np.asarray(grid, dtype=np.uint8).reshape(140, 140))
    assert (expected.max() > 0) == bool(STROKES[name])
    np.testing.assert_allclose(seen, expected, atol=1 / 255, rtol=0)


@pytest.mark.browser
def test_the_page_reads_a_1_and_a_7_drawn_with_the_mouse(opened):
    opened.draw([(0.5, 0.15), (0.51, 0.85)])
    assert opened.page.locator("#guess").text_content() == "1"
    opened.page.click("#clear")
    opened.draw([(0.25, 0.2), (0.75, 0.2), (0.42, 0.85)])
    assert opened.page.locator("#guess").text_content() == "7"
    assert opened.page.locator("#outputs li.guess").get_attribute("data-digit") == "7"
    if os.environ.get("DIGITNET_SCREENSHOTS"):
        opened.page.click(".neuron[data-layer='1'][data-index='3']")
        opened.page.screenshot(path=str(Path(os.environ["DIGITNET_SCREENSHOTS"]) / "share-page.png"), full_page=True)


@pytest.mark.browser
def test_the_inspector_shows_a_neurons_weights_a_z_and_b(opened, trained):
    opened.draw([(0.5, 0.15), (0.51, 0.85)])
    opened.page.click(".neuron[data-layer='1'][data-index='5']")
    assert opened.page.locator("#neuron-weights").is_visible()
    x = np.asarray(opened.page.evaluate("() => window.digitnet.input()"), dtype=np.float32)
    z = trained.W[0][5] @ x + trained.b[0][5]
    assert float(opened.page.locator("#neuron-z").text_content()) == pytest.approx(z, abs=1e-4)
    assert float(opened.page.locator("#neuron-b").text_content()) == pytest.approx(trained.b[0][5], abs=1e-4)
    assert float(opened.page.locator("#neuron-a").text_content()) == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-4)
    weights = np.asarray(opened.page.evaluate(
        "() => Array.from(document.querySelector('#neuron-weights').getContext('2d').getImageData(0, 0, 28, 28).data)"
    )).reshape(784, 4)
    positive = trained.W[0][5] > 0  # blue where the weight is positive, red where negative
    assert np.all(weights[positive, 2] >= weights[positive, 0])
    assert np.all(weights[~positive, 0] >= weights[~positive, 2])
    opened.page.click(".neuron[data-layer='2'][data-index='0']")
    assert not opened.page.locator("#neuron-weights").is_visible()


@pytest.fixture
def small() -> Network:
    """An untrained network with a ReLU layer and softmax outputs: the command's tests need no training."""
    return Network((784, 8, 10), activation="relu", cost="cross-entropy", seed=1)


def test_export_writes_one_page_with_the_model_inside(tmp_path, small, capsys):
    small.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "page.html")]) == 0
    text = (tmp_path / "page.html").read_text()
    assert str(tmp_path / "page.html") in capsys.readouterr().out
    assert "<script src" not in text and "http://" not in text and "https://" not in text
    W0 = base64.b64encode(small.W[0].astype("<f4").tobytes()).decode()
    assert W0 in text


def test_export_refuses_an_unknown_suffix_in_one_line(tmp_path, small, capsys):
    small.save(tmp_path / "m.npz")
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "page.pdf")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitnet: error:") and "page.pdf" in err and ".html" in err and "\n" not in err
    assert not (tmp_path / "page.pdf").exists()
    assert main(["export", str(tmp_path / "m.npz"), str(tmp_path / "no-such-dir" / "page.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitnet: error:") and "no-such-dir" in err and "\n" not in err


def test_export_never_leaves_half_a_file(tmp_path, small, monkeypatch):
    out = tmp_path / "page.html"
    out.write_text("the old page")

    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("digitnet.files.os.replace", fail)
    with pytest.raises(DigitNetError, match="No space left"):
        export(small, out)
    assert out.read_text() == "the old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
