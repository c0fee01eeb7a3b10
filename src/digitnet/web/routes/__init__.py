"""The page's endpoints, one router for each thing the page does: look at the network (network),
lesson 3's backpropagation on one example (backprop), training (training), and model files (files).
Each gets the server's state through the ``State`` dependency (``state.web_state``), and the
visitor making the request, its own network and practice copy, through ``Me`` (``state.visitor_state``).
"""

from typing import Annotated

from fastapi import Depends

from ..state import WebState, visitor_state, web_state
from ..visitors import Visitor

State = Annotated[WebState, Depends(web_state)]
Me = Annotated[Visitor, Depends(visitor_state)]
