"""Every view in sight, a neuron seen, and the lessons' pictures, in headless Chromium.

- At 1024x768, 1280x720, 1440x900 and on a 390x844 phone the pad and all ten outputs are inside the
  window after a stroke, without scrolling (the diagram's output layer, or on narrow screens the
  strip of outputs under the pad); on the phone every control is at least 32 px and the words
  say "tap", not "click" or arrow keys; a neuron's inspector scrolls into view when clicked.
- Hovering a neuron lights up exactly its incoming connections; the inspector's curve marks the z
  the API gives.
- Layer 2 seen through layer 1, the confusion matrix (a cell opens its digits, a digit is drawn
  with), the dreams and the noise test show what ``digitnet.inspect`` computes.

DIGITNET_SCREENSHOTS=DIR saves a neuron seen (web-neuron.png) and the lessons' pictures (web-pictures.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network, inspect
from digitnet.web.app import create_app
from digitnet.web.server import BackgroundServer
from test_web_browser import ONE, PHONE, SEVEN, Page, save_small_png  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser

SIZES = [({"width": 1024, "height": 768}, False), ({"width": 1280, "height": 720}, False),
         ({"width": 1440, "height": 900}, False), (PHONE, True)]


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    from digitnet.data import load_mnist_uint8

    return load_mnist_uint8("test")


@pytest.fixture(scope="module")
def server(trained: Network, test_set: tuple[np.ndarray, np.ndarray],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    data = (X[:2000], y[:2000], *test_set)
    app = create_app(trained.copy(), source="the test network", output_dir=tmp_path_factory.mktemp("out"),
                     data=lambda: data, train_default=False, use_cache=False)
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


@pytest.fixture
def page(browser: Any, server: BackgroundServer) -> Iterator[Page]:
    page = Page(browser, server.url, {"width": 1440, "height": 900})
    yield page
    page.close()
    assert page.errors == []


def inside(box: dict[str, float] | None, width: int, height: int) -> bool:
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and \
        box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


OUTPUTS_IN_VIEW = """() => {
  const L = Math.max(...Array.from(document.querySelectorAll('#net .neuron'), (n) => Number(n.dataset.layer)));
  const inView = (el) => { if (!el || !el.getClientRects().length) return false; const r = el.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; };
  return Array.from({ length: 10 }, (_, i) =>
    inView(document.querySelector(`#net .neuron[data-layer="${L}"][data-index="${i}"]`)) ||
    inView(document.querySelector(`#strip .strip-cell[data-digit="${i}"]`)));
}"""


def test_the_pad_and_the_ten_outputs_are_in_view_after_a_stroke(browser: Any, server: BackgroundServer) -> None:
    failures = []
    for viewport, touch in SIZES:
        page = Page(browser, server.url, viewport, touch=touch)
        try:
            page.draw(ONE)
            page.settle()
            w, h = viewport["width"], viewport["height"]
            assert page.value("window.scrollY") == 0  # nothing scrolled to get here
            pad = page.page.locator("#pad").bounding_box()
            outputs = page.value(OUTPUTS_IN_VIEW)
            if not inside(pad, w, h) or not all(outputs):
                failures.append(f"{w}x{h}: pad {pad}, outputs in view {outputs}")
            if touch:  # the strip shows the drawing's outputs, not placeholders
                values = page.value("Array.from(document.querySelectorAll('#strip .strip-value'), "
                                    "(t) => t.textContent)")
                shown = page.value("Array.from(document.querySelectorAll('#net .value'), (t) => t.textContent)")
                if values != shown:
                    failures.append(f"{w}x{h}: the strip shows {values}, the outputs are {shown}")
        finally:
            page.close()
        assert page.errors == []
    assert not failures, failures


TARGETS = """() => Array.from(document.querySelectorAll(
    'button, a.button, select, input:not([type=checkbox]), label.check, #net .neuron'))
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => { const r = el.getBoundingClientRect();
    return [el.id || el.getAttribute('class') || el.tagName, Math.round(r.width), Math.round(r.height)]; })"""


def test_a_phone_gets_finger_sized_targets_and_its_own_words(browser: Any, server: BackgroundServer) -> None:
    page = Page(browser, server.url, PHONE, touch=True)
    try:
        targets = page.value(TARGETS)
        neurons = [t for t in targets if t[0] == "neuron"]
        assert len(neurons) == 16 + 16 + 10
        small = [t for t in targets if t[1] < 32 or t[2] < 32]
        assert not small, small
        words = page.value("Array.from(document.querySelectorAll('.panel.draw, .panel.net, .panel.inspect'), "
                           "(p) => p.innerText).join(' ')")
        assert "arrow keys" not in words and "Click" not in words and "click" not in words
        assert "Tap a neuron" in words
        page.page.locator("#confusion-go").click()  # the matrix's cells too, without scrolling sideways
        page.page.wait_for_function("() => document.querySelectorAll('#confusion .cell').length === 100")
        cells = page.value("Array.from(document.querySelectorAll('#confusion .cell'), (c) => "
                           "[c.getBoundingClientRect().width, c.getBoundingClientRect().height])")
        assert min(min(c) for c in cells) >= 32, cells
        assert page.value("(() => { const c = document.querySelector('#confusion'); "
                          "return c.scrollWidth <= c.clientWidth; })()")
    finally:
        page.close()
    assert page.errors == []


def settled_scroll(page: Page) -> float:
    """window.scrollY once it has stopped moving (the same over 150 ms), within 5 s."""
    y = page.value("window.scrollY")
    for _ in range(33):
        page.page.wait_for_timeout(150)
        now = page.value("window.scrollY")
        if now == y:
            return float(now)
        y = now
    raise AssertionError("the page kept scrolling for 5 s")


def test_clicking_a_neuron_scrolls_its_inspector_into_view(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    page.page.locator('#net .neuron[data-layer="2"][data-index="0"]').click()
    page.page.wait_for_selector("#inspect h3")
    page.page.wait_for_function("() => { const r = document.querySelector('.panel.inspect').getBoundingClientRect();"
                                " return r.top >= -1 && r.bottom <= innerHeight + 1; }", timeout=5000)
    scrolled = settled_scroll(page)  # the smooth scroll may still be moving when the panel is first in view
    assert scrolled > 0
    # Already in view: a click on a second neuron leaves the page where it is. (The click is
    # dispatched: Playwright's own click would first scroll the neuron into view.)
    page.page.locator('#net .neuron[data-layer="2"][data-index="4"]').dispatch_event("click")
    page.page.wait_for_function("() => document.querySelector('#inspect h3').textContent === 'Layer 2, neuron 4'")
    assert settled_scroll(page) == scrolled


def test_hovering_a_neuron_lights_its_incoming_connections(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    page.page.locator('#net .neuron[data-layer="2"][data-index="5"]').hover()
    page.page.wait_for_function("() => document.querySelector('#net').classList.contains('highlighting')")
    lit = page.value("Array.from(document.querySelectorAll('#net .links line.incoming'), "
                     "(l) => [Number(l.dataset.layer), Number(l.dataset.to), Number(l.dataset.from)])")
    info = page.value("fetch('/api/network?top=256').then((r) => r.json())")
    into = info["connections"][1]
    expected = {(2, 5, f) for t, f in zip(into["to"], into["from"]) if t == 5}
    assert lit and {tuple(x) for x in lit} == expected  # all of its drawn incoming lines, and only those
    forward = page.value("window.digitnetState.current")
    z, a = forward["layers"][1]["z"][5], forward["layers"][1]["a"][5]
    line = page.page.locator("#neuron-line").text_content()
    assert f"a = {a:.3f}" in line and f"z = {z:.3f}" in line and f"b = {info['biases'][1][5]:.3f}" in line
    page.page.mouse.move(5, 5)  # away: nothing highlighted
    page.page.wait_for_function("() => !document.querySelector('#net').classList.contains('highlighting')")
    page.page.locator('#net .neuron[data-layer="3"][data-index="7"]').focus()  # the keyboard's way to it
    page.page.wait_for_function("() => document.querySelector('#neuron-line').textContent.startsWith('Output 7')")
    lit = page.value("Array.from(document.querySelectorAll('#net .links line.incoming'), "
                     "(l) => [Number(l.dataset.layer), Number(l.dataset.to)])")
    assert lit and all(x == [3, 7] for x in lit)


def test_the_inspector_marks_this_z_on_the_activation_curve(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    for layer, index in [(1, 3), (3, 7)]:
        page.page.locator(f'#net .neuron[data-layer="{layer}"][data-index="{index}"]').click()
        page.page.wait_for_selector("#curve-marker")
        page.page.wait_for_function(f"() => window.digitnetState.selected.layer === {layer} && "
                                    f"window.digitnetState.selected.index === {index}")
        svg = page.page.locator("#act-curve")
        z_min, z_max = float(svg.get_attribute("data-z-min")), float(svg.get_attribute("data-z-max"))
        x0, x1 = float(svg.get_attribute("data-x0")), float(svg.get_attribute("data-x1"))
        cx = float(page.page.locator("#curve-marker").get_attribute("cx"))
        marked = z_min + (cx - x0) / (x1 - x0) * (z_max - z_min)
        api = page.value(f"fetch('/api/neuron', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, "
                         f"body: JSON.stringify({{layer: {layer}, index: {index}, "
                         f"input: window.digitnetState.current.input}})}}).then((r) => r.json())")
        assert marked == pytest.approx(api["z"], abs=1e-6 * (z_max - z_min) + 1e-9)
        assert z_min <= api["z"] <= z_max
        words = page.page.locator("#saturation").text_content()
        assert words.startswith("Saturated") == api["saturated"]


def test_layer_2_seen_through_layer_1(page: Page, trained: Network) -> None:
    page.page.locator("#templates-go").click()
    page.page.wait_for_function("() => document.querySelectorAll('#templates canvas').length === 16")
    T = inspect.templates(trained).reshape(16, 784)
    for i in (0, 9):
        rgba = np.asarray(page.value(f"Array.from(document.querySelectorAll('#templates canvas')[{i}]"
                                     ".getContext('2d').getImageData(0, 0, 28, 28).data)")).reshape(784, 4)
        strong = np.abs(T[i]) > 0.2 * np.abs(T[i]).max()
        blue = rgba[:, 2] > rgba[:, 0]  # + is blue, - is red
        assert np.array_equal(blue[strong], T[i][strong] > 0)


def test_a_confusion_cell_opens_its_digits_and_one_is_drawn_with(page: Page, trained: Network,
                                                                  test_set: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = test_set
    counts = inspect.confusion_matrix(trained, X, y)
    page.page.locator("#confusion-go").click()
    page.page.wait_for_function("() => document.querySelectorAll('#confusion .cell').length === 100")
    shown = page.value("Array.from(document.querySelectorAll('#confusion .cell'), (c) => Number(c.textContent))")
    assert np.array_equal(np.reshape(shown, (10, 10)), counts)
    off = counts - np.diag(np.diag(counts))
    label, guess = np.unravel_index(np.argmax(off), off.shape)
    page.page.locator(f'#confusion .cell[data-label="{label}"][data-guess="{guess}"]').click()
    page.page.wait_for_selector("#misread .digit-button")
    indices = page.value("Array.from(document.querySelectorAll('#misread .digit-button'), "
                         "(b) => Number(b.dataset.index))")
    assert indices == inspect.misread(trained, X, y, int(label), int(guess), 24).index.tolist()
    note = page.page.locator("#misread-note").text_content()
    assert f"{counts[label, guess]} test images of a {label} read as {guess}" in note
    page.page.locator("#misread .digit-button").first.click()
    page.page.wait_for_function(f"() => document.querySelector('#source').textContent.includes('#{indices[0]}')")
    seen = page.value("window.digitnetState.current.input")
    assert np.allclose(seen, X[indices[0]].astype(np.float64) / 255, atol=1e-6)
    assert page.page.locator("#guess").text_content() == str(guess)  # it draws with the misread digit
    assert page.value("document.querySelector('#labels button[aria-pressed=\"true\"]').dataset.label") == str(label)


def test_the_dreams_and_the_noise_test(page: Page, trained: Network, test_set: tuple[np.ndarray, np.ndarray]) -> None:
    page.page.locator("#dreams-go").click()
    page.page.wait_for_function("() => document.querySelectorAll('#dreams figure').length === 10", timeout=20_000)
    for d in (0, 7):
        dream = inspect.dream(trained, d, "noise", steps=200, seed=0)
        caption = page.page.locator(f'#dreams figure[data-digit="{d}"] figcaption').text_content()
        assert caption.endswith(f"→ {dream.activation[-1]:.2f}")
    page.page.locator("#noise-go").click()
    page.page.wait_for_selector("#noise-result .hists")
    conf_noise, _ = inspect.confidence(trained, inspect.noise_images(1000, 28, 0))
    conf_digits, _ = inspect.confidence(trained, test_set[0])
    words = page.page.locator("#noise-result .noise-words").text_content()
    assert f"{np.median(conf_noise):.2f} (median)" in words and f"test digits {np.median(conf_digits):.2f}" in words


def test_screenshots_of_a_neuron_and_the_pictures(browser: Any, server: BackgroundServer) -> None:
    """A hovered neuron and its inspector after drawing a 7 (a window tall enough for both), and the
    four pictures opened (saved when DIGITNET_SCREENSHOTS is set)."""
    page = Page(browser, server.url, {"width": 1280, "height": 1400})
    try:
        shots = _screenshots(page)
    finally:
        page.close()
    assert page.errors == []
    for name, png in shots.items():
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("DIGITNET_SCREENSHOTS"):
            save_small_png(png, Path(os.environ["DIGITNET_SCREENSHOTS"]) / name)


def _screenshots(page: Page) -> dict[str, bytes]:
    page.draw(SEVEN)
    page.settle()
    page.page.locator('#net .neuron[data-layer="1"][data-index="3"]').click()
    page.page.wait_for_selector("#curve-marker")
    page.page.locator('#net .neuron[data-layer="2"][data-index="5"]').hover()
    page.page.wait_for_function("() => document.querySelectorAll('#net .links line.incoming').length > 0")
    shots = {"web-neuron.png": page.page.screenshot()}
    for button, ready in [("#templates-go", "#templates canvas"), ("#confusion-go", "#confusion .cell"),
                          ("#dreams-go", "#dreams figure"), ("#noise-go", "#noise-result .hists")]:
        page.page.locator(button).click()
        page.page.wait_for_selector(ready, timeout=20_000)
    page.page.locator('#confusion .cell[data-label="4"][data-guess="9"]').click()
    page.page.wait_for_selector("#misread .digit-button")
    shots["web-pictures.png"] = page.page.locator(".panel.pictures").screenshot()
    return shots
