"""Export a network as one self-contained HTML page: draw a digit and watch it think, offline.

A teacher hands the file to a class; it opens from disk in any modern browser, with no server,
no Python and no network access. The page holds:

- the network: its sizes, hidden activation and output activation (read from the network and its
  cost, as ``Network.predict_proba`` uses them), and each layer's W and b as base64 float32;
- ``web/static/pad.js``, the pad's stroke, shared with the served page;
- ``web/share/net.js``, the forward pass a' = sigma(W a + b), layer by layer;
- ``web/share/preprocess.js``, ``digitnet.preprocess.to_mnist`` ported line by line (grey levels,
  ink stretched to 1, the 20x20 box with Pillow's Lanczos filter, centre of mass at (14, 14));
- ``web/share/page.js``, the drawing pad, the ten outputs, the layers and a neuron inspector.

Every script and style is inlined: the page loads nothing.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .costs import get_cost
from .errors import DigitNetError
from .files import atomic_write
from .netlike import NetworkLike

SHARE = Path(__file__).resolve().parent / "web" / "share"
STATIC = SHARE.parent / "static"  # pad.js: the drawing pad's stroke, the same as the served page's
SCRIPTS = (STATIC / "pad.js", SHARE / "net.js", SHARE / "preprocess.js", SHARE / "page.js")  # inlined in this order
PAGE_ACTIVATIONS = ("sigmoid", "relu", "softmax")  # the functions net.js knows, by digitnet's names


def _float32_base64(a: np.ndarray) -> str:
    """An array as base64 of its little-endian float32 bytes, row by row (what JS's Float32Array reads)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def model_json(net: NetworkLike) -> dict[str, Any]:
    """What the page needs of a network: sizes, the two activations' names, W and b as float32."""
    output = get_cost(net.cost_name).output_name
    for name in (net.activation, output):
        if name not in PAGE_ACTIVATIONS:
            raise DigitNetError(
                f"the shared page cannot run the activation {name!r}; it knows {', '.join(PAGE_ACTIVATIONS)}"
            )
    return {
        "sizes": [int(n) for n in net.sizes],
        "activation": net.activation,
        "output": output,
        "cost": net.cost_name,
        "W": [_float32_base64(W) for W in net.W],
        "b": [_float32_base64(b) for b in net.b],
    }


def _script(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")  # the inlined code can never close its own tag


def render(net: NetworkLike, title: str = "digitnet") -> str:
    """The page's HTML for ``net``: the template with the model, the style and the scripts inlined."""
    model = json.dumps(model_json(net), separators=(",", ":")).replace("</", "<\\/")
    page = (SHARE / "page.html").read_text(encoding="utf-8")
    parts = {
        "{{TITLE}}": html.escape(title),
        "{{STYLE}}": (SHARE / "page.css").read_text(encoding="utf-8"),
        "{{MODEL}}": model,
        "{{SCRIPTS}}": "\n".join(_script(n) for n in SCRIPTS),
    }
    for key, value in parts.items():
        page = page.replace(key, value)
    return page


def export(net: NetworkLike, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Write the page for ``net`` to ``path`` atomically (never half a file); returns the file written."""
    text = render(net, title or f"digitnet: a {'-'.join(str(n) for n in net.sizes)} network").encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(text)

    try:
        return atomic_write(path, write, DigitNetError)
    except OSError as e:
        raise DigitNetError(f"cannot write {os.fspath(path)!r}: {e.strerror or e}; choose another place") from e
