"""Find the earlier cases about the same matter for each report in a JSON-lines file."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qingfeng.repeats.batch import MemoryIndex, parse_time, processing_order, queries_for_rows
from qingfeng.repeats.selectors import find_for_query


class Command(BaseCommand):
    help = (
        "Read one report per line (JSON: external_id, received_at, title, description, reporter_*, "
        "region_code, reported_name, reported_unit, ...) and write, in input order, one JSON object per line: "
        '{"input": external_id, "candidates": [{"case_number", "external_id", "score", "flag", "reasons"}]}. '
        "Each report is compared with the reports received before it in the file and with the registered cases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="JSON-lines file, or - for standard input")
        parser.add_argument("--output", default="-", help="where to write (default: standard output)")
        parser.add_argument("--limit", type=int, default=10, help="candidates per report")
        parser.add_argument("--no-db", action="store_true", help="compare only within the file")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows = self._read(opts["input"])
        queries = queries_for_rows(rows)
        memory = MemoryIndex()
        results: list[list[dict[str, Any]]] = [[] for _ in rows]
        for i in processing_order(rows):
            row, q = rows[i], queries[i]
            found: list[dict[str, Any]] = []
            for ref, _signals, v in memory.candidates(q):
                found.append(
                    {"case_number": None, "external_id": ref, "score": v.score, "flag": v.flag, "reasons": v.reasons}
                )
            if not opts["no_db"]:
                received = parse_time(row.get("received_at"))
                for c in find_for_query(q=q, viewer_office=None, exclude_case_id=None, limit=opts["limit"]):
                    if received and c.received_at and timezone.make_naive(c.received_at) >= received:
                        continue  # only earlier cases
                    found.append(
                        {
                            "case_number": c.case_number,
                            "external_id": c.external_id,
                            "score": c.score,
                            "flag": c.flag,
                            "reasons": c.reasons,
                        }
                    )
            found.sort(key=lambda f: -f["score"])
            results[i] = found[: opts["limit"]]
            memory.add(str(row.get("external_id") or f"line-{i + 1}"), q)
        out = sys.stdout if opts["output"] == "-" else open(opts["output"], "w", encoding="utf-8")  # noqa: SIM115
        try:
            for row, found in zip(rows, results, strict=True):
                out.write(json.dumps({"input": row.get("external_id"), "candidates": found}, ensure_ascii=False) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()

    @staticmethod
    def _read(path: str) -> list[dict[str, Any]]:
        try:
            handle = sys.stdin if path == "-" else open(path, encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        rows = []
        with handle:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"line {n}: not JSON ({exc.msg})") from exc
                if not isinstance(row, dict):
                    raise CommandError(f"line {n}: expected a JSON object")
                rows.append(row)
        return rows
