"""The page right for each learner, in headless Chromium: each tab has its own practice copy, label
and network; a new input forgets the last one's label and arrows; backpropagation's marks keep
their size from one example to the next and are explained; the page's settings live in its URL;
and the small defects a learner met (eta out of range, pause time, raw error texts, the start-up
training shown as a run) stay mended.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.web.app import create_app
from digitnet.web.server import BackgroundServer
from test_web_browser import ONE, SEVEN, Page  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    return X[:2000], y[:2000], X_test, y_test


@pytest.fixture(scope="module")
def server(trained: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    data = _data()
    app = create_app(trained.copy(), source="the test network", output_dir=tmp_path_factory.mktemp("out"),
                     data=lambda: data, train_default=False, use_cache=False)
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


@pytest.fixture
def page(browser: Any, server: BackgroundServer) -> Iterator[Page]:
    page = Page(browser, server.url)
    yield page
    page.close()
    assert page.errors == []


def _label(page: Page, k: int) -> None:
    page.page.locator(f'#labels button[data-label="{k}"]').click()
    page.page.wait_for_function(f"() => document.querySelector('#bp-result .wants-table tr.right th')?.textContent "
                                f"=== '{k}'")


def _pressed(page: Page) -> list[str]:
    return page.value("Array.from(document.querySelectorAll('#labels button[aria-pressed=\"true\"]'))"
                      ".map((b) => b.dataset.label)")


COST_SAYS = "() => document.querySelector('#bp-result .cost').textContent.includes('{}')"


def _marks(page: Page) -> int:
    return page.value("document.querySelectorAll('#net .wants *, #net .changes *').length")


# -- what was found 2: a new input is a new example --------------------------------------------------------


def test_clear_forgets_the_label_and_the_arrows(page: Page) -> None:
    page.page.locator("#example").click()
    page.page.wait_for_selector("#bp-result .wants-table")  # the test digit comes with its label
    assert len(_pressed(page)) == 1
    _label(page, (int(_pressed(page)[0]) + 1) % 10)  # a wrong label: large wishes, arrows on every layer
    page.page.wait_for_function("() => document.querySelectorAll('#net .wants *').length > 0")
    page.page.locator("#clear").click()
    page.page.wait_for_function("() => document.querySelector('#guess').textContent === '–'")
    assert _pressed(page) == [] and _marks(page) == 0
    assert page.page.locator("#bp-result").text_content() == ""
    page.draw(SEVEN)
    page.settle()
    page.page.wait_for_timeout(200)
    assert _pressed(page) == [] and _marks(page) == 0  # no label chosen for this drawing: no lesson yet


def test_drawing_over_a_test_digit_starts_a_fresh_input(page: Page) -> None:
    page.draw(ONE)
    page.settle()
    alone = page.seen()
    page.page.locator("#example").click()
    page.page.wait_for_function("() => document.querySelector('#source').textContent.includes('test image')")
    requests = page.value("window.digitnet.canvasRequests")
    page.draw(ONE)
    page.page.wait_for_function(f"() => window.digitnet.canvasRequests > {requests} && "
                                "window.digitnet.latencies.length === window.digitnet.canvasRequests")
    page.page.wait_for_timeout(100)
    assert np.abs(page.seen() - alone).max() < 0.05  # the stroke alone, not merged with the test digit
    assert _pressed(page) == []  # the test digit's label went with it


# -- what was found 3 and "state per visitor": two tabs ------------------------------------------------------


def test_two_tabs_have_their_own_practice_copy_and_label(browser: Any, server: BackgroundServer) -> None:
    a, b = Page(browser, server.url), Page(browser, server.url)
    try:
        for p in (a, b):
            p.draw(SEVEN)
            p.settle()
        _label(a, 3)
        a.page.locator("#bp-step").click()
        a.page.wait_for_selector("#step-result .before-after")
        a.page.wait_for_function(COST_SAYS.format("after 1 step"))
        _label(b, 5)
        assert "on the copy" not in b.page.locator("#bp-result .cost").text_content()  # b's copy is untouched
        assert _pressed(a) == ["3"] and _pressed(b) == ["5"]
        b.page.locator("#bp-step").click()
        b.page.wait_for_function("() => document.querySelector('#step-result').textContent.includes('steps taken: 1')")
        a.page.locator("#bp-step").click()
        a.page.wait_for_function("() => document.querySelector('#step-result').textContent.includes('steps taken: 2')")
        # The diagram shows the network the table speaks of: the practice copy, after its steps.
        a.page.wait_for_function(COST_SAYS.format("after 2 steps"))
        diagram = a.value("Array.from(document.querySelectorAll('#net .value')).map((t) => t.textContent)")
        table = a.value("Array.from(document.querySelectorAll('#bp-result .wants-table tbody tr'))"
                        ".map((tr) => tr.querySelector('td .num').textContent)")
        assert diagram == table
    finally:
        a.close()
        b.close()
    assert a.errors == [] and b.errors == []


# -- what was found 5: magnitudes ----------------------------------------------------------------------------


def _want_widths(page: Page) -> list[float]:
    return page.value("Array.from(document.querySelectorAll('#bp-result .want-bar > span'))"
                      ".map((s) => parseFloat(s.style.width) || 0)")


def _cost(page: Page) -> float:
    found = re.search(r"= ([0-9.]+)", page.page.locator("#bp-result .cost").text_content() or "")
    assert found is not None
    return float(found[1])


def test_backprop_keeps_one_scale_and_explains_its_marks(page: Page) -> None:
    page.draw(ONE)
    page.settle()
    assert page.page.locator("#guess").text_content() == "1"
    _label(page, 1)  # right, and sure of it: a small cost, small wishes
    cost_right = _cost(page)
    right = max(_want_widths(page))
    arrows_right = page.value("document.querySelectorAll('#net .wants .want').length")
    assert page.page.locator("#bp-saturated").count() == 0  # right and sure: nothing to explain
    _label(page, 7)  # wrong: a large cost, large wishes
    cost_wrong = _cost(page)
    wrong = max(_want_widths(page))
    arrows_wrong = page.value("document.querySelectorAll('#net .wants .want').length")
    assert cost_right < 0.1 < cost_wrong
    assert right < 0.2 * wrong and wrong > 30, (right, wrong)  # not each rescaled to its own largest
    assert arrows_right < arrows_wrong
    text = page.page.locator("#bp-result").text_content()
    assert not re.search(r"[−-]0\.0+(?![0-9]*[1-9])", text), text  # no negative zero
    assert not re.search(r"\+0\.0+(?![0-9]*[1-9])", text), text  # a zero change is 0, not +0.00
    legend = page.page.locator("#bp-legend").text_content().lower()
    for mark in ("arrow", "dashed", "blue", "red", "fixed scale"):
        assert mark in legend, legend
    saturated = page.page.locator("#bp-saturated").text_content()  # sure of a 1: its sigmoid is flat there
    assert "saturated" in saturated.lower() and "σ′(z)" in saturated, saturated
    page.page.locator("#bp-step").click()
    page.page.wait_for_selector("#step-result .before-after")
    numbers = page.value("Array.from(document.querySelectorAll('#step-result .ba-num')).map((n) => n.textContent)")
    assert len(numbers) == 10 and all(re.search(r"\d", n) for n in numbers)


# -- what was found 6: small but confusing ---------------------------------------------------------------------


def test_an_eta_out_of_range_is_refused_beside_the_field(page: Page) -> None:
    page.draw(SEVEN)
    page.settle()
    page.page.locator("#bp-eta").fill("50")
    page.page.locator('#labels button[data-label="3"]').click()
    page.page.wait_for_selector("#bp-eta-error:not([hidden])")
    assert "10" in page.page.locator("#bp-eta-error").text_content()
    assert page.page.locator("#bp-eta").get_attribute("aria-invalid") == "true"
    assert "η = 1.5" not in page.page.locator("#bp-result").text_content()  # never silently 1.5
    page.page.locator("#bp-eta").fill("2")
    page.page.locator("#bp-eta").dispatch_event("change")
    page.page.wait_for_function("() => document.querySelector('#bp-result').textContent.includes('η = 2')")
    assert page.page.locator("#bp-eta-error").is_hidden()


def test_a_form_error_is_said_in_words_beside_its_field(page: Page) -> None:
    page.page.locator("#t-hidden").fill("600")
    page.page.locator("#t-start").click()
    page.page.wait_for_selector("#t-hidden-error:not([hidden])")
    said = page.page.locator("#t-hidden-error").text_content()
    assert "512" in said and "Input should" not in said, said
    assert page.page.locator("#toast").is_hidden() or "Input should" not in page.page.locator("#toast").text_content()


def test_pause_time_is_not_training_time(page: Page) -> None:
    page.page.locator("#t-hidden").fill("8")
    page.page.locator("#t-epochs").fill("1")
    page.page.locator("#t-limit").select_option("500")
    page.page.locator("#t-batch").fill("100")
    page.page.locator("#t-speed").select_option("0.5")  # 5 mini-batches, 2 a second
    started = time.monotonic()
    page.page.locator("#t-start").click()
    page.page.wait_for_function("() => document.querySelector('#t-pause').textContent === 'Pause' && "
                                "!document.querySelector('#t-pause').disabled", timeout=20_000)
    page.page.wait_for_timeout(300)
    page.page.locator("#t-pause").click()
    page.page.wait_for_function("() => document.querySelector('#t-pause').textContent === 'Resume'")
    page.page.wait_for_timeout(4000)
    page.page.locator("#t-pause").click()
    page.page.wait_for_function("() => document.querySelector('#history tbody').children.length === 1", timeout=30_000)
    wall = time.monotonic() - started
    seconds = float(page.page.locator("#history tbody td").nth(4).text_content())
    assert seconds < wall - 3.0, (seconds, wall)  # the 4 s paused are not the epoch's training time


# -- the page's settings in its URL ------------------------------------------------------------------------------


def test_the_selected_neuron_is_in_the_url_and_restored(page: Page) -> None:
    page.page.locator('#net .neuron[data-layer="1"][data-index="3"]').click()
    page.page.wait_for_function("() => location.hash.includes('neuron=1.3')")
    page.page.reload()
    page.page.wait_for_function("() => document.querySelector('#inspect h3')?.textContent === 'Layer 1, neuron 3'")
    assert "neuron=1.3" in page.value("location.hash")


# -- under `digitnet serve` without a model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """As `digitnet serve` with no model: the default network trained at start-up (small, for speed)."""
    data = _data()
    app = create_app(None, output_dir=tmp_path_factory.mktemp("out"), data=lambda: data, train_default=True,
                     use_cache=False, default_training={
                         "sizes": [784, 16, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 1.5,
                         "batch_size": 10, "epochs": 1, "limit": 1000, "seed": 0})
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


def test_the_startup_network_is_the_original_not_a_run(browser: Any, serve_default: BackgroundServer) -> None:
    page = Page(browser, serve_default.url)
    try:
        header = page.page.locator("#model").text_content()
        assert header.count("784-16-10") == 1, header  # the header says each thing once
        assert page.page.locator("#t-status").text_content() == "No training yet."
        assert page.page.locator("#t-use").is_disabled()
        page.page.locator("#t-hidden").fill("8")
        page.page.locator("#t-epochs").fill("1")
        page.page.locator("#t-limit").select_option("500")
        page.page.locator("#t-start").click()
        page.page.wait_for_function("() => !document.querySelector('#t-use').disabled", timeout=30_000)
        page.page.locator("#t-use").click()
        page.page.wait_for_function("() => document.querySelector('#model').textContent.includes('784-8-10')")
        assert "1 epoch)" in page.page.locator("#model").text_content()
        assert "net=run-1" in page.value("location.hash")
        page.page.reload()  # a new visitor: the URL brings its network back
        page.page.wait_for_function("() => document.querySelector('#model').textContent.includes('784-8-10')")
        assert page.page.locator("#t-original").is_visible()
        page.page.locator("#t-original").click()
        page.page.wait_for_function("() => document.querySelector('#model').textContent.includes('784-16-10')")
        page.page.wait_for_function("() => document.querySelector('#toast').textContent.startsWith('Back to')")
        assert "the default network, trained at start-up (1 epoch)" in page.page.locator("#toast").text_content()
        assert "net=run-1" not in page.value("location.hash")
    finally:
        page.close()
    assert page.errors == []


def test_a_link_to_a_run_the_server_no_longer_has_says_so(browser: Any, server: BackgroundServer) -> None:
    page = Page(browser, server.url + "#net=run-9&neuron=2.1")
    try:
        page.page.wait_for_function("() => document.querySelector('#toast').textContent.includes('run 9')")
        assert "no longer on the server" in page.page.locator("#toast").text_content()
        assert "the test network" in page.page.locator("#model").text_content()
        page.page.wait_for_function("() => document.querySelector('#inspect h3')?.textContent === 'Layer 2, neuron 1'")
        assert page.value("location.hash") == "#net=original&neuron=2.1"
    finally:
        page.close()
    assert all("409" in e for e in page.errors), page.errors  # the refused request, and nothing else


def test_a_refused_request_is_said_in_words(browser: Any, server: BackgroundServer) -> None:
    page = Page(browser, server.url)
    try:
        said = page.value("window.digitnetKit.api('/api/train', {hidden: [600], epochs: 0}).catch((e) => e.message)")
    finally:
        page.close()
    assert "hidden 0 must be at most 512" in said and "epochs must be at least 1" in said, said
    assert "Input should" not in said
    assert all("422" in e for e in page.errors), page.errors  # the refused request, and nothing else
