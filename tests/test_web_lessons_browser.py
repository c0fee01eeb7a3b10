"""The lessons' views in real Chromium: the curve gains points within an epoch, slow motion shows
successive mini-batches, the average nudge shown is Network.gradients on that batch, the surface's
origin is the network's cost on its sample, and replay at step k is a training stopped at step k.
Set-up (Chromium, Playwright, the Page helper) as in test_web_browser.py."""

from __future__ import annotations

import math
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.stepper import Settings, Stepper
from digitnet.web.app import create_app
from digitnet.web.server import BackgroundServer
from test_web_browser import Page  # type: ignore[import-not-found]  # (the shared set-up)

pytestmark = pytest.mark.browser
DATA: dict[str, Any] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    DATA.update(X=X[:2000], y=y[:2000], X_test=X_test, y_test=y_test)
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(X[:5000], y[:5000], epochs=1)
    app = create_app(net, source="a test network", output_dir=tmp_path_factory.mktemp("out"),
                     data=lambda: (DATA["X"], DATA["y"], X_test, y_test), train_default=False, use_cache=False)
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


@pytest.fixture
def page(browser: Any, server: BackgroundServer) -> Iterator[Page]:  # noqa: F811
    page = Page(browser, server.url)
    yield page
    errors = list(page.errors)
    try:  # the next test starts its own run
        urllib.request.urlopen(urllib.request.Request(f"{server.url.rstrip('/')}/api/train/stop", method="POST"),
                               timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 409  # no run going
    page.page.wait_for_function("() => !document.querySelector('#t-start').disabled", timeout=20_000)
    page.close()
    assert errors == []


def start(page: Page, speed: str = "full", epochs: str = "2", hidden: str = "16") -> None:
    page.page.locator("#t-hidden").fill(hidden)
    page.page.locator("#t-epochs").fill(epochs)
    page.page.locator("#t-limit").select_option("2000")
    page.page.locator("#t-speed").select_option(speed)
    page.page.locator("#t-start").click()


def network_of(page: Page, url: str) -> Network:
    body = page.value(f"fetch('{url}').then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b)))")
    path = Path(tempfile.gettempdir()) / f"digitnet-browser-{os.getpid()}.npz"
    path.write_bytes(bytes(body))
    try:
        return Network.load(path)
    finally:
        path.unlink()


def stopped_at(s: dict, k: int) -> Network:
    """A training of the run's settings on the same images, stopped after k mini-batches."""
    net = Network(s["sizes"], seed=s["seed"])
    Stepper(net, DATA["X"], DATA["y"], Settings(epochs=s["epochs"], batch_size=s["batch_size"],
                                                learning_rate=s["learning_rate"])).run_to(k)
    return net


def same_bytes(a: Network, b: Network) -> bool:
    return all(p.tobytes() == q.tobytes() for p, q in zip(a.W + a.b, b.W + b.b))


def pause_in_slow_motion(page: Page, hidden: str = "16") -> dict:
    start(page, speed="0.05", hidden=hidden)
    page.page.wait_for_function("() => window.digitnetLive.seen.steps.length >= 3", timeout=20_000)
    page.page.locator("#t-pause").click()
    page.page.wait_for_function("() => document.querySelector('#t-pause').textContent === 'Resume'")
    page.page.wait_for_function("() => window.digitnetLessons.batch && window.digitnetLessons.batch.step === "
                                "window.digitnetState.run.step", timeout=20_000)
    return page.value("window.digitnetState.run")


def test_the_curve_gains_points_within_an_epoch_and_its_axis_follows_the_cost(page: Page) -> None:
    start(page, epochs="3")
    page.page.wait_for_function("() => document.querySelector('#history tbody').children.length === 3",
                                timeout=30_000)
    batches = page.value("window.digitnetState.batches")
    assert len([b for b in batches if 1 < b["epoch"] <= 2]) >= 10  # the second epoch, seen piece by piece
    first = page.value("window.digitnetState.points[0].cost")
    assert float(page.page.locator("#cost-curve").get_attribute("data-y-max")) < first  # not up to the start
    page.page.locator("#t-log").check()
    assert float(page.page.locator("#cost-curve").get_attribute("data-y-min")) > 0


def test_the_page_draws_a_runs_news_at_most_once_a_frame_however_much_comes(page: Page) -> None:
    # A fast run sends tens of curve points at each look of the stream; drawing the curves for each
    # one took the frames the drawing pad needs (its latency while training).
    page.page.evaluate("""() => {
        window.frames_ = 0;
        const tick = () => { window.frames_ += 1; requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
        window.drawnIn_ = [];
        const draw = window.digitnetLive.drawCurves;
        window.digitnetLive.drawCurves = (state) => { window.drawnIn_.push(window.frames_); draw(state); };
    }""")
    start(page, epochs="5")
    page.page.wait_for_function("() => document.querySelector('#history tbody').children.length === 5",
                                timeout=30_000)
    drawn = page.value("window.drawnIn_")
    news = page.value("window.digitnetState.batches.length + window.digitnetState.points.length")
    assert news > 50 and drawn
    assert len(drawn) == len(set(drawn))  # never two draws in one frame
    assert len(drawn) < news / 2
    assert page.page.locator("#cost-curve").get_attribute("data-points") == str(news)  # the last draw has all


def test_a_long_curve_is_drawn_thinned_to_its_pixel_columns_keeping_their_extremes(page: Page) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=20_000).tolist()
    points = [{"x": i / 1000, "v": v} for i, v in enumerate(values)]
    kept = page.page.evaluate("(pts) => window.digitnetLive.thin(pts, (x) => 30 * x)", points)  # 600 columns
    assert 600 <= len(kept) <= 4 * 601
    assert kept == sorted(kept, key=lambda p: p["x"]) and kept[0] == points[0] and kept[-1] == points[-1]
    for c in range(601):  # each column's lowest and highest points are drawn
        column = [p["v"] for p in points if math.floor(30 * p["x"] + 0.5) == c]  # Math.round
        shown = [p["v"] for p in kept if math.floor(30 * p["x"] + 0.5) == c]
        assert min(shown) == min(column) and max(shown) == max(column)
    short = points[:500]
    assert page.page.evaluate("(pts) => window.digitnetLive.thin(pts, (x) => 30 * x)", short) == short


def test_slow_motion_shows_successive_mini_batches(page: Page) -> None:
    start(page, speed="0.5")
    page.page.wait_for_function("() => window.digitnetLive.seen.steps.length >= 3", timeout=20_000)
    t0 = time.monotonic()
    page.page.wait_for_function("() => window.digitnetLive.seen.steps.length >= 5", timeout=20_000)
    steps = page.value("window.digitnetLive.seen.steps")
    assert steps == list(range(steps[0], steps[0] + len(steps)))  # one mini-batch after the other
    assert time.monotonic() - t0 > 0.6  # about half a second each
    shown = int(page.page.locator("#t-step-report").get_attribute("data-step"))
    assert shown >= steps[-1] and "mini-batch of 10 images" in page.page.locator("#t-step-report").text_content()


def test_the_average_nudge_shown_is_the_networks_batch_gradient(page: Page) -> None:
    run = pause_in_slow_motion(page)
    page.page.locator("#mb-layer").fill("1")
    page.page.locator("#mb-row").fill("4")
    page.page.locator("#mb-col").fill("9")
    page.page.locator("#mb-col").dispatch_event("change")
    page.page.wait_for_function("() => window.digitnetLessons.batch.parameter.name === 'W1[4, 9]'")
    shown = float(page.page.locator("#mb-average").get_attribute("data-average"))
    batch = page.value("window.digitnetLessons.batch")
    net = network_of(page, "/api/train/download")
    idx = np.asarray(batch["indices"])
    assert len(idx) == 10 and batch["step"] == run["step"]
    dW, _ = net.gradients(DATA["X"][idx].astype(np.float32) / 255, DATA["y"][idx])
    np.testing.assert_allclose(shown, -dW[1][4, 9], rtol=1e-4, atol=1e-9)
    assert page.page.locator("#mb-examples .example").count() == 10
    assert "W1[4, 9]" in page.page.locator("#mb-average").text_content()
    page.page.locator("#grad-images canvas").first.click()  # a pixel of neuron 0's gradient picture
    page.page.wait_for_function("() => window.digitnetLessons.batch.parameter.name.startsWith('W0[0, ')")


def test_the_surfaces_origin_is_the_cost_on_its_sample(page: Page) -> None:
    pause_in_slow_motion(page)
    page.page.locator("#surf-go").click()
    page.page.wait_for_function("() => document.querySelector('#surf-origin').dataset.origin !== undefined",
                                timeout=20_000)
    origin = float(page.page.locator("#surf-origin").get_attribute("data-origin"))
    net = network_of(page, "/api/train/download")
    X, y = DATA["X_test"][:1000], DATA["y_test"][:1000]
    np.testing.assert_allclose(origin, net.cost(X.astype(np.float32) / 255, y), rtol=1e-6)


def test_replay_at_step_k_gives_the_weights_of_a_training_stopped_at_step_k(page: Page) -> None:
    run = pause_in_slow_motion(page)
    k = run["step"] - 1
    page.value(f"(() => {{ const s = document.querySelector('#rp-step'); s.value = '{k}';"
               " s.dispatchEvent(new Event('input')); })()")
    page.page.wait_for_function(f"() => window.digitnetLessons.replay && window.digitnetLessons.replay.step === {k}")
    assert page.page.locator("#rp-weights canvas").count() == 16
    replayed = network_of(page, f"/api/lessons/replay/model?step={k}")
    assert same_bytes(replayed, stopped_at(run["settings"], k))
    paused = network_of(page, "/api/train/download")  # the run itself, paused at step k + 1
    assert same_bytes(paused, stopped_at(run["settings"], k + 1))
    page.page.locator("#rp-save").click()
    page.page.wait_for_function("() => document.querySelector('#toast').textContent.startsWith('Saved')")


def test_replay_shows_the_diagrams_activations_at_step_k(page: Page) -> None:
    """Scrubbing to step k shows in the diagram every neuron's activation for the drawing, as the
    network was at step k (the run has the served network's layers, so the diagram can show it)."""
    page.draw([(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])  # a 7
    page.settle()
    served = page.value("window.digitnetState.current")
    run = pause_in_slow_motion(page, hidden="16,16")
    k = run["step"] - 2
    page.value(f"(() => {{ const s = document.querySelector('#rp-step'); s.value = '{k}';"
               " s.dispatchEvent(new Event('input')); })()")
    page.page.wait_for_function(f"() => window.digitnetLessons.replayForward && "
                                f"window.digitnetLessons.replayForward.step === {k}", timeout=20_000)
    assert page.value("window.digitnetLessons.replayForward.diagram") is True
    shown = page.value("Array.from(document.querySelectorAll('#net .neuron')).map(n => [Number(n.dataset.layer), "
                       "Number(n.dataset.index), Number(n.dataset.activation), n.getAttribute('aria-label')])")
    assert len(shown) == 16 + 16 + 10
    at_k = stopped_at(run["settings"], k).forward(np.asarray(served["input"]))  # the library's network of step k
    for layer, i, a, label in shown:
        np.testing.assert_allclose(a, at_k[layer][i], rtol=1e-5, atol=1e-6)
        assert label.endswith(f"activation {at_k[layer][i]:.2f}")
    before = [a for layer in served["layers"] for a in layer["a"]]
    assert not np.allclose([a for _, _, a, _ in shown], before, atol=1e-3)  # not the served network's


FIND_LINK = """(() => {
  const svg = document.querySelector('#net');
  const neurons = Array.from(svg.querySelectorAll('.neuron')).map((n) => {
    const c = n.querySelector('.body');
    return { layer: Number(n.dataset.layer), index: Number(n.dataset.index),
             x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy')) };
  });
  const lines = Array.from(svg.querySelectorAll('.links line')).map((l) => ['x1', 'y1', 'x2', 'y2']
    .map((k) => Number(l.getAttribute(k))));
  const at = (x, y) => neurons.find((n) => Math.abs(n.x - x) < 1e-6 && Math.abs(n.y - y) < 1e-6);
  const dist = ([px, py], [x1, y1, x2, y2]) => {
    const dx = x2 - x1; const dy = y2 - y1;
    const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
  };
  let best = null;
  for (const l of lines) {
    const a = at(l[0], l[1]); const b = at(l[2], l[3]);
    if (!a || !b) continue;  // a line from the input image: its pixel is not a neuron drawn
    for (const t of [0.25, 0.35, 0.5, 0.65, 0.75]) {
      const p = [l[0] + t * (l[2] - l[0]), l[1] + t * (l[3] - l[1])];
      const gap = Math.min(...lines.filter((o) => o !== l).map((o) => dist(p, o)));
      if (!best || gap > best.gap) best = { gap, p, layer: b.layer, from: a.index, to: b.index };
    }
  }
  const ctm = svg.getScreenCTM();
  const s = new DOMPoint(best.p[0], best.p[1]).matrixTransform(ctm);
  return { x: s.x, y: s.y, gap: best.gap * ctm.a, layer: best.layer, from: best.from, to: best.to };
})()"""


def test_clicking_a_connection_or_a_neuron_picks_its_weight_or_bias(page: Page) -> None:
    """A click on a line of the diagram picks that weight for the mini-batch panel, a click on a
    neuron its bias; the average nudge shown is the batch gradient's entry for it."""
    pause_in_slow_motion(page, hidden="16,16")  # the served network's layers: the diagram is the run's too
    page.page.locator("#net").scroll_into_view_if_needed()
    link = page.value(FIND_LINK)  # a line between two neurons, found by its ends, and a point on it
    assert link["gap"] > 1  # the point is nearer to this line than to any other
    page.page.mouse.click(link["x"], link["y"])
    name = f"W{link['layer'] - 1}[{link['to']}, {link['from']}]"
    page.page.wait_for_function(f"() => window.digitnetLessons.batch.parameter.name === '{name}'", timeout=20_000)
    assert name in page.page.locator("#mb-average").text_content()
    assert page.page.locator("#net .links line.picked").count() == 1
    batch = page.value("window.digitnetLessons.batch")
    net = network_of(page, "/api/train/download")
    idx = np.asarray(batch["indices"])
    dW, db = net.gradients(DATA["X"][idx].astype(np.float32) / 255, DATA["y"][idx])
    shown = float(page.page.locator("#mb-average").get_attribute("data-average"))
    np.testing.assert_allclose(shown, -dW[link["layer"] - 1][link["to"], link["from"]], rtol=1e-4, atol=1e-9)
    page.page.locator("#net .neuron[data-layer='2'][data-index='3']").click()
    page.page.wait_for_function("() => window.digitnetLessons.batch.parameter.name === 'b1[3]'", timeout=20_000)
    shown = float(page.page.locator("#mb-average").get_attribute("data-average"))
    np.testing.assert_allclose(shown, -db[1][3], rtol=1e-4, atol=1e-9)


def test_screenshots_of_the_lessons_views(page: Page) -> None:
    """Each new view a few epochs into a training, paused (saved when DIGITNET_SCREENSHOTS is set)."""
    from test_web_browser import save_small_png

    page.draw([(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])  # a 7, for the replay's guess
    start(page, epochs="100")
    page.page.wait_for_function("() => window.digitnetState.batches.some(b => b.epoch >= 4)", timeout=30_000)
    page.page.locator("#t-pause").click()
    page.page.wait_for_function("() => window.digitnetLessons.gradient && window.digitnetLessons.batch", timeout=20_000)
    page.page.locator("#surf-dir").select_option("path")
    page.page.locator("#surf-go").click()
    page.page.wait_for_function("() => window.digitnetLessons.surface !== undefined", timeout=20_000)
    step = page.value("window.digitnetState.run.step")
    page.value(f"(() => {{ const s = document.querySelector('#rp-step'); s.value = '{step // 2}';"
               " s.dispatchEvent(new Event('input')); })()")
    page.page.wait_for_function("() => window.digitnetLessons.replayForward !== undefined", timeout=20_000)
    shots = {"web-train.png": "section.train", "web-minibatch.png": "#mb", "web-gradient.png": "#grad",
             "web-surface.png": "#surf", "web-replay.png": "#replay"}
    for name, selector in shots.items():
        png = page.page.locator(selector).screenshot()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("DIGITNET_SCREENSHOTS"):
            save_small_png(png, Path(os.environ["DIGITNET_SCREENSHOTS"]) / name)


def test_a_runs_news_waits_for_a_drawings_answer_at_most_a_quarter_second(page: Page) -> None:
    # Drawing the news takes several ms of the frame that the answer to a stroke needs; someone who
    # draws on and on still sees the curves move 4 times a second. (Last of the module: the page of
    # the next test would be sent this run's last single step, as a page that opens is.)
    # A drawing that waits for its answer for ever; slow motion sends news every 50 ms.
    before = page.value("window.digitnetState.answerDue = true, window.digitnet.news.length")
    start(page, speed="0.05", epochs="1")
    page.page.wait_for_function(f"() => window.digitnet.news.length >= {before + 5}", timeout=20_000)
    waiting = page.value(f"window.digitnet.news.slice({before}).map((n) => n.at)")
    assert min(np.diff(waiting)) >= 250 - 1e-6  # the news was drawn, each time a quarter second after the last
    page.value("window.digitnetState.answerDue = false")  # answered: the news is drawn as it comes
    seen = before + len(waiting)
    page.page.wait_for_function(f"() => window.digitnet.news.length >= {seen + 6}", timeout=20_000)
    free = page.value(f"window.digitnet.news.slice({seen}).map((n) => n.at)")
    assert min(np.diff(free)) < 250
