# The compiled kernels (_kernels.c): what Python sees of them. Arrays are passed as buffers (NumPy
# arrays, C-contiguous); the writable ones are updated in place.
from typing_extensions import Buffer

B: int
GROUP: int
MAX_SHARES: int

def sgd(X: Buffer, kind: int, n_cols: int, Y: Buffer, order: Buffer, start: int, stop: int, batch_size: int,
        lut: Buffer, eta: float, mu: float, lam: float, hidden: int, cost: int, lay: Buffer, W: Buffer, b: Buffer,
        vW: Buffer, vb: Buffer, shares: int, threads: int, f64: int) -> tuple[float, int]: ...
def forward(X: Buffer, kind: int, n_cols: int, lut: Buffer, hidden: int, cost: int, lay: Buffer, W: Buffer,
            b: Buffer, out: Buffer, threads: int, f64: int) -> None: ...
def exp(x: Buffer, out: Buffer, f64: int) -> None: ...
def inked(x: Buffer, item: int, version: int) -> tuple[list[int], list[int]] | None: ...
