"""The pictures of a sweep: accuracy over two settings (a heat map), and accuracy against network size.

Each point or cell is the mean final test accuracy over the seeds of its settings; the size plot
draws the spread over seeds (min to max) as error bars and marks the lesson's 784-16-16-10.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

LESSON_HIDDEN = "16,16"


def _done(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "done" and r["test_accuracy"] is not None]


def _key(value: Any) -> Any:
    """Sort key: numbers by value, sizes by (layers, sizes), text as text."""
    if isinstance(value, str) and value.replace(",", "").isdigit():
        sizes = tuple(int(v) for v in value.split(","))
        return (0, len(sizes), sizes)
    return (1, value) if isinstance(value, (int, float)) else (2, str(value))


def plot_heatmap(rows: Sequence[dict[str, Any]], x: str, y: str) -> Figure:
    """Mean test accuracy (%) over the seeds, for each pair of values of settings ``x`` and ``y``."""
    cells: dict[tuple[Any, Any], list[float]] = defaultdict(list)
    for r in _done(rows):
        cells[(r[x], r[y])].append(100 * r["test_accuracy"])
    xs = sorted({k[0] for k in cells}, key=_key)
    ys = sorted({k[1] for k in cells}, key=_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    for (vx, vy), accs in cells.items():
        grid[ys.index(vy), xs.index(vx)] = np.mean(accs)
    fig = Figure(figsize=(max(5.0, 0.7 * len(xs) + 2.5), max(3.5, 0.5 * len(ys) + 2)))
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=8,
                    color="black" if value > np.nanmean(grid) else "white")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], rotation=45 if len(xs) > 6 else 0)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title("test accuracy (%), mean over seeds")
    fig.colorbar(image, ax=ax, label="test accuracy (%)")
    fig.tight_layout()
    return fig


def plot_sizes(rows: Sequence[dict[str, Any]]) -> Figure:
    """Test accuracy against the number of parameters: one line per activation and depth, seeds' spread as bars."""
    groups: dict[tuple[str, int], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    lesson: list[tuple[int, float]] = []
    for r in _done(rows):
        depth = len(r["hidden"].split(","))
        groups[(r["activation"], depth)][r["n_parameters"]].append(100 * r["test_accuracy"])
        if r["hidden"] == LESSON_HIDDEN:
            lesson.append((r["n_parameters"], 100 * r["test_accuracy"]))
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    for (activation, depth), points in sorted(groups.items()):
        n = np.array(sorted(points))
        accs = [np.array(points[k]) for k in n]
        mean = np.array([a.mean() for a in accs])
        spread = np.array([[m - a.min() for m, a in zip(mean, accs)], [a.max() - m for m, a in zip(mean, accs)]])
        ax.errorbar(n, mean, yerr=spread, marker="o", ms=4, capsize=3,
                    label=f"{activation}, {depth} hidden layer{'s' * (depth > 1)}")
    if lesson:
        n_lesson = lesson[0][0]
        ax.axvline(n_lesson, color="grey", ls=":", lw=1)
        ax.annotate("the lesson's 16-16", (n_lesson, min(a for _, a in lesson)), textcoords="offset points",
                    xytext=(6, -14), fontsize=9, color="dimgrey")
    ax.set_xscale("log")
    ax.set_xlabel("number of parameters (weights and biases)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("accuracy against network size: mean over seeds, bars from min to max")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
