from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from qingfeng.cases.models import Case
from qingfeng.intake import demo
from qingfeng.offices.models import Office


class Command(BaseCommand):
    help = "Load the demo: offices, one user per role at three levels, and a few thousand cases. Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cases", type=int, default=3000, help="bulk demo cases (default 3000)")

    def handle(self, *args: Any, **options: Any) -> None:
        t0 = time.perf_counter()
        if Office.objects.filter(level=Office.Level.SUBDISTRICT).count() < 40000:
            call_command("load_offices", "--with-subdistricts", stdout=self.stdout)
        offices = demo.demo_offices()
        logins = demo.demo_users(offices)
        if not Case.objects.filter(received_office__in=offices.values()).exists():
            from qingfeng.intake.synthetic import generate_cases

            counties = list(Office.objects.filter(level=Office.Level.COUNTY, path__startswith=offices["province"].path))
            # The demo county gets a larger share so its lists and boards are busy.
            pool = counties + [offices["county"]] * max(1, len(counties) // 4)
            today = date.today()
            n = generate_cases(
                count=options["cases"], offices=pool, seed=2026, start=today - timedelta(days=540), end=today
            )
            n += demo.demo_workflow_cases(offices)
            self.stdout.write(f"demo cases: {n}")
            # The bulk generator bypasses the services, so the statistics are rebuilt from the events.
            call_command("rebuild_counts", stdout=self.stdout)
        self.stdout.write(f"demo ready in {time.perf_counter() - t0:.0f} s\n")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {demo.DEMO_PASSWORD})"))
        width = max(len(login.username) for login in logins)
        for login in logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.office}  ({login.roles})")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in; the API is at /api/docs/.")
