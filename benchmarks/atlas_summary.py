"""The atlas's figures from its sweep database: the README quotes them from the JSON this writes.

    PYTHONPATH=src python benchmarks/atlas_summary.py atlas.db --seconds S --workers N

Writes benchmarks/results/atlas.json: per network (hidden sizes, activation) the mean, min and
max final test accuracy over seeds, the smallest network reaching 95%, and the largest spread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--seconds", type=float, required=True, help="the sweep's wall time, as measured")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--command", default="")
    parser.add_argument("--json", default=str(HERE / "results" / "atlas.json"))
    args = parser.parse_args()

    from digitnet.sweep import db

    con = db.connect(args.db, create=False)
    rows = db.rows(con, status="done")
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["hidden"], r["activation"])].append(r)
    networks = []
    for (hidden, activation), rs in groups.items():
        accs = [100 * r["test_accuracy"] for r in rs]
        networks.append({"hidden": hidden, "activation": activation, "parameters": rs[0]["n_parameters"],
                         "seeds": len(rs), "mean": round(sum(accs) / len(accs), 2), "min": round(min(accs), 2),
                         "max": round(max(accs), 2), "spread": round(max(accs) - min(accs), 2)})
    networks.sort(key=lambda n: (n["parameters"], n["activation"]))
    reaching = [n for n in networks if n["mean"] >= 95]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": args.command, "seconds": args.seconds, "workers": args.workers, "trials": len(rows),
        "counts": db.counts(con), "training_seconds": round(sum(r["seconds"] for r in rows), 1),
        "smallest_reaching_95": reaching[0] if reaching else None,
        "largest_spread": max(networks, key=lambda n: n["spread"]) if networks else None,
        "networks": networks,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "networks"}, indent=2))
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
