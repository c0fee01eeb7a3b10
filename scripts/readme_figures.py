"""Write the README's figures from the results files that hold them, or check they agree.

A region of the README between ``<!-- figures:NAME -->`` and ``<!-- /figures -->`` is generated
from one results file, written by the command that measured the figures. Most regions are the
table of ``docs/figures/NAME.json``:

    {"machine": "...", "date": "YYYY-MM-DD", "command": "how to measure again",
     "note": "optional sentence", "columns": ["...", ...], "rows": [["...", ...], ...]}

A benchmark that writes its own results file (benchmarks/results.json, benchmarks/results/*.json)
has instead a renderer here, in SOURCES, that reads that file and returns the same form (with an
optional ``text``, a paragraph before the table). Every region ends with where, when and how its
figures were measured.

    python scripts/readme_figures.py           # rewrite the regions
    python scripts/readme_figures.py --check   # exit 1 if a region differs from its file
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = re.compile(r"(<!-- figures:([\w-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)
sys.path.insert(0, str(ROOT / "benchmarks"))

Figures = dict[str, Any]


# -- where and when, as each results file says it ------------------------------------------------------

def machine(result: dict[str, Any]) -> str:
    """The machine, from a benchmark's ``machine`` (a sentence, or bench_training's dict of versions)."""
    m = result["machine"]
    if isinstance(m, str):
        return m
    return f"{m['cores']} CPUs ({m['cpu']}), Python {m['python']}"


def date(result: dict[str, Any]) -> str:
    """YYYY-MM-DD, from an ISO time or bench_training's ``machine.date``."""
    when = result.get("date") or result["machine"]["date"]
    return str(when)[:10]


def load_average(result: dict[str, Any]) -> str:
    m = result["machine"]
    start, end = m.get("load_average_at_start"), m.get("load_average_at_end")
    if not start or not end:
        return ""
    return f"load average {start[0]:.1f} at the start, {end[0]:.1f} at the end"


def ms(value: float) -> str:
    """Milliseconds with three significant figures at most: 0.0146 -> 0.015, 15.78 -> 16, 71.97 -> 72."""
    return f"{value:.3f}" if value < 1 else f"{value:.0f}"


# -- one renderer per kind of results file -----------------------------------------------------------------

def speed(result: dict[str, Any]) -> Figures:
    """bench_training's results: seconds per epoch of every path, side by side (its own README table)."""
    from bench_training import readme_table, seconds  # type: ignore[import-not-found]  # benchmarks/

    lines = readme_table(result).splitlines()
    tr = result["training"]
    batches = sorted({r["batch_size"] for r in tr})
    others = []
    for name, label in (("digitnet 1 thread", "the same engine on one thread"),
                        ("pytorch 2 threads", "PyTorch on 2 threads")):
        times = [(b, seconds(tr, name, b)) for b in batches]
        said = ", ".join(f"{t:.3f} s ({b})" for b, t in times if t is not None)
        if said:
            others.append(f"{label}: {said}")
    return {"machine": machine(result), "date": date(result), "command": "python benchmarks/bench_training.py",
            "note": "; ".join(filter(None, [f"median of {result['settings']['rounds']} epochs", load_average(result),
                                            "by mini-batch size, " + "; ".join(others)])),
            "columns": [c.strip() for c in lines[0].strip("|").split("|")],
            "rows": [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]}


def memory(result: dict[str, Any]) -> Figures:
    """bench_training's results: the whole `digitnet train --epochs 1` process, and peak memory per library."""
    cli = result["cli"]
    rows = [["`digitnet train --epochs 1`, the first run after an install",
             f"{cli['cold_wall_seconds_median']:.1f} s", f"{cli['cold_peak_rss_mb']:.0f} MB"],
            ["the same, run again",
             f"{cli['wall_seconds_median']:.2f} s", f"{cli['peak_rss_mb']:.0f} MB"]]
    names = {"digitnet": "digitnet", "numpy vectorized": "careful NumPy", "pytorch": "PyTorch",
             "scikit-learn": "scikit-learn"}
    for r in result["memory"]:
        if r["implementation"].endswith("floor"):  # what every process pays before any data
            rows.append([f"before any data: {r['what'].removesuffix(': no data')}", "", f"{r['peak_rss_mb']:.0f} MB"])
        else:
            label = names.get(r["implementation"], r["implementation"])
            rows.append([f"one epoch (mini-batches of 10) in a fresh process: {label}", "",
                         f"{r['peak_rss_mb']:.0f} MB"])
    return {"machine": machine(result), "date": date(result), "command": "python benchmarks/bench_training.py",
            "note": "peak memory is the process's peak resident set size; " + load_average(result),
            "columns": ["process", "wall time", "peak memory"], "rows": rows}


def predict(result: dict[str, Any]) -> Figures:
    """bench_predict's results: predict_proba through NumPy's feedforward and through the engine."""
    rows = [[f"{r['images']:,}", f"{ms(r['numpy_ms'])} ms", f"{ms(r['engine_ms'])} ms",
             f"{ms(r['predict_proba_ms'])} ms"] for r in result["rows"]]
    return {"machine": machine(result), "date": date(result), "command": "python benchmarks/bench_predict.py",
            "note": f"{result['network']}; medians" + (f"; load average {load[0]:.1f} at the start"
                                                       if (load := result["machine"].get("load_average_at_start"))
                                                       else ", with other work on the machine"),
            "columns": ["images", "NumPy `feedforward`", "the engine", "`predict_proba`"], "rows": rows}


def live_feed(result: dict[str, Any]) -> Figures:
    """bench_live's results: what watching a training costs, the cost surface, drawing while training."""
    feed, surface = result["feed"], result["surface_s"]
    epoch = "an epoch of the lesson's network on 60,000 digits, mini-batches of 10"
    if "median_s" in feed:  # the engine alone, the page unwatched and watched, in interleaved rounds
        rows = [[f"the page's training with nobody watching: {epoch}, against the engine alone",
                 f"{100 * feed['cost_unwatched']:+.1f}% (medians of {feed['rounds']} rounds; "
                 f"per-round ratios: {100 * feed['paired_cost_unwatched']:+.1f}%)"],
                ["the same, watched (the curve, the weight pictures and the event stream, up to 10 times a second)",
                 f"{100 * feed['cost_watched']:+.1f}% (per-round ratios: {100 * feed['paired_cost_watched']:+.1f}%)"]]
        if "cpu_cost_watched" in feed:
            rows.append(["watching's CPU time (the event stream's included), over the engine's for the epoch",
                         f"{100 * feed['cpu_cost_watched']:+.1f}% (medians of the runs; per-round: "
                         f"{100 * feed['paired_cpu_cost_watched']:+.1f}%)"])
        if "feed_ms" in feed:
            rows.append([f"one feed of a watched run (a curve point on 1,000 test images and the weight pictures), "
                         f"at most {feed['feed_hz']:g} a second, however short the epochs",
                         f"{feed['feed_ms']:.2f} ms: at most {100 * feed['feed_share_at_most']:.2f}% of the "
                         f"training's time"])
    else:  # the page's training, watched, against the engine alone
        rows = [[f"watching a training: {epoch}, on the page against the engine alone",
                 f"+{100 * feed['feed_cost']:.1f}% (fastest of {feed['rounds']} epochs each; "
                 f"the medians differ by {100 * feed['median_feed_cost']:.1f}%)"]]
    rows.append(["the cost surface, 25x25 points on 1,000 test images",
                 f"{surface['gradient']:.2f} s (gradient directions), {surface['path']:.2f} s (path directions)"])
    if "latency_while_training" in result:
        lat = result["latency_while_training"]
        painted = "phases_median_ms" in lat  # the clock stops when the answer's frame is painted (since 2026-12-02)
        before = (f"; to the start of that frame, as measured before: median {lat['to_frame_start_median_ms']:.1f} ms"
                  if painted else "")
        rows.append([f"drawing while a training runs, stroke to screen{' (the frame painted)' if painted else ''}",
                     f"median {lat['median_ms']:.1f} ms, 90th percentile {lat['p90_ms']:.1f} ms "
                     f"({lat['answers']} answers){before}"])
        if painted:
            p = lat["phases_median_ms"]
            rows.append(["where the time goes (medians of each phase)",
                         f"waiting for the request before {p['waited']:.1f} ms, reading the pad {p['encoded']:.1f} ms, "
                         f"the request (server, browser and test driver sharing the machine) {p['fetched']:.1f} ms, "
                         f"showing the answer {p['rendered']:.1f} ms, waiting for the frame {p['frame']:.1f} ms, "
                         f"its style, layout and paint {p['painted']:.1f} ms"])
    if "latency_idle" in result:
        idle = result["latency_idle"]
        rows.append(["the same strokes with no training (in alternate blocks)",
                     f"median {idle['median_ms']:.1f} ms, 90th percentile {idle['p90_ms']:.1f} ms "
                     f"({idle['answers']} answers)"])
    if "server_median_ms" in result.get("latency_idle", {}):
        lat, idle = result["latency_while_training"], result["latency_idle"]
        rows.append(["the server's own time for a drawing (its arrival to its answer's last byte)",
                     f"median {lat['server_median_ms']:.1f} ms while training, {idle['server_median_ms']:.1f} ms "
                     f"with no training"])
        late, quiet = lat["late_wake_ms"], idle["late_wake_ms"]
        rows.append(["how late a thread of the server that sleeps a millisecond wakes (Python's lock, which "
                     "the training holds between the engine's calls, and a free core)",
                     f"median {late['median']:.2f} ms, 99th percentile {late['p99']:.1f} ms while training; "
                     f"{quiet['median']:.2f} ms and {quiet['p99']:.1f} ms with no training"])
    load = feed.get("load_average_1min")
    return {"machine": machine(result), "date": date(result), "command": "python benchmarks/bench_live.py",
            "note": f"load average {load[0]:.1f} at the start, {load[-1]:.1f} at the end" if load else "",
            "columns": ["what", "measured"], "rows": rows}


def sweep_speed(result: dict[str, Any]) -> Figures:
    """bench_sweep's results: trials per minute on the local cluster against one after another."""
    rows = [["one after another, in one process", f"{result['serial_trials_per_minute']:.1f}", "",
             f"{result['serial_cpu_seconds_per_trial']:.2f} (its training thread)"],
            [f"the local cluster of {result['workers']} workers", f"{result['sweep_trials_per_minute']:.1f}",
             f"{result['speedup']:.2f}x, {result['overhead_seconds_per_trial']:.2f} s of overhead per trial",
             f"{result['worker_cpu_seconds_per_trial']:.2f} (the worker processes, Dask's threads included)"]]
    others = result["other_work_cores"]
    load = (f"; load average {result['load_average_1min_at_start']:.1f} at the start, "
            f"{result['load_average_1min']:.1f} at the end (the sweep's own workers included); other work on "
            f"the machine took {max(0.0, others['serial']):.2f} cores on average while the trials ran one after "
            f"another, {max(0.0, others['sweep']):.2f} while they ran as a sweep")
    return {"machine": machine(result), "date": date(result),
            "command": (f"PYTHONPATH=src python benchmarks/bench_sweep.py "
                        f"--trials {result['trials'] // result['rounds']} "
                        f"--rounds {result['rounds']} --epochs {result['epochs']}"),
            "note": f"{result['trials']} trials of the 16-16 network, {result['epochs']} epochs each on "
                    f"{'all 60,000' if result['limit'] is None else result['limit']} images; {result['note']}{load}",
            "columns": ["trials run", "trials per minute", "against one after another", "CPU seconds per trial"],
            "rows": rows}


def atlas(result: dict[str, Any]) -> Figures:
    """atlas_summary's results: accuracy over seeds per network of the sweep, and what they answer."""
    by = {(n["hidden"], n["activation"]): n for n in result["networks"]}
    names = {"relu": "ReLU"}

    def network(n: dict[str, Any]) -> str:
        return f"{n['hidden'].replace(',', '-')} {names.get(n['activation'], n['activation'])}"

    epochs = re.search(r"--epochs (\d+)", result.get("command") or "")

    def acc(n: dict[str, Any] | None) -> str:
        return "" if n is None else f"{n['mean']:.2f}% ({n['min']:.2f}-{n['max']:.2f})"

    hidden = sorted({h for h, _ in by}, key=lambda h: (h.count(","), int(h.split(",")[0])))
    rows = [[h.replace(",", "-"), f"{next(n for (k, _), n in by.items() if k == h)['parameters']:,}",
             acc(by.get((h, "sigmoid"))), acc(by.get((h, "relu")))] for h in hidden]
    text = [f"{result['trials']} trials in {result['seconds']:.0f} s on a local cluster of {result['workers']} "
            f"workers ({result['training_seconds']:.0f} s of training), the two sweeps above."]
    small = result.get("smallest_reaching_95")
    if small:
        text.append(f"The smallest network reaching 95% (mean over seeds) is {network(small)} "
                    f"({small['parameters']:,} parameters: {small['mean']:.2f}%).")
    wide = result.get("largest_spread")
    if wide:
        text.append(f"The seed moves {network(wide)} most: "
                    f"{wide['min']:.2f}% or {wide['max']:.2f}%.")
    return {"machine": machine(result), "date": date(result),
            "command": "python benchmarks/atlas_summary.py atlas.db", "text": " ".join(text),
            "note": "mean test accuracy over the seeds, with the lowest and highest"
                    + (f", after {epochs.group(1)} epochs" if epochs else ""),
            "columns": ["hidden layers", "parameters", "sigmoid, eta 1.5", "ReLU, eta 0.1"], "rows": rows}


def web_latency(result: dict[str, Any]) -> Figures:
    """The browser test's record: stroke-to-screen latency of the page on an idle server."""
    lat = result["web stroke-to-screen latency (ms)"]
    painted = "frame median" in lat  # the clock stops when the answer's frame is painted (since 2026-12-02)
    rows = [[f"from a pointer move to the frame that shows the answer{', painted' if painted else ''}",
             f"median {lat['median']:.0f} ms, 90th percentile {lat['p90']:.0f} ms, worst {lat['max']:.0f} ms"],
            ["the request (server, browser and test driver sharing the machine)",
             f"median {lat['request median']:.1f} ms"],
            ["drawing the answer", f"median {lat['render median']:.1f} ms"]]
    if painted:
        rows.append(["waiting for the next frame, and its style, layout and paint",
                     f"median {lat['frame median']:.1f} ms"])
    return {"machine": lat["machine"], "date": lat["date"],
            "command": "DIGITNET_FIGURES=benchmarks/results/web.json pytest tests/test_web_browser.py",
            "note": f"headless Chromium, {lat['updates']} updates; load average {lat['load_average']:.1f}"
                    if "load_average" in lat else f"headless Chromium, {lat['updates']} updates",
            "columns": ["the page answering a drawing", "measured"], "rows": rows}


SOURCES: dict[str, tuple[str, Callable[[dict[str, Any]], Figures]]] = {
    "speed": ("benchmarks/results.json", speed),
    "memory": ("benchmarks/results.json", memory),
    "predict": ("benchmarks/results/predict.json", predict),
    "web-latency": ("benchmarks/results/web.json", web_latency),
    "live-feed": ("benchmarks/results/live_feed.json", live_feed),
    "sweep-speed": ("benchmarks/results/bench_sweep.json", sweep_speed),
    "atlas": ("benchmarks/results/atlas.json", atlas),
}


def source(name: str) -> Path:
    """The results file region NAME is generated from."""
    return ROOT / (SOURCES[name][0] if name in SOURCES else f"docs/figures/{name}.json")


def figures(name: str) -> Figures:
    """Region NAME's figures: its table, machine, date and command, read from its results file."""
    result = json.loads(source(name).read_text(encoding="utf-8"))
    return SOURCES[name][1](result) if name in SOURCES else result


def render(name: str) -> str:
    """The Markdown of region NAME: its text and table, then where, when and how it was measured."""
    result = figures(name)
    lines = [result["text"], ""] if result.get("text") else []
    lines += ["| " + " | ".join(result["columns"]) + " |", "|" + " --- |" * len(result["columns"])]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in result["rows"]]
    said = f"Measured {result['date']} on {result['machine']} by `{result['command']}`"
    lines += ["", said + (f"; {result['note']}" if result.get("note") else "") + "."]
    return "\n".join(lines) + "\n"


def regenerate(text: str) -> str:
    return REGION.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the README is stale")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = regenerate(text)
    if args.check:
        stale = [m.group(2) for m, n in zip(REGION.finditer(text), REGION.finditer(new)) if m.group(0) != n.group(0)]
        if stale:
            print(f"README figures differ from their results files: {', '.join(stale)}; "
                  "run python scripts/readme_figures.py", file=sys.stderr)
            return 1
        return 0
    args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
