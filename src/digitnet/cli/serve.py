"""``digitnet serve [MODEL]``: the web page. Draw a digit, watch the network think, watch it learn.

With no MODEL the lessons' default network is trained at startup in the background (a few
seconds; the page shows the progress) and kept in digitnet's cache for the next start.
The server listens on 127.0.0.1 only, unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys

from ._common import READ_FILE, WRITE_DIR, add_data_option


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="the web page: draw a digit and watch the network think and learn",
        description="Start a local web server with a page where you draw a digit and watch the network's "
                    "neurons light up layer by layer, inspect a neuron's weights, see what backpropagation "
                    "wants to change, and train networks live.")
    p.add_argument("model", nargs="?", default=None, type=READ_FILE,
                   help="a model file written by `digitnet train`; default: train the lessons' network at startup")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; 0.0.0.0 makes the page reachable from other machines")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    p.add_argument("--output-dir", default=".", metavar="DIR", type=WRITE_DIR,
                   help="where the page's 'Save' writes model files (default: the current directory)")
    p.add_argument("--no-cache", action="store_true",
                   help="with no MODEL: train the default network even if a trained copy is in the cache")
    p.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="a request must arrive whole (headers and body) within this time, or the connection is "
                        "closed: a client that stalls mid-request cannot hold the server's connections")
    add_data_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..files import output_directory
    from ..network import Network
    from ..web.app import create_app
    from ..web.security import is_loopback, loopback_hosts
    from ..web.server import bind, serve, url_of

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {args.port}")
    if not 0 < args.request_timeout <= 3600:
        raise ConfigError(f"--request-timeout must be more than 0 and at most 3600 seconds, got {args.request_timeout}")
    output_directory(args.output_dir, "--output-dir", ConfigError)  # found out now, not at the first 'Save'
    net = Network.load(args.model) if args.model else None
    exposed = not is_loopback(args.host)
    app = create_app(net, source=args.model or "", output_dir=args.output_dir, data_dir=args.data,
                     use_cache=not args.no_cache, allowed_hosts=None if exposed else loopback_hosts(args.host))
    sock = bind(args.host, args.port)
    url = url_of(sock)
    if exposed:
        print(f"digitnet: warning: listening on {args.host}: anyone who can reach this machine can use the page, "
              f"train networks on it and write model files to {args.output_dir!r}. Use --host 127.0.0.1 "
              "to keep it private.", file=sys.stderr)
        if args.host in ("0.0.0.0", "::"):
            url = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
    if net is None:
        print("digitnet: no MODEL given: the default 784-16-16-10 network is trained in the background "
              "(or loaded from the cache); the page shows its progress")

    def started() -> None:
        print(f"digitnet: serving the page at {url}  (Ctrl+C to stop)", flush=True)
        if net is None:
            _report_default_training(app)
        if args.open:
            import webbrowser

            webbrowser.open(url)

    serve(app, sock, on_started=started, request_timeout=args.request_timeout)
    return 0


def _report_default_training(app) -> None:
    """Print the default network's training progress on the terminal too, one line per epoch."""
    import threading
    import time

    served, trainer = app.state.served, app.state.startup

    def epochs_since(shown: int) -> int:
        """Print the epochs finished since the first ``shown``; returns how many are shown now."""
        run = trainer.run
        if run is None:
            return shown
        for record in run.history[shown:]:
            acc = record.get("test_accuracy")
            accuracy = f", test accuracy {acc:.1%}" if acc is not None else ""
            print(f"digitnet: default network: epoch {record['epoch']}/{run.settings['epochs']}{accuracy}", flush=True)
        return len(run.history)

    def watch() -> None:
        shown = 0
        while served.net is None:
            shown = epochs_since(shown)
            run = trainer.run
            if run is not None and run.state == "failed":
                print(f"digitnet: error: {run.message}", file=sys.stderr, flush=True)
                return
            time.sleep(0.2)
        if trainer.run is not None:
            epochs_since(shown)  # the last epoch ends just before the network is served
        print(f"digitnet: ready: {served.source}", flush=True)

    threading.Thread(target=watch, daemon=True).start()
