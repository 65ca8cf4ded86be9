"""Demo data for `make run`: offices, one user per role at three levels, and a few thousand cases.

Bulk cases come from the synthetic generator (texts from ../shared/data when present,
otherwise from the project's own generator). A few dozen more are carried through the real
workflow services so their timelines, deadlines and notifications are genuine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from qingfeng.accounts.models import Role, User
from qingfeng.accounts.services import user_create
from qingfeng.cases.models import Case
from qingfeng.cases.services import case_transition
from qingfeng.cases.workflow import Action
from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput, case_register
from qingfeng.offices.models import Office

DEMO_PASSWORD = "qingfeng-demo"
PROVINCE, CITY, COUNTY = "43", "4301", "430102"  # 湖南省, 长沙市, 芙蓉区

ROLE_SHORT = {
    Role.INTAKE_CLERK: "clerk",
    Role.PETITION_HEAD: "petition",
    Role.HANDLER: "handler",
    Role.DEPARTMENT_HEAD: "dept",
    Role.LEADER: "leader",
    Role.ANALYST: "analyst",
    Role.AUDITOR: "auditor",
    Role.ADMINISTRATOR: "admin",
}
WORK_ROLES = [Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER]


@dataclass(frozen=True)
class Login:
    username: str
    office: str
    roles: str


def demo_offices() -> dict[str, Office]:
    offices = {
        key: Office.objects.get(code=code) for key, code in (("province", PROVINCE), ("city", CITY), ("county", COUNTY))
    }
    street = Office.objects.filter(parent=offices["county"]).order_by("code").first()
    if street is not None:
        offices["street"] = street
    return offices


def demo_users(offices: dict[str, Office]) -> list[Login]:
    logins: list[Login] = []

    def ensure(
        username: str, office: Office, roles: list[str], is_staff: bool = False, is_superuser: bool = False
    ) -> None:
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=DEMO_PASSWORD,
                office=office,
                roles=roles,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
        logins.append(Login(username, office.name, ", ".join(str(Role(r).label) for r in roles)))

    for level in ("province", "city", "county"):
        for role, short in ROLE_SHORT.items():
            ensure(f"{level}_{short}", offices[level], [role], is_staff=role == Role.ADMINISTRATOR)
    if "street" in offices:
        ensure("street_staff", offices["street"], list(WORK_ROLES))
    national = Office.objects.get(code="0")
    ensure("admin", national, [Role.ADMINISTRATOR], is_staff=True, is_superuser=True)
    return logins


_STORIES = [
    (
        "phone",
        "反映芙蓉区某街道办事处主任违规收受礼金",
        "2025年春节前后，街道办事处主任刘某多次收受辖区商户礼金共计三万余元。",
    ),
    ("letter", "举报某社区书记侵占集体收入", "社区书记陈某将社区门面出租收入约八万元转入其亲属账户，账目不公开。"),
    ("online", "反映区住建局工作人员吃拿卡要", "办理施工许可时，区住建局科员周某暗示要请客送礼，否则拖延审批。"),
    ("visit", "群众集体反映征地补偿款被截留", "十余户村民反映征地补偿款迟迟未发放，怀疑被村干部截留挪用。"),
    ("letter", "反映某局长公车私用", "区某局局长黄某长期驾驶公务用车接送子女上下学，周末驾车外出游玩。"),
    ("online", "反映扶贫资金被挪用", "某村支书将扶贫专项资金五万元用于修建自家房屋，村民多次反映无果。"),
]


def demo_workflow_cases(offices: dict[str, Office]) -> int:
    """A handful of cases carried through the real services, at different points in their life."""
    county, city = offices["county"], offices["city"]
    clerk = User.objects.get(username="county_clerk")
    head = User.objects.get(username="county_petition")
    dept = User.objects.get(username="county_dept")
    handler = User.objects.get(username="county_handler")
    city_head = User.objects.get(username="city_petition")
    rng = random.Random(7)
    created = 0

    def register(office: Office, actor: User, i: int, days_ago: int) -> Case:
        channel, title, body = _STORIES[i % len(_STORIES)]
        real = i % 2 == 0
        return case_register(
            data=RegistrationInput(
                channel=channel,
                title=title,
                description=body,
                region_code=COUNTY,
                received_at=timezone.now() - timedelta(days=days_ago, hours=rng.randint(0, 8)),
                is_group_visit=channel == "visit",
                head_count=12 if channel == "visit" else None,
                categories=["integrity.gifts"] if "礼金" in title else [],
                reporter=ReporterInput(
                    anonymous=not real, name="王晓明" if real else "", phone="13900001111" if real else ""
                ),
                parties=[PartyInput(name="刘某", post="主任", rank="township", unit="某街道办事处")],
            ),
            office=office,
            actor=actor,
        )

    Step = tuple[User, str, str, dict[str, object]]  # actor, action, reason, parameters
    accept: Step = (head, Action.ACCEPT, "", {})
    verify: Step = (dept, Action.DISPOSE, "", {"way": "verification"})
    plans: list[list[Step]] = [
        [],  # just received
        [(clerk, Action.SCREEN, "", {"item_type": "accusation"})],
        [accept],
        [accept, (dept, Action.DISPOSE, "", {"way": "inquiry", "study_opinion": "集体研究，谈话函询"})],
        [
            accept,
            verify,
            (
                dept,
                Action.CONCLUDE,
                "",
                {
                    "substantiation": "substantiated",
                    "sanctions": "党内警告",
                    "conclusion": "经初核属实，给予党内警告处分",
                },
            ),
        ],
        [
            accept,
            verify,
            (
                dept,
                Action.CONCLUDE,
                "",
                {"substantiation": "unsubstantiated", "name_cleared": True, "conclusion": "反映问题不属实，予以澄清"},
            ),
            (handler, Action.FEED_BACK, "已电话告知反映人办理结果", {}),
            (handler, Action.RECORD_RETURN_VISIT, "", {"problem_solved": True, "satisfaction": 4}),
        ],
    ]

    def run(case: Case, steps: list[Step]) -> None:
        for actor, action, reason, params in steps:
            case_transition(
                case_number=case.number, action=action, actor=actor, reason=reason or "依规办理", params=params
            )

    with transaction.atomic():
        for i in range(24):
            case = register(county, clerk, i, days_ago=rng.randint(0, 40))
            run(case, plans[i % len(plans)])
            created += 1
        street = offices.get("street")
        if street is not None:
            for i in range(4):
                case = register(county, clerk, i, days_ago=3 + i)
                run(case, [(head, Action.TRANSFER_DOWN, "属地管理，转街道办理", {"target_office": street.code})])
                created += 1
        for i in range(4):
            case = register(city, User.objects.get(username="city_clerk"), i, days_ago=10 + i)
            due = (date.today() + timedelta(days=3 + 6 * i)).isoformat()
            run(
                case,
                [(city_head, Action.ASSIGN, "市纪委交办，限期报结", {"target_office": county.code, "due_date": due})],
            )
            created += 1
    return created
