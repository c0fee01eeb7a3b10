"""Write the README's tables from the results files that hold their figures, or check they agree.

A region of the README between ``<!-- figures:NAME -->`` and ``<!-- /figures -->`` is generated
from ``docs/figures/NAME.json``, written by the command that measured the figures:

    {"machine": "...", "date": "YYYY-MM-DD", "command": "how to measure again",
     "note": "optional sentence", "columns": ["...", ...], "rows": [["...", ...], ...]}

    python scripts/readme_figures.py           # rewrite the regions
    python scripts/readme_figures.py --check   # exit 1 if a region differs from its file
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = re.compile(r"(<!-- figures:([\w-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)


def render(name: str) -> str:
    """The Markdown of region NAME: its table, then where, when and how it was measured."""
    path = ROOT / "docs" / "figures" / f"{name}.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    lines = ["| " + " | ".join(result["columns"]) + " |", "|" + " --- |" * len(result["columns"])]
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
