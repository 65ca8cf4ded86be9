"""Writes of the public portal: filing, receipts, follow-up, messages, additions, return visits.

Every function takes typed keyword arguments, checks its input and either changes everything
or nothing. Texts meant for an office (notifications) are written in the site's default
language, whatever language the reporter reads the portal in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from qingfeng.accounts.models import Role, User
from qingfeng.cases.attachments import attachment_store, check_upload
from qingfeng.cases.choices import ItemType, PartyKind, Status
from qingfeng.cases.models import Case, CaseEvent
from qingfeng.cases.selectors import case_get_for_user
from qingfeng.cases.services import event_record
from qingfeng.cases.workflow import Action
from qingfeng.core import crypto
from qingfeng.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from qingfeng.core.text import clean_whitespace
from qingfeng.intake.services import (
    PartyInput,
    RegistrationInput,
    ReporterInput,
    case_register,
    validate_registration,
)
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.portal import receipts, throttling
from qingfeng.portal.models import CaseMessage, PortalSubmission, ReceiptCode
from qingfeng.portal.regions import receiving_office

# How long the first response's receipt code stays retrievable by a retry with the same token.
CODE_RETRY_WINDOW = timedelta(minutes=10)
MESSAGE_MAX_CHARS = 5000
ADDITION_MAX_FILES = 10

# Event actions written by the portal (not workflow transitions: the state never changes).


class PortalEvent(models.TextChoices):
    """Case timeline actions written by the portal (labels registered into cases.workflow.EVENT_LABELS)."""

    RECEIPT_ISSUED = "receipt_code_issued", gettext_lazy("Receipt code issued")
    REPORTER_ADDED = "reporter_added_information", gettext_lazy("Reporter added information")
    REPORTER_RETURN_VISIT = "reporter_return_visit", gettext_lazy("Reporter answered the return visit")
    REPORTER_MESSAGE = "reporter_message", gettext_lazy("Message from the reporter")
    OFFICE_MESSAGE = "office_message_to_reporter", gettext_lazy("Message to the reporter")


EVENT_RECEIPT_ISSUED = PortalEvent.RECEIPT_ISSUED.value
EVENT_REPORTER_ADDED = PortalEvent.REPORTER_ADDED.value
EVENT_REPORTER_RETURN_VISIT = PortalEvent.REPORTER_RETURN_VISIT.value
EVENT_REPORTER_MESSAGE = PortalEvent.REPORTER_MESSAGE.value
EVENT_OFFICE_MESSAGE = PortalEvent.OFFICE_MESSAGE.value

ISSUE_ROLES = (Role.INTAKE_CLERK, Role.PETITION_HEAD)
REPLY_ROLES = (Role.INTAKE_CLERK, Role.PETITION_HEAD, Role.HANDLER, Role.DEPARTMENT_HEAD, Role.LEADER)
# The states in which a reporter sees the result and answers the return-visit questions.
CONCLUDED_STATES = frozenset({Status.CONCLUDED, Status.FED_BACK, Status.ARCHIVED})
# What a reporter may choose as the kind of matter; the office decides "outside remit" or "no substance".
PUBLIC_ITEM_TYPES = (ItemType.ACCUSATION, ItemType.APPEAL, ItemType.SUGGESTION)


class WrongCode(DomainError):
    status_code = 403
    default_message = "The case number or the receipt code is not correct."


class PortalUnavailable(DomainError):
    status_code = 503
    default_message = "Online reporting is not available yet: no office is set up to receive reports."


@dataclass
class ReportInput:
    """What a member of the public submits, by form or API."""

    anonymous: bool
    title: str
    description: str
    region_code: str
    item_type: str = ItemType.ACCUSATION
    name: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    party_kind: str = PartyKind.PERSON
    party_name: str = ""
    party_post: str = ""
    party_unit: str = ""
    attachments: Sequence[File] = field(default_factory=list)

    def payload_hash(self) -> str:
        """Fingerprint of the content, to tell a true retry from a reused key with other content."""
        values = {k: v for k, v in self.__dict__.items() if k != "attachments"}
        values["attachments"] = [(getattr(f, "name", ""), getattr(f, "size", 0)) for f in self.attachments]
        return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def registration(self) -> RegistrationInput:
        reporter = ReporterInput(anonymous=self.anonymous)
        if not self.anonymous:
            reporter = ReporterInput(
                anonymous=False, name=self.name, id_number=self.id_number, phone=self.phone, email=self.email
            )
        parties = []
        if clean_whitespace(self.party_name):
            parties.append(
                PartyInput(
                    name=self.party_name,
                    kind=self.party_kind or PartyKind.PERSON,
                    post=self.party_post,
                    unit=self.party_unit,
                    region_code=self.region_code,
                )
            )
        return RegistrationInput(
            channel="online",
            title=self.title,
            description=self.description,
            region_code=self.region_code,
            item_type=self.item_type,
            reporter=reporter,
            parties=parties,
            attachments=list(self.attachments),
        )


@dataclass(frozen=True)
class Receipt:
    case_number: str
    submitted_at: datetime
    code: str | None  # None: a retry after the window, the code was shown on the first response
    duplicate: bool = False
    content_differs: bool = False  # a retry whose content is not the first submission's


def _office_language() -> translation.override:
    return translation.override(settings.LANGUAGE_CODE)


# --- filing ---------------------------------------------------------------------------------


def _receipt_for_existing(sub: PortalSubmission, payload_hash: str, now: datetime) -> Receipt:
    code = None
    if sub.code_ciphertext:
        if sub.code_expires_at and sub.code_expires_at > now:
            code = crypto.decrypt(sub.code_ciphertext)
        else:
            PortalSubmission.objects.filter(pk=sub.pk).update(code_ciphertext="", code_expires_at=None)
    assert sub.case is not None
    return Receipt(
        case_number=sub.case.number,
        submitted_at=sub.created_at,
        code=code,
        duplicate=True,
        content_differs=sub.payload_hash != payload_hash,
    )


def submission_find(*, token: str, payload_hash: str) -> Receipt | None:
    sub = PortalSubmission.objects.select_related("case").filter(token=token, case__isnull=False).first()
    return _receipt_for_existing(sub, payload_hash, timezone.now()) if sub else None


def report_submit(*, data: ReportInput, token: str, via: str, client: str) -> Receipt:
    """Register an online report once per token and hand out its receipt code.

    Order: a known token returns its receipt (no limit applies to a retry); then the
    per-client limit; then validation in the reporter's language; then one transaction that
    inserts the submission row first (a concurrent duplicate waits on its unique token and
    then fails), registers the case and stores the code's hash.
    """
    payload_hash = data.payload_hash()
    existing = submission_find(token=token, payload_hash=payload_hash)
    if existing is not None:
        return existing
    ip_key = throttling.key_for("ip", client)
    limit = throttling.rule("submissions_ip")
    throttling.check(
        (limit, ip_key),
        message=_("Too many reports have been sent from your network in the last hour. Please try again later."),
    )
    registration = data.registration()
    validate_registration(registration)  # messages in the reporter's language
    office = receiving_office(registration.region_code)
    if office is None:
        raise PortalUnavailable(_("Online reporting is not available yet: no office is set up to receive reports."))
    code = receipts.generate_code()
    code_hash = receipts.hash_code(code)  # slow on purpose: outside the transaction and its locks
    now = timezone.now()
    try:
        with transaction.atomic():
            sub = PortalSubmission.objects.create(token=token, via=via, payload_hash=payload_hash, created_at=now)
            with _office_language():
                case = case_register(
                    data=registration, office=office, actor=None, event_data={"via": f"portal-{via}"}, notify=True
                )
            ReceiptCode.objects.create(case=case, code_hash=code_hash, origin=ReceiptCode.Origin.ONLINE, issued_at=now)
            sub.case = case
            sub.code_ciphertext = crypto.encrypt(code)
            sub.code_expires_at = now + CODE_RETRY_WINDOW
            sub.save(update_fields=["case", "code_ciphertext", "code_expires_at"])
    except IntegrityError:
        existing = submission_find(token=token, payload_hash=payload_hash)
        if existing is None:
            raise
        return existing
    throttling.hit(limit, ip_key)
    receipts_erase_expired(now=now)
    return Receipt(case_number=case.number, submitted_at=now, code=code)


def receipts_erase_expired(*, now: datetime | None = None) -> int:
    """Erase the kept copies of receipt codes whose retry window has passed (one statement)."""
    now = now or timezone.now()
    return (
        PortalSubmission.objects.filter(code_expires_at__lte=now)
        .exclude(code_ciphertext="")
        .update(code_ciphertext="", code_expires_at=None)
    )


# --- receipt codes issued by staff ------------------------------------------------------------


def receipt_issue(*, case_number: str, user: User) -> tuple[Case, str]:
    """Issue a code for a case registered by phone or letter (or re-issue one: the old code stops working).

    Only intake clerks and petition office heads of the holding office. Returns the plain code,
    which is shown once on the printed slip and never stored.
    """
    case = case_get_for_user(user=user, number=case_number)  # NotFound when the office may not see it
    if user.office_id != case.holding_office_id:
        raise PermissionDenied(
            _("Case %(number)s is held by %(office)s; only that office can issue a receipt code.")
            % {"number": case.number, "office": case.holding_office.name}
        )
    if not user.has_role(*ISSUE_ROLES):
        raise PermissionDenied(_("Only intake clerks and petition office heads issue receipt codes."))
    code = receipts.generate_code()
    code_hash = receipts.hash_code(code)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("holding_office").get(pk=case.pk)
        revoked = ReceiptCode.objects.filter(case=case, revoked_at__isnull=True).update(revoked_at=now)
        ReceiptCode.objects.create(
            case=case, code_hash=code_hash, origin=ReceiptCode.Origin.STAFF, issued_by=user, issued_at=now
        )
        event_record(
            case=case,
            action=EVENT_RECEIPT_ISSUED,
            from_status=case.status,
            to_status=case.status,
            actor=user,
            office=case.holding_office,
            data={"reissued": bool(revoked)},
            at=now,
        )
    return case, code


# --- follow-up ----------------------------------------------------------------------------------


def normalize_number(value: str) -> str:
    return clean_whitespace(value).replace(" ", "").upper()


def follow_up_verify(*, case_number: str, code: str, client: str) -> ReceiptCode:
    """The active receipt code row for a case number and code, or an error.

    A code that cannot be one (not 25 digits) is a typing slip: ValidationFailed, not counted.
    Wrong codes count against the client and the case number; at the limit, TooManyAttempts
    (429) comes before any check, so a blocked guesser learns nothing more. An unknown number
    costs the same hash check and gives the same answer as a wrong code.
    """
    number = normalize_number(case_number)
    digits = receipts.normalize_code(code)
    errors: dict[str, list[str]] = {}
    if not number:
        errors["case_number"] = [_("Enter the case number from your receipt.")]
    if digits is None:
        errors["receipt_code"] = [
            _("A receipt code has %(n)d digits, e.g. 12345-67890-12345-67890-12345.") % {"n": receipts.CODE_DIGITS}
        ]
    if errors:
        raise ValidationFailed(errors)
    assert digits is not None
    ip_key, case_key = throttling.key_for("ip", client), throttling.key_for("case", number)
    per_ip, per_case = throttling.rule("code_failures_ip"), throttling.rule("code_failures_case")
    throttling.check(
        (per_ip, ip_key),
        (per_case, case_key),
        message=_("Too many wrong receipt codes. For your protection, please wait %(minutes)d minutes."),
    )
    receipt = (
        ReceiptCode.objects.select_related("case", "case__holding_office")
        .filter(case__number=number, revoked_at__isnull=True)
        .first()
    )
    if receipt is None:
        receipts.code_matches(digits, receipts.decoy_hash())
    elif receipts.code_matches(digits, receipt.code_hash):
        if receipts.HASHER.must_update(receipt.code_hash):  # parameters raised since it was hashed
            ReceiptCode.objects.filter(pk=receipt.pk).update(code_hash=receipts.hash_code(digits))
        return receipt
    throttling.hit(per_ip, ip_key)
    throttling.hit(per_case, case_key)
    raise WrongCode(_("The case number or the receipt code is not correct."))


def _throttle_posts(case: Case) -> None:
    r = throttling.rule("reporter_posts_case")
    key = throttling.key_for("posts", str(case.pk))
    throttling.check((r, key), message=_("Too many messages on this case. Please try again in %(minutes)d minutes."))
    throttling.hit(r, key)


def _clean_body(body: str, field_name: str, *, required: bool) -> str:
    text = (body or "").strip()
    if required and not text:
        raise ValidationFailed({field_name: [_("Write your message.")]})
    if len(text) > MESSAGE_MAX_CHARS:
        raise ValidationFailed(
            {field_name: [_("At most %(n)d characters, please.") % {"n": MESSAGE_MAX_CHARS}]},
        )
    return text


def _reporter_event(
    *, case: Case, action: str, reason: str, data: dict[str, Any], at: datetime, notice: str
) -> CaseEvent:
    """What the reporter does from the portal: a timeline event, and a notice to the holding office.

    `notice` is an untranslated message with a %(number)s placeholder: it is translated here,
    in the office's language, since the reporter may be browsing in another.
    """
    event = event_record(
        case=case,
        action=action,
        from_status=case.status,
        to_status=case.status,
        actor=None,
        office=case.holding_office,
        reason=reason,
        data={**data, "via": "portal"},
        at=at,
    )
    with _office_language():
        notification_create(
            office_id=case.holding_office_id,
            case_id=case.pk,
            kind=Notification.Kind.EVENT,
            message=_(notice) % {"number": case.number},
        )
    return event


def reporter_message_send(*, case: Case, body: str) -> CaseMessage:
    """A message from the reporter to the office holding the case; the office is notified."""
    text = _clean_body(body, "body", required=True)
    _throttle_posts(case)
    now = timezone.now()
    with transaction.atomic():
        message = CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.FROM_REPORTER,
            body=text,
            office_id=case.holding_office_id,
            created_at=now,
        )
        _reporter_event(
            case=case,
            action=EVENT_REPORTER_MESSAGE,
            reason="",
            data={"message": message.pk},
            at=now,
            notice=gettext_noop("The reporter sent a message on case %(number)s."),
        )
    return message


def office_message_send(*, case_number: str, user: User, body: str) -> CaseMessage:
    """A reply from the holding office to the reporter; the reporter's messages count as read."""
    case = case_get_for_user(user=user, number=case_number)
    if user.office_id != case.holding_office_id or not user.has_role(*REPLY_ROLES):
        raise PermissionDenied(_("Only the office holding the case answers its reporter."))
    text = _clean_body(body, "body", required=True)
    now = timezone.now()
    with transaction.atomic():
        message = CaseMessage.objects.create(
            case=case,
            direction=CaseMessage.Direction.FROM_OFFICE,
            body=text,
            office_id=case.holding_office_id,
            author=user,
            created_at=now,
        )
        CaseMessage.objects.filter(
            case=case, direction=CaseMessage.Direction.FROM_REPORTER, read_at__isnull=True
        ).update(read_at=now)
        event_record(
            case=case,
            action=EVENT_OFFICE_MESSAGE,
            from_status=case.status,
            to_status=case.status,
            actor=user,
            office=case.holding_office,
            data={"message": message.pk},
            at=now,
        )
    return message


def office_messages_mark_read(*, case_number: str, user: User) -> int:
    case = case_get_for_user(user=user, number=case_number)
    if user.office_id != case.holding_office_id:
        raise PermissionDenied(_("Only the office holding the case answers its reporter."))
    return CaseMessage.objects.filter(
        case=case, direction=CaseMessage.Direction.FROM_REPORTER, read_at__isnull=True
    ).update(read_at=timezone.now())


def reporter_messages_mark_read(*, case: Case) -> int:
    """The reporter has seen the office's messages (the follow-up page was shown)."""
    return CaseMessage.objects.filter(
        case=case, direction=CaseMessage.Direction.FROM_OFFICE, read_at__isnull=True
    ).update(read_at=timezone.now())


def information_add(*, case: Case, text: str, files: Sequence[File]) -> CaseEvent:
    """More facts or files from the reporter: attachments through the usual checks, and an event."""
    body = _clean_body(text, "text", required=False)
    if not body and not files:
        raise ValidationFailed({"text": [_("Write the new information or attach at least one file.")]})
    if len(files) > ADDITION_MAX_FILES:
        raise ValidationFailed({"attachments": [_("At most %(n)d files at a time.") % {"n": ADDITION_MAX_FILES}]})
    checked = [check_upload(f, field="attachments") for f in files]  # TooLarge (413) or ValidationFailed
    _throttle_posts(case)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("holding_office").get(pk=case.pk)
        names = []
        ids = []
        for item in checked:
            att = attachment_store(case=case, checked=item, uploaded_by=None)
            ids.append(att.pk)
            names.append(item.name)
        event = _reporter_event(
            case=case,
            action=EVENT_REPORTER_ADDED,
            reason=body,
            data={"attachments": ids, "files": names},
            at=now,
            notice=gettext_noop("The reporter added information to case %(number)s."),
        )
    return event


def return_visit_answered(case: Case) -> bool:
    """Whether the reporter answered since the case was last reopened."""
    last_reopen = case.events.filter(action=Action.REOPEN).order_by("-created_at", "-id").first()
    answers = case.events.filter(action=EVENT_REPORTER_RETURN_VISIT)
    if last_reopen is not None:
        answers = answers.filter(created_at__gt=last_reopen.created_at)
    return answers.exists()


def return_visit_record(
    *, case: Case, problem_solved: bool | None, satisfaction: int | None, comment: str = ""
) -> Case:
    """The reporter's answer to the return visit: once per conclusion (again after a reopen)."""
    errors: dict[str, list[str]] = {}
    if problem_solved is None:
        errors["problem_solved"] = [_("Say whether your problem was solved.")]
    if satisfaction is None or not 1 <= satisfaction <= 5:
        errors["satisfaction"] = [_("Choose how satisfied you are, from 1 to 5.")]
    text = _clean_body(comment, "comment", required=False)
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("holding_office").get(pk=case.pk)
        if case.status not in CONCLUDED_STATES:
            raise Conflict(_("The questions about the result open once the case is concluded."))
        if return_visit_answered(case):
            raise Conflict(_("You have already answered these questions. Thank you."))
        case.problem_solved = problem_solved
        case.satisfaction = satisfaction
        case.save(update_fields=["problem_solved", "satisfaction", "updated_at"])
        _reporter_event(
            case=case,
            action=EVENT_REPORTER_RETURN_VISIT,
            reason=text,
            data={"problem_solved": problem_solved, "satisfaction": satisfaction},
            at=now,
            notice=gettext_noop("The reporter answered the return-visit questions on case %(number)s."),
        )
    return case
