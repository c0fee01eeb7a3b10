"""The web app's layout: the page's ES modules are all served as JavaScript and small, the page
loads them as modules under its strict Content-Security-Policy, no function of the server is long,
and the run states the trainer sets are the ones the schema promises."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fastapi.testclient import TestClient

import digitnet.web
from digitnet.web.app import create_app
from digitnet.web.runstate import RunState

WEB = Path(digitnet.web.__file__).parent
STATIC = WEB / "static"
IMPORT = re.compile(r"^import \{[^}]*\} from '\./([\w-]+\.js)';", re.M)


def _modules() -> set[str]:
    """The page's modules: app.js and everything it imports, transitively."""
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += IMPORT.findall((STATIC / name).read_text())
    return seen


def test_the_page_loads_its_entry_module_and_no_inline_script() -> None:
    client = TestClient(create_app(None, train_default=False, use_cache=False))
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js"></script>' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # every script is a file


def test_every_module_is_served_as_javascript() -> None:
    client = TestClient(create_app(None, train_default=False, use_cache=False))
    modules = _modules()
    assert {"draw.js", "diagram.js", "inspect.js", "backprop.js", "train.js", "state.js", "api.js"} <= modules
    for name in modules:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript"), name


def test_no_javascript_file_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in STATIC.glob("*.js")}
    assert sizes and all(n <= 400 for n in sizes.values()), sizes


def test_no_server_function_over_80_lines() -> None:
    long = []
    for path in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if n > 80:
                    long.append(f"{path.name}:{node.name} ({n} lines)")
    assert not long


def test_the_schema_lists_exactly_the_run_states() -> None:
    schema = create_app(None, train_default=False, use_cache=False).openapi()
    assert schema["components"]["schemas"]["RunState"]["enum"] == [s.value for s in RunState]
    assert str(RunState.PAUSED) == f"{RunState.PAUSED}" == "paused"


def test_no_javascript_function_over_80_lines() -> None:
    """Functions as the page's files write them: ``function name(...) {`` up to the ``}`` at its indent."""
    long = []
    for path in STATIC.glob("*.js"):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)(?:export )?(?:async )?function (\w+)", line)
            if m and not line.rstrip().endswith("}"):  # not a one-line function
                end = next(j for j in range(i + 1, len(lines)) if lines[j] == m.group(1) + "}")
                if end - i + 1 > 80:
                    long.append(f"{path.name}:{m.group(2)} ({end - i + 1} lines)")
    assert not long
