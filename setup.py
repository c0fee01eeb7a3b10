"""The compiled kernels, built at install time: ``pip install .`` (or ``pip install -e .``) compiles
src/digitnet/_kernels.c into digitnet._kernels with the C compiler Python was built with.

No NumPy at build time (arrays are passed through the buffer protocol) and no -march=native: the
kernels carry their own AVX-512 / AVX2 / baseline variants, chosen when the module loads, so a wheel
built on one x86-64 machine runs on any other. Everything else is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "digitnet._kernels",
            sources=["src/digitnet/_kernels.c"],
            # -O3: vector loops; -ffp-contract=fast: a * b + c as one fused multiply-add where the CPU has
            # it (the tests allow float rounding, not a different sum); no -ffast-math: NaN and inf must
            # propagate so that a diverging run is seen.
            extra_compile_args=["-O3", "-std=gnu11", "-ffp-contract=fast", "-fno-math-errno",
                                "-Wno-psabi"],  # the vector types never cross a call: no ABI to keep
            extra_link_args=["-pthread"],
            # Without a C compiler the install still succeeds, with a warning: digitnet then trains on its
            # NumPy reference ("auto"), and asking for engine="compiled" says to reinstall with a compiler.
            optional=True,
        )
    ]
)
