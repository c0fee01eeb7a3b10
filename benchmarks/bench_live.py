"""Benchmark: what watching a training costs, and how the page answers a drawing while it trains.

1. The live feed's cost. An epoch of SGD on the 60,000 MNIST digits for the lesson's 784-16-16-10
   network, mini-batches of 10, three ways: (a) the engine alone, the epoch's shuffle and the whole
   epoch in one call, as ``Network.fit`` runs it (without its end-of-epoch evaluation, which the
   page does too); the page's training (web/trainer.py), the same steps (the same new network,
   seed 0) with its recording, (b) with nobody watching (pieces up to the next snapshot, no feed)
   and (c) watched by a listener that does what the page's event stream does (news every 0.1 s,
   encoded as events): pieces of about 0.1 s, the cost of the mini-batches of each twentieth of
   an epoch, a curve point on 1,000 test images and the weight pictures 5 times a second
   (trainer.FEED_HZ). Paired and interleaved: each
   round runs (a), (b), (c) in a rotated order, in one process, ROUNDS rounds; the cost is
   (b) / (a) - 1 and (c) / (a) - 1 of the medians (and the median of each round's ratio). And in
   CPU seconds, which a loaded machine disturbs less: (c) - (b) of the whole runs (the same work
   but the watching), over (a)'s epoch. An epoch this short (0.04 s) holds no feed of its own (the
   feed samples the run at most FEED_HZ times a second, its start counted), so one feed is timed
   too: at FEED_HZ a second, what it costs a long run at most.
2. The cost surface: seconds for the page's 25x25 slice on 1,000 test images (lesson's network).
3. Stroke-to-screen latency while a training runs: headless Chromium (Playwright) draws strokes on
   the page served on 127.0.0.1 while the server trains a network on all 60,000 digits, and, in
   alternate blocks of strokes, while none does; the page measures from each pointer event to the
   end of the frame that shows the answer, its pixels painted (window.digitnet.latencies), and the
   phases in between (window.digitnet.phases).

    python benchmarks/bench_live.py                  # writes benchmarks/results/live_feed.json
    python benchmarks/bench_live.py --rounds 5 --strokes 10 --json -
    python benchmarks/bench_live.py --only latency   # the latency only, printed (not written)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def engine_epoch(X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """Seconds and CPU seconds (all the process's threads) of the first epoch of a new network (seed 0),
    the engine alone, as fit calls it."""
    from digitnet import Network, engine
    from digitnet.training import SGD

    net = Network(seed=0)
    opt = SGD(1.5)
    opt.init_state(net)
    t0, c0 = time.perf_counter(), time.process_time()
    order = net.rng.permutation(len(X))  # the epoch's shuffle, as fit draws it
    engine.select("auto")(net, X, Y, order, 10, opt)
    return time.perf_counter() - t0, time.process_time() - c0


def listen(trainer: Any, done: threading.Event) -> None:
    """What the page's event stream does for a watcher: look for news every POLL_SECONDS, encode it."""
    from digitnet.web.routes.training import POLL_SECONDS, event_message
    from digitnet.web.trainer import Cursor

    cursor = Cursor()
    while not done.is_set():
        events, over = trainer.news(cursor)
        for name, data in events:
            event_message(name, data)
        if over:
            return
        done.wait(POLL_SECONDS)


def page_epoch(data: tuple, watched: bool) -> tuple[float, float]:
    """Seconds of the first epoch of the page's training of a new network (seed 0), the feed and the
    recording included (not the epoch-end test, which fit does too), with or without a watcher; and
    the CPU seconds of the whole run (loading, the epoch's end and the watcher's work included)."""
    from digitnet.web.trainer import Trainer

    trainer = Trainer(lambda: data)
    done = threading.Event()
    c0 = time.process_time()
    watcher = threading.Thread(target=listen, args=(trainer, done), daemon=True) if watched else None
    trainer.start({"sizes": [784, 16, 16, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 1.5,
                   "batch_size": 10, "epochs": 1, "limit": None, "seed": 0})
    if watcher is not None:
        watcher.start()
    trainer.join(600)
    done.set()
    if watcher is not None:
        watcher.join(10)
    run = trainer.run
    assert run is not None and run.state == "finished", run and run.message
    return float(run.history[0]["seconds"]), time.process_time() - c0


def feed_cost(rounds: int) -> dict[str, Any]:
    """Epochs of the engine alone, of the page's training unwatched and watched, interleaved in the
    same process (each round runs the three in a rotated order: ABC, BCA, CAB...), so that the
    machine's load falls on all three alike; the costs are from medians, and the median of each
    round's own ratio. CPU seconds too, which a loaded machine disturbs less than the clock: the
    watched run's CPU beyond the unwatched one's (the same run, nobody looking) is what watching costs."""
    from digitnet import Network
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    data = (X, y, X_test, y_test)
    Y = Network(seed=0).one_hot(y, len(y))
    arms = {"engine_alone": lambda: engine_epoch(X, Y), "page_unwatched": lambda: page_epoch(data, False),
            "page_watched": lambda: page_epoch(data, True)}
    for arm in arms.values():  # compile / warm up
        arm()
    names = list(arms)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    load_before = os.getloadavg()
    for r in range(rounds):
        for name in names[r % 3:] + names[:r % 3]:
            wall, seconds = arms[name]()
            times[name].append(wall)
            cpu[name].append(seconds)
    load_after = os.getloadavg()
    alone = times["engine_alone"]
    median = {name: round(statistics.median(v), 4) for name, v in times.items()}
    median_cpu = {name: round(statistics.median(v), 4) for name, v in cpu.items()}
    out: dict[str, Any] = {"rounds": rounds, "median_s": median,
                           "load_average_1min": [round(load_before[0], 2), round(load_after[0], 2)]}
    for arm in ("page_unwatched", "page_watched"):
        out[f"cost_{arm[5:]}"] = round(median[arm] / median["engine_alone"] - 1, 4)
        out[f"paired_cost_{arm[5:]}"] = round(statistics.median(p / a - 1 for p, a in zip(times[arm], alone)), 4)
    out["median_cpu_s"] = median_cpu  # the page's: the whole 1-epoch run, the engine's: its epoch
    out["cpu_cost_watched"] = round((median_cpu["page_watched"] - median_cpu["page_unwatched"])
                                    / median_cpu["engine_alone"], 4)
    out["paired_cpu_cost_watched"] = round(statistics.median(
        (w - u) / a for w, u, a in zip(cpu["page_watched"], cpu["page_unwatched"], cpu["engine_alone"])), 4)
    out.update(feed_seconds(X_test, y_test))
    out["all_s"] = {name: [round(v, 4) for v in values] for name, values in times.items()}
    out["all_cpu_s"] = {name: [round(v, 4) for v in values] for name, values in cpu.items()}
    return out


def feed_seconds(X_test: np.ndarray, y_test: np.ndarray, repeats: int = 200) -> dict[str, Any]:
    """The seconds of one feed of a watched run (a point of the curve on the fixed sample and the weight
    pictures, as trainer._add_point and _add_weights compute them) for the lesson's network, the median
    of ``repeats``; at most FEED_HZ feeds a second, so at most that times FEED_HZ of the training's time."""
    from digitnet import Network
    from digitnet.evaluation import evaluate
    from digitnet.web import explain
    from digitnet.web.trainer import FEED_HZ, SAMPLE

    net = Network(seed=0)
    sample = (X_test[:SAMPLE], y_test[:SAMPLE])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        evaluate(net, *sample)
        explain.weight_images(net)
        times.append(time.perf_counter() - t0)
    one = statistics.median(times)
    return {"feed_ms": round(1000 * one, 3), "feed_hz": FEED_HZ, "feed_share_at_most": round(one * FEED_HZ, 4)}


def surface_seconds() -> dict[str, Any]:
    """Seconds to compute the page's cost surface (25x25 points, 1,000 test images) for the lesson's network."""
    from digitnet import Network
    from digitnet.data import load_mnist_uint8
    from digitnet.surface import cost_surface, flatten

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    net = Network(seed=0)
    path = [flatten(net.W, net.b)]
    for _ in range(3):
        net.fit(X[:10000], y[:10000], epochs=1)
        path.append(flatten(net.W, net.b))
    S = X_test[:1000].astype(np.float32) / 255
    out = {}
    for directions in ("gradient", "path"):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            cost_surface(net, S, y_test[:1000], directions=directions, path=path[:-1], resolution=25)
            times.append(time.perf_counter() - t0)
        out[directions] = round(min(times), 3)
    return out


class Handling:
    """The app, timing each drawing (/api/canvas) in the server: from its arrival to its answer's last byte."""

    def __init__(self, app: Any, during: dict[str, Any]) -> None:
        self.app, self.during = app, during  # during["now"]: "training", "idle" or None (between strokes)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/canvas":
            await self.app(scope, receive, send)
            return
        t0, label = time.perf_counter(), self.during["now"]
        await self.app(scope, receive, send)
        if label is not None:
            self.during[label]["server_ms"].append(1000 * (time.perf_counter() - t0))


def lock_waits(during: dict[str, Any], stop: threading.Event) -> None:
    """Sleep a millisecond, again and again, and note how late each wake-up is: the wait for Python's
    lock (which the training thread holds between the engine's calls) and for a core."""
    while not stop.is_set():
        label = during["now"]
        t0 = time.perf_counter()
        time.sleep(0.001)
        if label is not None:
            during[label]["late_ms"].append(1000 * (time.perf_counter() - t0) - 1)


def latency_while_training(strokes: int, block: int = 5) -> dict[str, Any]:
    """Median stroke-to-screen latency (ms) in Chromium while the server trains on all 60,000 digits,
    and with no training, in alternating blocks of ``block`` strokes (so the machine's load falls on both).

    Every stroke counted as "while training" is drawn while the run trains: a run that has finished is
    started again before the next stroke, and a stroke during which it finished is drawn again. The
    page measures each answer from the oldest pointer event it answers to the end of the frame that
    shows it, and the phases in between (draw.js: waited, encoded, fetched, rendered, frame, painted).
    The server's own time for each drawing is measured too, and how late a thread of the server's
    process that sleeps a millisecond wakes (the Python lock held by the training, the cores taken)."""
    from playwright.sync_api import sync_playwright

    from digitnet import Network
    from digitnet.data import load_mnist_uint8
    from digitnet.web.app import create_app
    from digitnet.web.server import BackgroundServer

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    app = create_app(Network(seed=0), source="benchmark", output_dir=tempfile.mkdtemp(prefix="digitnet-bench-"),
                     data=lambda: (X, y, X_test, y_test), train_default=False, use_cache=False)
    load_before = os.getloadavg()[0]
    answers: dict[str, list[dict[str, float]]] = {"training": [], "idle": []}
    during: dict[str, Any] = {"now": None, "training": {"server_ms": [], "late_ms": []},
                              "idle": {"server_ms": [], "late_ms": []}}
    stop = threading.Event()
    threading.Thread(target=lock_waits, args=(during, stop), daemon=True).start()
    restarts, dropped = 0, 0
    with BackgroundServer(Handling(app, during)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url)
        page.wait_for_function("() => document.querySelector('#net .neuron') !== null")
        page.wait_for_function("() => document.querySelector('#guess').textContent === '–'")
        page.locator("#t-epochs").fill("100")  # all 60,000 digits, mini-batches of 10, the most epochs a run has
        i = 0
        while i < 2 * strokes:
            training = (i // block) % 2 == 0
            now = running(page)
            if training and now != "running":
                restarts += now == "finished"  # the lesson's network trains 100 epochs in seconds
                start_training(page)
                time.sleep(0.5)
            elif not training and now in ("loading", "running", "paused"):
                page.evaluate("fetch('/api/train/stop', {method: 'POST'})")
                page.wait_for_function("() => window.digitnetState.run && !['loading', 'running', 'paused', "
                                       "'stopping'].includes(window.digitnetState.run.state)")
            page.locator("#pad").scroll_into_view_if_needed()  # the form's button may have scrolled it away
            box = page.locator("#pad").bounding_box()
            assert box is not None
            seen = page.evaluate("window.digitnet.latencies.length")
            fx = 0.3 + 0.4 * (i % 5) / 4
            during["now"] = "training" if training else "idle"
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + 0.2 * box["height"])
            page.mouse.down()
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + 0.8 * box["height"], steps=8)
            page.mouse.up()
            page.wait_for_timeout(150)
            page.wait_for_function("() => window.digitnet.latencies.length === window.digitnet.canvasRequests")
            during["now"] = None
            if not training or running(page) == "running":  # training: all the stroke's answers came while it trained
                answers["training" if training else "idle"] += page.evaluate(
                    f"window.digitnet.phases.slice({seen}).map((p, k) => "
                    f"({{...p, latency: window.digitnet.latencies[{seen} + k]}}))")
                i += 1
            else:
                dropped += 1
            page.locator("#clear").click()
        news = page.evaluate("window.digitnet.news.map((n) => n.ms)")
        page.evaluate("fetch('/api/train/stop', {method: 'POST'})")
        browser.close()
    stop.set()
    app.state.trainer.shutdown()
    out = {name: summary(rows) for name, rows in answers.items()}
    for name in answers:  # (a stroke drawn again, its run having ended, counts here too)
        out[name]["server_median_ms"] = round(float(np.median(during[name]["server_ms"])), 2)
        late = during[name]["late_ms"]
        out[name]["late_wake_ms"] = {"median": round(float(np.median(late)), 2),
                                     "p99": round(float(np.percentile(late, 99)), 2), "wakes": len(late)}
    out["training"].update({"training_restarts": restarts,
                            "strokes_dropped": dropped,  # ended after the run did: drawn again
                            "news_drawn_median_ms": round(float(np.median(news)), 1) if news else None,
                            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]})
    return out


def summary(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Medians of the answers' latency and of their phases; the latency to the start of the frame that
    shows an answer too (where this benchmark stopped the clock before 2026-12-02)."""
    lat = [r["latency"] for r in rows]
    phases = ("waited", "encoded", "fetched", "rendered", "frame", "painted")
    return {"clock": "from the pointer event's own time to the end of the frame that shows the answer (its style, "
                     "layout and paint done); to_frame_start: to that frame's requestAnimationFrame callback, before "
                     "its style, layout and paint, where the page stopped the clock before 2026-12-02",
            "median_ms": round(float(np.median(lat)), 1), "p90_ms": round(float(np.percentile(lat, 90)), 1),
            "answers": len(rows),
            "to_frame_start_median_ms": round(float(np.median([r["latency"] - r["painted"] for r in rows])), 1),
            "phases_median_ms": {k: round(float(np.median([r[k] for r in rows])), 1) for k in phases}}


def start_training(page: Any) -> None:
    """Start a run from the page's form and wait until it trains."""
    page.wait_for_function("() => !document.querySelector('#t-start').disabled")
    page.locator("#t-start").click()
    page.wait_for_function("() => window.digitnetState.run && window.digitnetState.run.state === 'running'")


def running(page: Any) -> str:
    """The server's training state now (the page hears of it up to a tenth of a second later)."""
    return str(page.evaluate("async () => (await (await fetch('/api/train')).json()).state"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--json", default=str(HERE / "results" / "live_feed.json"))
    parser.add_argument("--only", choices=["latency"], help="measure only this part (and print it as JSON)")
    args = parser.parse_args(argv)
    machine = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                          f"{platform.platform()}", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.only == "latency":  # not written to the results file, which holds all the parts
        latency = latency_while_training(args.strokes)
        print(json.dumps({**machine, "latency_while_training": latency["training"], "latency_idle": latency["idle"]},
                         indent=1))
        return 0
    result: dict[str, Any] = {**machine, "feed": feed_cost(args.rounds), "surface_s": surface_seconds()}
    feed = result["feed"]
    print(f"an epoch, medians of {feed['rounds']}: engine alone {feed['median_s']['engine_alone']} s, on the page "
          f"unwatched {feed['median_s']['page_unwatched']} s ({100 * feed['cost_unwatched']:+.1f}%), watched "
          f"{feed['median_s']['page_watched']} s ({100 * feed['cost_watched']:+.1f}%; paired "
          f"{100 * feed['paired_cost_watched']:+.1f}%); watching's CPU {100 * feed['cpu_cost_watched']:+.1f}% of the "
          f"engine's; load {feed['load_average_1min']}")
    print(f"cost surface, 25x25 on 1,000 images: {result['surface_s']} s")
    if shutil.which(CHROMIUM):
        # In a fresh process, as `digitnet serve` is: not in this one, which holds the feed's ~100 runs.
        measured = subprocess.run([sys.executable, __file__, "--only", "latency", "--strokes", str(args.strokes)],
                                  capture_output=True, text=True, check=True)
        for part in ("latency_while_training", "latency_idle"):
            result[part] = json.loads(measured.stdout)[part]
        latency, idle = result["latency_while_training"], result["latency_idle"]
        print(f"stroke-to-screen while training: median {latency['median_ms']} ms, p90 {latency['p90_ms']} ms, "
              f"{latency['answers']} answers ({latency['training_restarts']} restarts), phases "
              f"{latency['phases_median_ms']}; with no training: median {idle['median_ms']} ms; "
              f"load {latency['load_average_1min']}")
    text = json.dumps(result, indent=1)
    if args.json == "-":
        print(text)
    else:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
