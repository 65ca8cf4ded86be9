"""Registration under the unified entry standard: the one way a case comes into existence."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.attachments import CheckedFile, attachment_store, check_upload
from qingfeng.cases.choices import Channel, Gender, ItemType, PartyKind, Rank, Source, Urgency
from qingfeng.cases.models import Case, Category, ReportedParty, Reporter, Tag
from qingfeng.cases.services import case_grant_access_many, case_next_numbers, event_record_many
from qingfeng.cases.workflow import Action
from qingfeng.core import crypto, lastwrites
from qingfeng.core.errors import ValidationFailed
from qingfeng.core.text import clean_whitespace, search_document
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import case_refresh_next_deadline, case_start_deadline
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.offices.models import Office
from qingfeng.repeats.normalize import party_match_key

# Hooks run inside the registration transaction, after the cases and their parts exist
# (repeat index, special-topic tagging, the audit entry). Each receives the new cases, in
# registration order: one for `case_register`, several for `case_register_many`.
REGISTRATION_HOOKS: list[Callable[[Sequence[Case]], None]] = []

_REGION = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3})?)?)?$")


@dataclass
class ReporterInput:
    anonymous: bool = True
    name: str = ""
    id_number: str = ""
    phone: str = ""
    phone2: str = ""
    email: str = ""
    address: str = ""
    gender: str = ""
    party_member: bool | None = None
    occupation: str = ""
    rank: str = ""
    unit: str = ""
    region_code: str = ""


@dataclass
class PartyInput:
    name: str
    kind: str = PartyKind.PERSON
    id_number: str = ""
    gender: str = ""
    birth_date: date | None = None
    party_member: bool | None = None
    post: str = ""
    rank: str = ""
    unit: str = ""
    unit_nature: str = ""
    region_code: str = ""
    managed_at_this_level: bool | None = None


@dataclass
class RegistrationInput:
    channel: str
    title: str
    description: str
    region_code: str
    received_at: datetime | None = None
    source: str = Source.OWN_LEVEL
    item_type: str = ItemType.ACCUSATION
    urgency: str = Urgency.NORMAL
    is_group_visit: bool = False
    head_count: int | None = None
    categories: Sequence[str] = ()
    tags: Sequence[str] = ()
    keywords: str = ""
    ocr_text: str = ""
    leader_instructions: str = ""
    external_id: str | None = None
    reporter: ReporterInput = field(default_factory=ReporterInput)
    parties: Sequence[PartyInput] = ()
    attachments: Sequence[File] = ()


def validate_registration(data: RegistrationInput) -> tuple[list[Category], list[Tag], list[CheckedFile]]:
    """Domain checks the input serializer cannot make. Raises ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, value, choices in (
        ("channel", data.channel, Channel),
        ("source", data.source, Source),
        ("item_type", data.item_type, ItemType),
        ("urgency", data.urgency, Urgency),
    ):
        if value not in choices.values:
            err(
                name,
                _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": ", ".join(choices.values)},
            )
    if not clean_whitespace(data.title):
        err("title", _("A title is required."))
    if not clean_whitespace(data.description):
        err("description", _("A description of the matter is required."))
    if not _REGION.match(data.region_code or ""):
        err("region_code", _("Give the region code where the problem happened (2, 4, 6 or 9 digits)."))
    if data.is_group_visit:
        if data.channel != Channel.VISIT:
            err("is_group_visit", _("Only a visit can be a group visit."))
        if not data.head_count or data.head_count < 2:
            err("head_count", _("A group visit needs a head count of at least 2."))
    elif data.head_count is not None and data.head_count < 1:
        err("head_count", _("The head count must be at least 1."))
    if data.received_at and data.received_at > timezone.now() + timedelta(minutes=5):
        err("received_at", _("The date received cannot be in the future."))

    rep = data.reporter
    if not rep.anonymous:
        if not clean_whitespace(rep.name):
            err("reporter.name", _("A real-name report needs the reporter's name (or the unit's name)."))
        if not (rep.phone or rep.id_number or rep.email or rep.address):
            err(
                "reporter.phone",
                _("A real-name report needs a contact that can be verified (phone, ID number, email or address)."),
            )
    if rep.phone and len(crypto.normalize_phone(rep.phone)) < 7:
        err("reporter.phone", _("“%(value)s” is not a phone number.") % {"value": rep.phone})
    if rep.id_number and not crypto.id_number_is_valid(rep.id_number):
        err("reporter.id_number", _("The ID number is not valid (wrong length or check digit)."))
    if rep.gender and rep.gender not in Gender.values:
        err("reporter.gender", _("Unknown gender value."))
    if rep.rank and rep.rank not in Rank.values:
        err("reporter.rank", _("Unknown rank."))

    for i, party in enumerate(data.parties):
        prefix = f"parties[{i}]"
        if not clean_whitespace(party.name):
            err(f"{prefix}.name", _("Each reported party needs a name."))
        if party.kind not in PartyKind.values:
            err(f"{prefix}.kind", _("A reported party is a person or an organisation."))
        if party.rank and party.rank not in Rank.values:
            err(f"{prefix}.rank", _("Unknown rank."))
        if party.id_number and not crypto.id_number_is_valid(party.id_number):
            err(f"{prefix}.id_number", _("The ID number is not valid (wrong length or check digit)."))

    categories = list(Category.objects.filter(code__in=set(data.categories), active=True)) if data.categories else []
    missing = set(data.categories) - {c.code for c in categories}
    if missing:
        err("categories", _("Unknown problem categories: %(codes)s.") % {"codes": ", ".join(sorted(missing))})
    tags = list(Tag.objects.filter(code__in=set(data.tags), active=True)) if data.tags else []
    missing = set(data.tags) - {t.code for t in tags}
    if missing:
        err("tags", _("Unknown key areas or topics: %(codes)s.") % {"codes": ", ".join(sorted(missing))})

    if len(data.attachments) > settings.ATTACHMENT_MAX_COUNT:
        err("attachments", _("At most %(n)d files per report.") % {"n": settings.ATTACHMENT_MAX_COUNT})
    if errors:
        raise ValidationFailed(errors)
    # Size (413) and type checks come last so field errors are reported together first.
    files = [check_upload(f) for f in data.attachments]
    return categories, tags, files


def _reporter(case: Case, rep: ReporterInput) -> Reporter:
    anonymous = rep.anonymous
    return Reporter(
        case=case,
        is_anonymous=anonymous,
        name=clean_whitespace(rep.name),
        id_number=crypto.normalize_id_number(rep.id_number),
        phone=clean_whitespace(rep.phone),
        phone2=clean_whitespace(rep.phone2),
        email=clean_whitespace(rep.email),
        address=clean_whitespace(rep.address),
        gender=rep.gender,
        party_member=rep.party_member,
        occupation=clean_whitespace(rep.occupation),
        rank=rep.rank,
        unit=clean_whitespace(rep.unit),
        region_code=rep.region_code,
        # Anonymous reporters may still leave a phone: hashing it lets repeats be found.
        name_hash=crypto.name_hash(rep.name) if rep.name else "",
        phone_hash=crypto.phone_hash(rep.phone),
        phone2_hash=crypto.phone_hash(rep.phone2),
        id_number_hash=crypto.id_number_hash(rep.id_number),
    )


def _party(case: Case, p: PartyInput) -> ReportedParty:
    return ReportedParty(
        case=case,
        kind=p.kind,
        name=clean_whitespace(p.name),
        id_number=crypto.normalize_id_number(p.id_number),
        id_number_hash=crypto.id_number_hash(p.id_number),
        gender=p.gender,
        birth_date=p.birth_date,
        party_member=p.party_member,
        post=clean_whitespace(p.post),
        rank=p.rank,
        unit=clean_whitespace(p.unit),
        unit_nature=p.unit_nature,
        region_code=p.region_code,
        managed_at_this_level=p.managed_at_this_level,
        match_key=party_match_key(p.name, p.unit),
    )


def _hold(case: Case, name: str, rows: Sequence[Any]) -> None:
    """Keep related rows just written on the case, as a prefetch would: hooks and the answer read them."""
    qs = getattr(case, name).all()
    qs._result_cache = list(rows)
    qs._prefetch_done = True
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = qs


@dataclass
class _Prepared:
    """One report turned into unsaved rows, everything computed that needs no lock."""

    case: Case
    reporter: Reporter
    parties: list[ReportedParty]
    categories: list[Category]
    tags: list[Tag]
    files: list[CheckedFile]
    year: int


def _prepare(
    data: RegistrationInput,
    checked: tuple[list[Category], list[Tag], list[CheckedFile]],
    *,
    office: Office,
    actor: User | None,
    now: datetime,
) -> _Prepared:
    categories, tags, files = checked
    received_at = data.received_at or now
    local_received = timezone.localtime(received_at)
    title = clean_whitespace(data.title)[:200]
    description = (data.description or "").strip()
    case = Case(
        external_id=data.external_id or None,
        received_office=office,
        holding_office=office,
        held_since=received_at,
        received_at=received_at,
        channel=data.channel,
        source=data.source,
        item_type=data.item_type,
        urgency=data.urgency,
        is_group_visit=data.is_group_visit,
        head_count=data.head_count,
        region_code=data.region_code,
        keywords=clean_whitespace(data.keywords)[:200],
        title=title,
        description=description,
        ocr_text=data.ocr_text,
        leader_instructions=data.leader_instructions,
        is_real_name=not data.reporter.anonymous,
        search_tokens=f" {search_document(title, description, data.keywords)} ",
        created_by=actor,
        status_changed_at=now,
    )
    case_start_deadline(case, rules.SCREENING, local_received.date())
    if case.is_real_name:
        case_start_deadline(case, rules.ACCEPTANCE_NOTICE, local_received.date())
    case_refresh_next_deadline(case)
    return _Prepared(
        case=case,
        reporter=_reporter(case, data.reporter),
        parties=[_party(case, p) for p in data.parties],
        categories=categories,
        tags=tags,
        files=files,
        year=local_received.year,
    )


@transaction.atomic
def case_register(
    *,
    data: RegistrationInput,
    office: Office,
    actor: User | None,
    event_data: dict[str, Any] | None = None,
    notify: bool = True,
) -> Case:
    """Register one report at `office`. Validates everything first; writes all or nothing.

    Everything that needs no lock (validation, word segmentation, deadlines, encryption) is
    done before the first write. The office's number sequence is locked from the case insert
    to commit; rows every registration shares (count-table totals, the audit chain head) are
    written last (`hot_rows_last`), so they stay locked only for the commit.
    """
    checked = validate_registration(data)
    now = timezone.now()
    prepared = _prepare(data, checked, office=office, actor=actor, now=now)
    return _write([prepared], office=office, actor=actor, event_data=event_data, notify=notify, now=now)[0]


@transaction.atomic
def case_register_many(
    *,
    items: Sequence[RegistrationInput],
    office: Office,
    actor: User | None,
    event_data: dict[str, Any] | None = None,
    notify: bool = True,
) -> list[Case]:
    """Register several reports at `office` in one transaction: all of them or none.

    The same rows as one `case_register` per report, in order (numbers follow the order of
    `items`), written with one statement per table instead of one per report, for offices that
    register in bulk (a day's letters scanned together, an online queue). Every report is
    validated first; field errors are named `reports[i].field`.
    """
    errors: dict[str, list[str]] = {}
    checked = []
    for i, data in enumerate(items):
        try:
            checked.append(validate_registration(data))
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                errors[f"reports[{i}].{name}"] = messages
    if errors:
        raise ValidationFailed(errors, _("Some reports are not valid; none was registered."))
    now = timezone.now()
    prepared = [_prepare(d, c, office=office, actor=actor, now=now) for d, c in zip(items, checked, strict=True)]
    return _write(prepared, office=office, actor=actor, event_data=event_data, notify=notify, now=now)


def _write(
    prepared: list[_Prepared],
    *,
    office: Office,
    actor: User | None,
    event_data: dict[str, Any] | None,
    notify: bool,
    now: datetime,
) -> list[Case]:
    cases = [p.case for p in prepared]
    if not cases:
        return []
    with lastwrites.hot_rows_last():
        by_year: dict[int, list[Case]] = {}
        for p in prepared:
            by_year.setdefault(p.year, []).append(p.case)
        for year, group in sorted(by_year.items()):
            for case, number in zip(group, case_next_numbers(office=office, year=year, count=len(group)), strict=True):
                case.number = number
        Case.objects.bulk_create(cases)
        if any(case.pk is None for case in cases):  # a backend that cannot return ids from a bulk insert
            raise RuntimeError("bulk registration needs a database that returns inserted ids")
        for p in prepared:
            p.reporter.case = p.case  # the case has its id now
            for party in p.parties:
                party.case = p.case
        Reporter.objects.bulk_create([p.reporter for p in prepared])
        ReportedParty.objects.bulk_create([party for p in prepared for party in p.parties])
        links = [Case.categories.through(case_id=p.case.pk, category_id=c.pk) for p in prepared for c in p.categories]
        if links:
            Case.categories.through.objects.bulk_create(links)
        tag_links = [Case.tags.through(case_id=p.case.pk, tag_id=t.pk) for p in prepared for t in p.tags]
        if tag_links:
            Case.tags.through.objects.bulk_create(tag_links)
        for p in prepared:
            _hold(p.case, "categories", p.categories)
            _hold(p.case, "tags", p.tags)
            _hold(p.case, "reported_parties", p.parties)
        case_grant_access_many(cases=cases, office=office)
        for p in prepared:
            for checked in p.files:
                attachment_store(case=p.case, checked=checked, uploaded_by=actor)
        event_record_many(
            cases=cases,
            action=Action.REGISTER,
            from_status="",
            actor=actor,
            office=office,
            data=[{"channel": case.channel, **(event_data or {})} for case in cases],
            at=now,
        )
        if actor is None and notify:
            # Nobody at the office typed it in (online, import): tell the office it arrived.
            for case in cases:
                notification_create(
                    office_id=office.pk,
                    case_id=case.pk,
                    kind=Notification.Kind.NEW_CASE,
                    message=_("New report %(number)s: %(title)s") % {"number": case.number, "title": case.title},
                )
        for hook in REGISTRATION_HOOKS:
            hook(cases)
    return cases
