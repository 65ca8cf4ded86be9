import pytest
from django.core.management import call_command
from django.utils import timezone

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.cases.selectors import deadline_q
from qingfeng.intake.demo import DEMO_PASSWORD


@pytest.mark.django_db
def test_load_demo_creates_users_cases_and_is_idempotent(capsys):
    call_command("load_demo", "--cases", "200")
    out = capsys.readouterr().out
    assert "county_clerk" in out and DEMO_PASSWORD in out
    user = User.objects.get(username="county_petition")
    assert user.check_password(DEMO_PASSWORD) and user.office.code == "430102"
    assert {"province_leader", "city_analyst", "county_auditor", "street_staff", "admin"} <= set(
        User.objects.values_list("username", flat=True)
    )
    total = Case.objects.count()
    assert total >= 200 + 24
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"received", "accepted", "disposed", "concluded", "fed_back"} <= statuses
    # Some open deadlines are missed, some are still running.
    today = timezone.localdate()
    assert Case.objects.filter(deadline_q("overdue", today)).exists()
    assert Case.objects.filter(deadline_q("ok", today)).exists()
    assert CaseEvent.objects.filter(action="transfer_down").exists()
    call_command("load_demo", "--cases", "200")
    assert Case.objects.count() == total
