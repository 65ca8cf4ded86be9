"""Build the region table that ships with Qingfeng: `qingfeng/offices/data/regions.csv.gz`.

This is a developer tool, not used at run time. It reads the public division-code tables
(GB/T 2260 codes and names, with sub-district codes) from a checkout of the shared data
folder and writes one compact gzip'd CSV next to this file::

    .venv/bin/python qingfeng/offices/data/build_regions.py                 # reads ../shared/data/regions
    .venv/bin/python qingfeng/offices/data/build_regions.py --source DIR    # or any folder with the four files

Input files (UTF-8 CSV with a header row)::

    cn_provinces.csv  code,name
    cn_cities.csv     code,name,provinceCode
    cn_areas.csv      code,name,cityCode,provinceCode
    cn_streets.csv    code,name,areaCode,provinceCode,cityCode

Output columns: ``code,name,parent_code,level``. The first row is the nation (code ``0``,
level 0, no parent), then provinces (level 1), cities (2), counties (3) and sub-districts
(4), each level sorted by code. Names are kept exactly as published (``市辖区`` included);
`qingfeng.offices.regions` turns them into display names when offices are loaded.

The output is byte-for-byte reproducible (gzip header without a timestamp or file name),
so re-running the script on unchanged input leaves git clean. Commit the regenerated file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[2]
DEFAULT_SOURCE = PROJECT_ROOT.parent / "shared" / "data" / "regions"
DEFAULT_OUTPUT = HERE / "regions.csv.gz"

NATIONAL = ("0", "中华人民共和国", "", 0)

# file name, column holding the parent's code, level, expected code length
LEVEL_FILES = (
    ("cn_provinces.csv", None, 1, 2),
    ("cn_cities.csv", "provinceCode", 2, 4),
    ("cn_areas.csv", "cityCode", 3, 6),
    ("cn_streets.csv", "areaCode", 4, 9),
)

Row = tuple[str, str, str, int]


def read_source(source: Path) -> list[Row]:
    rows: list[Row] = [NATIONAL]
    for file_name, parent_column, level, code_length in LEVEL_FILES:
        with (source / file_name).open(encoding="utf-8-sig", newline="") as fh:
            level_rows = []
            for record in csv.DictReader(fh):
                code = record["code"].strip()
                name = record["name"].strip()
                parent = record[parent_column].strip() if parent_column else NATIONAL[0]
                if not (code.isdigit() and len(code) == code_length):
                    raise SystemExit(f"{file_name}: bad code {code!r}")
                if not name:
                    raise SystemExit(f"{file_name}: code {code} has no name")
                if parent != NATIONAL[0] and not code.startswith(parent):
                    raise SystemExit(f"{file_name}: code {code} does not start with its parent's code {parent}")
                level_rows.append((code, name, parent, level))
        rows.extend(sorted(level_rows))
    return rows


def validate(rows: list[Row]) -> None:
    codes = Counter(code for code, *_ in rows)
    duplicates = [code for code, n in codes.items() if n > 1]
    if duplicates:
        raise SystemExit(f"duplicate codes: {duplicates[:10]}")
    level_of = {code: level for code, _, _, level in rows}
    for code, _, parent, level in rows:
        if level == 0:
            continue
        if level_of.get(parent) != level - 1:
            raise SystemExit(f"code {code} (level {level}) has no parent {parent!r} at level {level - 1}")


def write(rows: list[Row], output: Path) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["code", "name", "parent_code", "level"])
    writer.writerows(rows)
    buffer = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything that changes between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    output.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help=f"input folder (default {DEFAULT_SOURCE})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"output file (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)

    rows = read_source(args.source)
    validate(rows)
    write(rows, args.output)
    per_level = Counter(level for *_, level in rows)
    summary = ", ".join(f"level {level}: {per_level[level]}" for level in sorted(per_level))
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes; {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
