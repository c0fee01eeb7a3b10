"""What belongs to one visitor of the page (one browser tab): the network it draws with, if not the
server's own, and its practice copy for lesson 3. Two tabs never see each other's.

The page makes a random visitor id each time it loads and sends it with every request, in the
``X-Digitnet-Visitor`` header; a client that sends none (a script, curl) is the anonymous visitor,
the same for all of them. The server keeps at most ``MAX_VISITORS`` visitors, each for
``VISITOR_TTL`` seconds after its last request (least recently seen first out): a visitor forgotten
starts again with the server's network and a fresh practice copy, and its page is told so by the
network's version, which changes.

Every network a visitor may draw with has a version, unique in the server's life, so a page sees
that the network under its drawing changed (``model_version`` in every answer).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..network import Network

MAX_VISITORS = 64  # tabs kept at once: each may hold a practice copy and a network of its own
VISITOR_TTL = 3600.0  # seconds a visitor is kept after its last request
VISITOR_HEADER = "X-Digitnet-Visitor"
VISITOR_ID = r"^[A-Za-z0-9_-]{16,64}$"

_versions = itertools.count(1)


def next_version() -> int:
    """A network version never handed out before in this process."""
    return next(_versions)


@dataclass
class Visitor:
    """One tab's own state. ``net`` None: it draws with the server's network (``Served``)."""

    net: Network | None = None
    source: str = ""
    run: int | None = None  # the training run ``net`` came from
    version: int = 0
    test_accuracy: float | None = None
    scratch: Network | None = None  # the practice copy of lesson 3 ...
    scratch_of: int = -1  # ... of the network of this version
    steps: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: float = 0.0

    def use(self, net: Network | None, source: str = "", run: int | None = None) -> None:
        """Draw with ``net`` from now on (None: the server's network again)."""
        self.net, self.source, self.run = net, source, run
        self.version = next_version() if net is not None else 0
        self.test_accuracy = None

    def practice_copy(self, net: Network, version: int) -> Network:
        """The practice copy of ``net`` (version ``version``), made afresh when the network changed;
        hold ``lock``."""
        if self.scratch is None or self.scratch_of != version:
            self.scratch, self.scratch_of, self.steps = net.copy(), version, 0
        return self.scratch

    def reset_copy(self) -> None:
        self.scratch, self.scratch_of, self.steps = None, -1, 0


class Visitors:
    """The visitors seen lately, by id: at most ``limit``, each kept ``ttl`` seconds after its last request."""

    def __init__(self, limit: int = MAX_VISITORS, ttl: float = VISITOR_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.ttl, self.clock = limit, ttl, clock
        self._lock = threading.Lock()
        self._visitors: OrderedDict[str, Visitor] = OrderedDict()

    def get(self, key: str) -> Visitor:
        """The visitor ``key`` (a new one if unknown or forgotten), now the most recently seen."""
        now = self.clock()
        with self._lock:
            while self._visitors:  # the least recently seen first: stop at the first one still kept
                oldest, visitor = next(iter(self._visitors.items()))
                if now - visitor.seen <= self.ttl:
                    break
                del self._visitors[oldest]
            visitor = self._visitors.pop(key) if key in self._visitors else Visitor()
            visitor.seen = now
            self._visitors[key] = visitor
            while len(self._visitors) > self.limit:
                self._visitors.popitem(last=False)
            return visitor

    def __len__(self) -> int:
        return len(self._visitors)
