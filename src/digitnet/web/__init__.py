"""The web page: draw a digit, watch the network think, and watch it learn (``digitnet serve``).

    from digitnet.web import create_app
    app = create_app(Network.load("model.npz"))   # a FastAPI application; run it with uvicorn
"""

from .app import create_app

__all__ = ["create_app"]
