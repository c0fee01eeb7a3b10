"""Run the reliability tests and write the README's Reliability table from what they measured.

    python benchmarks/reliability.py            # CI sizes: about 10 minutes on 2 CPUs
    DIGITNET_FUZZ_EXAMPLES=10000 python benchmarks/reliability.py   # the long fuzzing run, say

The tests record their figures (cases fuzzed, kills survived, requests refused...) through
tests/figures.py into benchmarks/results/reliability.json ($DIGITNET_FIGURES); pytest's JUnit
report gives each file's tests passed. Only a run with no failure writes the table,
docs/figures/reliability.json, which scripts/readme_figures.py puts in the README. The load
test's row comes from benchmarks/results/load_test.json, written by benchmarks/load_test.py.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "benchmarks" / "results" / "reliability.json"
TABLE = ROOT / "docs" / "figures" / "reliability.json"
LOAD = ROOT / "benchmarks" / "results" / "load_test.json"
PHASES = ["importing", "loading the data", "compiling the engine", "mid-epoch", "the final test evaluation",
          "mid-save"]  # of tests/test_interrupt_phases.py, in the order a run goes through them
FILES = ["test_fuzz_files", "test_user_files", "test_path_kinds", "test_kill_during_save", "test_resume",
         "test_interrupt_phases", "test_divergence", "test_web_security", "test_web_hardening", "test_slow_clients",
         "test_load"]


def run_tests(extra: list[str]) -> dict[str, dict[str, int]]:
    """Run the files with $DIGITNET_FIGURES set; each file's counts of tests passed, failed, skipped."""
    RAW.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        env = dict(os.environ, DIGITNET_FIGURES=str(RAW))
        subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
                        *[f"tests/{name}.py" for name in FILES], *extra], cwd=ROOT, env=env, check=False)
        counts: dict[str, dict[str, int]] = {name: {"passed": 0, "failed": 0, "skipped": 0} for name in FILES}
        for case in ET.parse(report).iter("testcase"):
            name = case.get("classname", "").split(".")[-1]
            outcome = ("failed" if case.find("failure") is not None or case.find("error") is not None
                       else "skipped" if case.find("skipped") is not None else "passed")
            counts.setdefault(name, {"passed": 0, "failed": 0, "skipped": 0})[outcome] += 1
    return counts


def rows(f: dict[str, Any], counts: dict[str, dict[str, int]]) -> list[list[str]]:
    """The table: what is tried, what came of it, and the command that tries it again."""
    kinds, crafted, kill = f["path_kinds_refused"], f["crafted_headers_refused"], f["kill_during_save"]
    pk, slow, api, site = f["path_kinds_by_command"], f["slow_clients"], f["api_cases"], f["cross_site_refused"]
    saved_after = f["interrupt_phases"].get("save_seconds_after_signal", {})
    phases = sorted((p for p in f["interrupt_phases"] if p != "save_seconds_after_signal"), key=PHASES.index)
    assert all(code == 130 for p in phases for code in f["interrupt_phases"][p].values())
    cut_offs = [v for k, v in slow.items() if k.startswith("cut_off_s:")]
    fuzzed = (f"{f['fuzz_cases']['total']:,} damaged, crafted and random model and IDX files: each loads exactly "
              "or is refused by digitnet's own error naming it; no pickle runs")
    readers = (f"{', '.join(kinds['kinds'])}, each given to the {len(kinds['readers'])} readers "
               f"({', '.join(kinds['readers'])}): {kinds['cases']} cases, each refused by name in at most "
               f"{kinds['slowest_s'] * 1000:.1f} ms")
    every = (f"{len(pk['kinds'])} kinds of path ({', '.join(pk['kinds'])}) x the {pk['options']} path arguments "
             f"of {pk['commands']} commands: {pk['cases']} cases, "
             f"{pk['refused']} refused in one line naming the path (at most {pk['slowest_refusal_s']} s), "
             f"{pk['accepted']} accepted as the argument's role allows; no hang, no traceback")
    headers = (f"{crafted['cases']} crafted files (a million layer sizes, 80 MB of weights in 80 KB, 65,535 zip "
               f"entries, a 78 MB gzip bomb): refused in at most {crafted['slowest_s']} s, peak "
               f"{crafted['peak_mb']} MB traced (bound: 1 s, 150 MB)")
    kills = (f"{kill['kills']} SIGKILLs of a writer of a {'-'.join(map(str, kill['sizes']))} model "
             f"({kill['file_bytes'] / 1e6:.0f} MB), {kill['killed_mid_write']} mid-write: "
             f"{kill['broken_files']} broken files")
    resumed = (f"{counts['test_resume']['passed']} tests (SIGINT, SIGTERM, Ctrl-C at any step of an epoch, twice "
               "in a row): every resumed model byte-identical")
    interrupts = (f"SIGINT and SIGTERM in each of {len(phases)} phases ({', '.join(phases)}): each exit 130, one "
                  "line saying where the work is (nothing yet, a checkpoint of whole epochs, the model), no traceback"
                  + (f"; mid-save, the model whole {max(saved_after.values())} s after the signal" if saved_after
                     else ""))
    diverged = (f"{counts['test_divergence']['passed']} tests: learning rate 10^6 exits 1 with a message and keeps "
                "the last finite model, beside an existing one, never over it")
    cross = (f"all {site['routes']} state-changing routes of the OpenAPI schema, 4 cross-site header sets, with "
             f"and without a body: {site['requests']} requests, all 403")
    schema = (f"Schemathesis: {api['total']:,} requests over all {api['operations']} operations: no 5xx, no "
              "response off the schema, every invalid request refused")
    spread = f"{min(cut_offs):.1f}" + (f" to {max(cut_offs):.1f}" if f"{min(cut_offs):.1f}" != f"{max(cut_offs):.1f}"
                                       else "")
    partial = (f"half a request line, half the headers, a short body, nothing, a byte every 0.2 s: cut off "
               f"{spread} s after the start, with a {slow['request_timeout_s']:g} s "
               "--request-timeout (default 10 s); beside 200 stalled clients a real request took "
               f"{slow['real_request_beside_200_stalled_s'] * 1000:.0f} ms")
    table = [["Files fuzzed", fuzzed, "`pytest tests/test_fuzz_files.py`"],
             ["Paths that are not files", readers, "`pytest tests/test_user_files.py`"],
             ["Every path kind x every command", every, "`pytest tests/test_path_kinds.py`"],
             ["Headers claiming far more than the file", headers, "`pytest tests/test_user_files.py`"],
             ["Kills during a save", kills, "`pytest tests/test_kill_during_save.py`"],
             ["Interrupted training, resumed", resumed, "`pytest tests/test_resume.py`"],
             ["Interrupt at each phase of `digitnet train`", interrupts, "`pytest tests/test_interrupt_phases.py`"],
             ["Divergence", diverged, "`pytest tests/test_divergence.py`"],
             ["Cross-site requests", cross, "`pytest tests/test_web_security.py`"],
             ["Server API", schema, "`pytest tests/test_web_hardening.py`"],
             ["Partial requests", partial, "`pytest tests/test_slow_clients.py`"]]
    if LOAD.exists():
        load = json.loads(LOAD.read_text())
        ms = load["latency_ms"]
        table.append(["Server under load", f"{load['clients']} clients for {load['duration_limit_s']:g} s: "
                      f"{load['requests']:,} requests, {load['requests_per_s']:,.0f} requests/s, latency p50 "
                      f"{ms['p50']:.1f} ms, p99 {ms['p99']:.1f} ms (max {ms['max']:.0f} ms), {load['errors']} errors",
                      "`python benchmarks/load_test.py`"])
    return table


def main(argv: list[str]) -> int:
    counts = run_tests(argv)
    failed = {name: c["failed"] for name, c in counts.items() if c["failed"]}
    if failed or not RAW.exists():
        print(f"reliability: tests failed ({failed or 'no figures recorded'}); the table is left as it was",
              file=sys.stderr)
        return 1
    figures = json.loads(RAW.read_text())
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
              "date": datetime.date.today().isoformat(), "command": "python benchmarks/reliability.py",
              "note": "every test of these files passed" + ("; run as root, so the mode-0 file could be read (and was refused as not digitnet's)" if root else "")
                      + "; the load test is its own command, run apart",
              "columns": ["", "Figure", "Rerun"], "rows": rows(figures, counts)}
    TABLE.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)} and {RAW.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
