"""Every table of figures in the README is generated from its results file, and must agree with it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "scripts" / "readme_figures.py")
assert spec is not None and spec.loader is not None
readme_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_figures)

README = (ROOT / "README.md").read_text(encoding="utf-8")
NAMES = [m.group(2) for m in readme_figures.REGION.finditer(README)]


def test_the_readme_has_generated_figures():
    assert {"accuracy", "fashion", "speed", "memory", "predict", "web-latency", "live-feed", "sweep-speed",
            "atlas", "onnx"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_region_says_machine_date_and_command(name):
    result = readme_figures.figures(name)
    assert result["machine"] and result["command"]
    assert len(result["date"]) == 10 and result["date"][4] == "-"
    assert all(len(row) == len(result["columns"]) for row in result["rows"])
    region = README.split(f"<!-- figures:{name} -->", 1)[1].split("<!-- /figures -->", 1)[0]
    assert f"Measured {result['date']} on {result['machine']}" in region


def test_the_readme_figures_are_those_of_their_files():
    assert readme_figures.main(["--check"]) == 0


@pytest.mark.parametrize("name", NAMES)
def test_a_figure_changed_by_hand_is_caught(name, tmp_path, capsys):
    start = README.index(f"<!-- figures:{name} -->")
    end = README.index("<!-- /figures -->", start)
    digit = re.compile(r"\d").search(README, README.rindex("| --- |", start, end), end)  # in the table's body
    assert digit is not None, name
    stale = tmp_path / "README.md"
    stale.write_text(README[:digit.start()] + "9" + README[digit.start():], encoding="utf-8")
    assert readme_figures.main(["--check", "--readme", str(stale)]) == 1
    assert name in capsys.readouterr().err


def _doubled(value):
    """Every measured number of a results file doubled (counts and settings, ints, left alone)."""
    if isinstance(value, dict):
        return {k: _doubled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_doubled(v) for v in value]
    return 2 * value + 1e-3 if isinstance(value, float) else value


@pytest.mark.parametrize("name", sorted(readme_figures.SOURCES))
def test_a_renderer_shows_the_figures_of_its_file(name):
    path, render = readme_figures.SOURCES[name]
    result = json.loads((ROOT / path).read_text(encoding="utf-8"))
    assert render(_doubled(result))["rows"] != render(result)["rows"]


def test_the_live_feed_renders_the_interleaved_rounds_too():
    # bench_live's results when it times the engine alone, the page unwatched and watched, in rounds
    feed = {"rounds": 41, "median_s": {"engine_alone": 0.1966, "page_unwatched": 0.1919, "page_watched": 0.2406},
            "load_average_1min": [7.79, 8.78], "cost_unwatched": -0.0239, "paired_cost_unwatched": -0.0549,
            "cost_watched": 0.2238, "paired_cost_watched": 0.219}
    result = {"machine": "x86_64, 2 CPUs", "date": "2026-12-02 01:13 UTC", "feed": feed,
              "surface_s": {"gradient": 0.83, "path": 0.78}}
    figures = readme_figures.live_feed(result)
    cells = " ".join(" ".join(row) for row in figures["rows"])
    assert "-2.4% (medians of 41 rounds; per-round ratios: -5.5%)" in cells and "+22.4%" in cells and "0.83 s" in cells
    assert figures["date"] == "2026-12-02" and "7.8 at the start, 8.8 at the end" in figures["note"]


def test_every_region_is_generated_from_a_results_file_in_the_repository():
    for name in NAMES:
        assert readme_figures.source(name).is_file(), name


# -- no measured figure typed by hand ------------------------------------------------------------------

# A measured figure: a number with the unit of something timed, counted per second, weighed in bytes
# or compared, as "3.9 s", "245 MB", "95.8%", "0.92x" or "2,349 requests/s" (not "28x28").
MEASURED = re.compile(r"(?<![\w.])~?\d[\d,]*(?:\.\d+)?(?:x(?!\w)|\s?(?:%|ms\b|us\b|µs\b|s\b|seconds?\b|"
                      r"minutes?\b|hours?\b|[KMG]i?B\b|requests/s|requests per second|trials per minute))")

# Numbers with a unit that are not measurements: the lesson's own claims, a target, a setting.
NOT_MEASURED = [
    "3Blue1Brown's 96%",             # the lesson's figure for this size
    '"couple of tweaks" to 98%',     # the lesson's figure for its tweaked network
    "chance is 10%",                 # ten classes
    "memory='2GB'",                  # a SLURM job's setting in a command
]

# Sections whose figures are being made generated regions in their own change: until then, skipped here.
CONVERTED_SEPARATELY = ["## Reliability"]


def _prose(readme: str) -> str:
    """The README without its generated regions, the allowed phrases and the sections converted separately."""
    text = readme_figures.REGION.sub("", readme)
    for heading in CONVERTED_SEPARATELY:
        start = text.index(heading + "\n")
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + text[end if end != -1 else len(text):]
    for phrase in NOT_MEASURED:
        text = text.replace(phrase, "")
    return text


def hand_typed_figures(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if MEASURED.search(line)]


def test_no_measured_figure_is_typed_by_hand_outside_the_generated_regions():
    assert hand_typed_figures(_prose(README)) == [], "measured figures belong in a <!-- figures:NAME --> region"


@pytest.mark.parametrize("phrase", NOT_MEASURED)
def test_each_allowed_phrase_is_still_in_the_readme(phrase):
    assert phrase in README, f"the allowed phrase {phrase!r} is no longer in the README: drop it from the list"


@pytest.mark.parametrize("sentence", [
    "The first run takes 18.8 s.", "Its peak memory is 245 MB.", "It reaches 95.83% on MNIST.",
    "a median of 44 ms (90th percentile 57-79 ms)", "at 20.1 trials per minute (0.92x)", "2,349 requests/s",
    "the lesson's network from ~94.5% to 95.8%", "one image at 15 us",
])
def test_a_figure_typed_into_the_prose_is_found(sentence):
    assert hand_typed_figures(sentence)
    assert hand_typed_figures(_prose(README.replace("## The command line", sentence + "\n\n## The command line")))


@pytest.mark.parametrize("sentence", [
    "784 input neurons (a 28x28 grey image)", "two hidden layers of 16 neurons", "a 20x20 box",
    "a filter-normalised random direction, 25x25 points", "x0.93 after each epoch", "float32 to 3e-5",
])
def test_constants_are_not_taken_for_measurements(sentence):
    assert not hand_typed_figures(sentence)
