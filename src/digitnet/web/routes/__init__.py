"""The page's endpoints, one router for each thing the page does: look at the network (network),
lesson 3's backpropagation on one example (backprop), training (training), and model files (files).
Each gets the server's state through the ``Served`` dependency (``state.web_state``).
"""

from typing import Annotated

from fastapi import Depends

from ..state import WebState, web_state

State = Annotated[WebState, Depends(web_state)]
