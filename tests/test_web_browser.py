"""The page in a real browser (headless Chromium, driven by Playwright): draw with the mouse and
watch the input grid and the outputs change, get a drawn "1" right, inspect a neuron, take a
backpropagation step, train and watch the curve grow, all without a console error, and with the
keyboard alone.

The page keeps stroke-to-screen latencies (pointer event to the frame showing the answer, painted)
in ``window.digitnet.latencies``, and their phases in ``window.digitnet.phases``;
``test_drawing_updates_the_input_and_the_outputs`` checks them and records them (tests/figures.py).
DIGITNET_SCREENSHOTS=DIR saves the page after drawing a digit, at a desktop and a phone size.

Chromium comes from the system (CHROMIUM, default /usr/bin/chromium); without it the tests are
skipped locally and fail in CI.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.web.app import create_app
from digitnet.web.server import BackgroundServer

pytestmark = pytest.mark.browser  # drives the page in headless Chromium

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(trained: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """The page served by uvicorn on 127.0.0.1 (a free port), drawing with the trained network."""
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    data = (X[:2000], y[:2000], X_test, y_test)
    app = create_app(trained.copy(), source="the test network", output_dir=tmp_path_factory.mktemp("out"),
                     data=lambda: data, train_default=False, use_cache=False)
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


class Page:
    """A page of the app, with the console errors and uncaught exceptions it produced."""

    def __init__(self, browser: Any, url: str, viewport: dict[str, int] = DESKTOP, touch: bool = False) -> None:
        """touch: a phone's browser (a touch screen, the mobile viewport), as a learner's phone is."""
        self.context = browser.new_context(viewport=viewport, device_scale_factor=1, has_touch=touch, is_mobile=touch)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.wait_for_function("() => document.querySelector('#net .neuron') !== null")  # status, network, diagram
        self.page.wait_for_function("() => document.querySelector('#guess').textContent === '–'")

    def close(self) -> None:
        self.context.close()

    def value(self, script: str) -> Any:
        return self.page.evaluate(script)

    def draw(self, points: list[tuple[float, float]], steps: int = 8) -> None:
        """A mouse stroke through points given as fractions (x, y) of the drawing pad."""
        box = self.page.locator("#pad").bounding_box()
        xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
        self.page.mouse.move(*xy[0])
        self.page.mouse.down()
        for x, y in xy[1:]:
            self.page.mouse.move(x, y, steps=steps)
        self.page.mouse.up()

    def settle(self) -> None:
        """Wait until the last drawing has been answered and shown."""
        self.page.wait_for_function("() => window.digitnet.canvasRequests > 0 && "
                                    "window.digitnet.latencies.length === window.digitnet.canvasRequests")
        self.page.wait_for_timeout(50)

    def seen(self) -> np.ndarray:
        """The 28x28 'what the network sees' canvas, as brightness in [0, 1]."""
        rgba = self.value("Array.from(document.querySelector('#seen').getContext('2d')"
                          ".getImageData(0, 0, 28, 28).data)")
        return np.asarray(rgba, dtype=float).reshape(28, 28, 4)[..., 0] / 255


@pytest.fixture
def page(browser: Any, server: BackgroundServer) -> Iterator[Page]:
    page = Page(browser, server.url)
    yield page
    page.close()
    assert page.errors == []  # no console error, no uncaught exception


ONE = [(0.5, 0.15), (0.5, 0.85)]  # a thick vertical stroke
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]


def test_drawing_updates_the_input_and_the_outputs(page: Page) -> None:
    outputs_before = page.value("window.digitnet && document.querySelectorAll('#net .value').length")
    assert outputs_before == 10
    assert page.seen().max() == 0  # a blank image at first
    page.draw([(0.3, 0.3), (0.7, 0.5), (0.4, 0.8)])
    page.settle()
    seen = page.seen()
    assert seen.max() > 0.9 and 20 < np.count_nonzero(seen > 0.5) < 400  # the stroke, brought to 28x28
    values = page.value("Array.from(document.querySelectorAll('#net .value')).map((t) => Number(t.textContent))")
    assert len(values) == 10 and all(0 <= v <= 1 for v in values) and max(values) > 0
    assert page.page.locator("#guess").text_content() in list("0123456789")
    assert page.page.locator("#pad-hint").is_hidden()
    latencies = page.value("window.digitnet.latencies")
    assert len(latencies) >= 1 and np.median(latencies) < 250, latencies
    _record_latency(page.value("window.digitnet"))


def _record_latency(stats: dict[str, Any]) -> None:
    try:
        from figures import record  # type: ignore[import-not-found]  # tests/figures.py
    except ImportError:
        return
    latencies = stats["latencies"]
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    record("web stroke-to-screen latency (ms)", {
        "machine": machine, "date": datetime.date.today().isoformat(), "load_average": os.getloadavg()[0],
        "median": round(float(np.median(latencies)), 1), "p90": round(float(np.percentile(latencies, 90)), 1),
        "max": round(float(np.max(latencies)), 1), "updates": len(latencies),
        "request median": round(float(np.median(stats["fetchMs"])), 1),
        "render median": round(float(np.median(stats["renderMs"])), 1),
        "frame median": round(float(np.median([p["frame"] + p["painted"] for p in stats["phases"]])), 1)})


def test_each_latency_runs_to_its_painted_frame_and_is_the_sum_of_its_phases(page: Page) -> None:
    # Up to 2026-12-02 the clock stopped in the frame's requestAnimationFrame callback, before the
    # frame's style, layout and paint: the answer was not yet on the screen.
    page.draw(ONE)
    page.settle()
    stats = page.value("window.digitnet")
    assert len(stats["phases"]) == len(stats["latencies"]) == stats["canvasRequests"] >= 2
    for latency, phases in zip(stats["latencies"], stats["phases"]):
        assert set(phases) == {"waited", "encoded", "fetched", "rendered", "frame", "painted"}
        assert all(v >= 0 for v in phases.values()), phases
        assert latency == pytest.approx(sum(phases.values()), abs=1e-6)


def test_the_pad_draws_and_sends_a_move_as_it_comes_not_at_the_next_frame(page: Page) -> None:
    # pointermove waits for the next animation frame; pointerrawupdate (Chromium, on a secure origin
    # such as 127.0.0.1) is dispatched at once, so the page draws and sends from it.
    assert page.value("'onpointerrawupdate' in window")
    box = page.page.locator("#pad").bounding_box()
    page.page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.2 * box["height"])
    page.page.mouse.down()
    page.page.wait_for_function("() => window.digitnet.latencies.length === 1")  # the dot, answered
    page.value(f"""document.querySelector('#pad').dispatchEvent(new PointerEvent('pointerrawupdate',
        {{pointerId: 1, pointerType: 'mouse', bubbles: true, clientX: {box["x"] + 0.5 * box["width"]},
          clientY: {box["y"] + 0.8 * box["height"]}}}))""")  # a move, and no pointermove at all
    page.page.wait_for_function("() => window.digitnet.latencies.length === 2")
    page.page.mouse.up()
    ink = page.value("(() => { const pad = document.querySelector('#pad'); return pad.getContext('2d')"
                     ".getImageData(pad.width / 2, 0.6 * pad.height, 1, 1).data[3]; })()")
    assert ink == 255  # the line from the dot to the move is on the pad, and was sent
    assert page.seen()[14:20, 12:16].max() > 0.5


def test_a_cleared_pad_is_said_to_be_blank_not_guessed(page: Page) -> None:
    page.draw(ONE)
    page.settle()
    assert page.page.locator("#guess").text_content() == "1"
    page.page.click("#clear")
    page.page.wait_for_function("() => document.querySelector('#guess').textContent === '–'")
    assert "nothing to read" in (page.page.locator("#confidence").text_content() or "")
    assert page.page.locator("#net .guess").count() == 0  # no output neuron or label marked as the guess
    assert page.seen().max() == 0 and not page.errors


def test_a_clear_one_is_read_as_1(page: Page) -> None:
    page.draw(ONE)
    page.settle()
    assert page.page.locator("#guess").text_content() == "1"
    assert page.page.locator("#net .digit.guess").text_content() == "1"


def test_clicking_a_neuron_shows_its_weights(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    page.page.locator('#net .neuron[data-layer="1"][data-index="3"]').click()
    page.page.wait_for_selector("#neuron-weights")
    assert page.page.locator("#inspect h3").text_content() == "Layer 1, neuron 3"
    assert "bias b" in page.page.locator("#inspect dl").text_content()
    weights = page.value("Array.from(document.querySelector('#neuron-weights').getContext('2d')"
                         ".getImageData(0, 0, 28, 28).data)")
    assert len(set(weights)) > 10  # a picture of 784 weights, not a blank square
    page.page.locator('#net .neuron[data-layer="3"][data-index="7"]').click()
    page.page.wait_for_function("() => document.querySelector('#inspect h3').textContent === 'Output neuron 7'")
    assert page.page.locator("#neuron-weights .cell").count() == 16  # its 16 weights from layer 2


def test_a_backprop_step_raises_the_right_output(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    page.page.locator('#labels button[data-label="3"]').click()  # not what it reads: much to learn
    page.page.wait_for_selector("#bp-result .wants-table")
    assert "Cost of this example" in page.page.locator("#bp-result .cost").text_content()
    assert page.page.locator("#bp-result tr.right th").text_content() == "3"
    assert page.page.locator("#net .wants *").count() > 0  # arrows in the diagram
    page.page.locator("#bp-step").click()
    page.page.wait_for_selector("#step-result .before-after")
    assert "steps taken: 1" in page.page.locator("#step-result").text_content()
    before = float(page.page.locator("#step-result .ba-col.right .before").get_attribute("title").split()[-1])
    after = float(page.page.locator("#step-result .ba-col.right .after").get_attribute("title").split()[-1])
    assert after >= before
    costs = re.search(r"Cost ([0-9.]+) → ([0-9.]+)", page.page.locator("#step-result").text_content())
    assert costs is not None and float(costs[2]) < float(costs[1])
    page.page.locator("#bp-reset").click()
    page.page.wait_for_function("() => document.querySelector('#step-result').textContent === ''")


def test_training_grows_the_curve(page: Page) -> None:
    page.page.locator("#t-hidden").fill("16")
    page.page.locator("#t-epochs").fill("2")
    page.page.locator("#t-limit").select_option("500")
    page.page.locator("#t-start").click()
    page.page.wait_for_function("() => document.querySelector('#history tbody').children.length === 2", timeout=20_000)
    page.page.wait_for_function("() => document.querySelector('#t-use').disabled === false")
    assert page.page.locator("#weights canvas").count() == 16  # the first layer's weights, as pictures
    curve = page.value("window.digitnet.curve")  # before training, within and after each epoch
    assert {0, 1, 2} <= set(curve) and curve == sorted(curve)
    rgba = page.value("Array.from(document.querySelector('#cost-curve').getContext('2d')"
                      ".getImageData(0, 0, 360, 180).data)")
    assert len(set(rgba)) > 20  # something drawn on the cost curve
    assert page.page.locator("#t-status").text_content().strip() != "No training yet."


def test_the_keyboard_reaches_the_buttons_and_opens_a_neuron(page: Page) -> None:
    focused: list[str] = []
    for _ in range(12):
        page.page.keyboard.press("Tab")
        focused.append(page.value("document.activeElement.id || document.activeElement.getAttribute('class') || ''"))
        if focused[-1] == "neuron":
            break
    assert focused[:3] == ["clear", "example", "noise"], focused
    assert focused[-1] == "neuron", focused  # one tab stop for the diagram
    page.page.keyboard.press("ArrowDown")
    page.page.keyboard.press("Enter")
    page.page.wait_for_selector("#neuron-weights")
    assert page.page.locator("#inspect h3").text_content() == "Layer 1, neuron 1"
    page.page.locator("#example").focus()
    page.page.keyboard.press("Enter")
    page.page.wait_for_function("() => document.querySelector('#source').textContent.includes('test')")


@pytest.mark.parametrize("name, viewport", [("web-desktop.png", DESKTOP), ("web-phone.png", PHONE)])
def test_screenshots(browser: Any, server: BackgroundServer, name: str, viewport: dict[str, int]) -> None:
    """The page after drawing a 7, at a desktop and a phone size (saved when DIGITNET_SCREENSHOTS is set)."""
    page = Page(browser, server.url, viewport, touch=viewport is PHONE)  # a phone's browser, with a touch screen
    try:
        page.page.locator("#pad").scroll_into_view_if_needed()
        page.draw(SEVEN)
        page.settle()
        page.page.evaluate("window.scrollTo(0, 0)")
        png = page.page.screenshot()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("DIGITNET_SCREENSHOTS"):
            save_small_png(png, Path(os.environ["DIGITNET_SCREENSHOTS"]) / name)
        page.page.locator('#labels button[data-label="3"]').click()  # the widest panels: backprop, a neuron
        page.page.wait_for_selector("#bp-result .wants-table")
        page.page.locator('#net .neuron[data-layer="2"][data-index="0"]').click()
        page.page.wait_for_selector("#neuron-weights")
        width = page.value("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page is {width} px wide in a {viewport['width']} px window"
    finally:
        page.close()
    assert page.errors == []


def save_small_png(png: bytes, path: Path) -> None:
    """Save a screenshot with a palette of 128 colours (octree: the accent and weight colours stay
    true), about a quarter of the size of the full-colour PNG."""
    import io

    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(128, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
