"""`manage.py import_reports FILE --office CODE [--mapping MAP.json] [--actor USER] [--format F] [--dry-run]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.intake.importing import FORMATS, ImportFileError, Mapping, RowError, reports_import
from qingfeng.offices.models import Office


class Command(BaseCommand):
    help = (
        "Import an office's historical register from CSV, XLSX or JSON Lines. Each bad row is reported with its "
        "line number and the reason; the good rows are imported, each in its own transaction. Rows whose "
        "external_id the office already has are skipped, so running the import again imports nothing twice. "
        "Fields and the mapping-file format are described in qingfeng/intake/importing.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the file to import (.csv, .xlsx or .jsonl)")
        parser.add_argument("--office", required=True, help="code of the office that receives the cases")
        parser.add_argument("--mapping", help="JSON file mapping the file's columns to the import fields")
        parser.add_argument("--actor", help="username recorded as the person who ran the import")
        parser.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
        parser.add_argument("--dry-run", action="store_true", help="check every row but write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        office = Office.objects.filter(code=options["office"]).first()
        if office is None:
            raise CommandError(f"No office has the code {options['office']!r}.")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user is called {options['actor']!r}.")
        verbose = options["verbosity"] >= 2
        dry_run = options["dry_run"]

        def on_error(error: RowError) -> None:
            self.stderr.write(str(error))

        def on_imported(line: int, case: Case) -> None:
            if verbose:
                self.stdout.write(f"line {line}: {'checked' if dry_run else 'imported as'} {case.number}")

        try:
            mapping = Mapping.load(options["mapping"]) if options["mapping"] else None
            result = reports_import(
                path=Path(options["file"]),
                office=office,
                actor=actor,
                mapping=mapping,
                fmt=options["format"],
                dry_run=dry_run,
                on_error=on_error,
                on_imported=on_imported,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc

        if result.unused_columns:
            self.stdout.write(f"columns not imported: {', '.join(result.unused_columns)}")
        imported = f"would import: {result.imported}" if dry_run else f"imported: {result.imported}"
        summary = (
            f"{imported}, already imported: {result.already_imported}, errors: {result.failed_rows} "
            f"(of {result.rows} rows, {result.seconds:.1f}s)"
        )
        if result.rows == 0:
            raise CommandError(f"{summary}: the file has no rows to import.")
        if result.failed_rows == result.rows:
            raise CommandError(f"{summary}: no row could be imported.")
        style = self.style.WARNING if result.failed_rows else self.style.SUCCESS
        self.stdout.write(style(summary))
