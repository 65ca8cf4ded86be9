"""The repeat check as the clerk sees it: candidates for a typed report or a registered case.

The API (`POST /api/v1/repeat-check/`, the registration answer) and the web pages (the
registration form's check button, the case page's panel) all go through here, so the input
is read, the office scope applied and the reasons worded the same way everywhere.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case, ReportedParty
from qingfeng.core.text import clean_whitespace
from qingfeng.intake.services import RegistrationInput
from qingfeng.offices.models import Office
from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatDoc
from qingfeng.repeats.normalize import stored_reporter_hashes
from qingfeng.repeats.scoring import Query, build_query, semantic_percent
from qingfeng.repeats.selectors import Candidate, find_for_query

# States in which a new report can still be linked as a repeat (the workflow's mark_repeat).
LINKABLE_STATES = frozenset({Status.RECEIVED, Status.SCREENED})
# Unflagged candidates at or above this score share the reporter and the reported party:
# worth showing on the case page next to the flagged ones.
HIGH_SCORE = 0.45


def _title_description(title: str, description: str) -> tuple[str, str]:
    # Exactly as case_register stores them, so the embedding the check computes is the one
    # registration finds in the cache (and the text hash matches).
    return clean_whitespace(title)[:200], (description or "").strip()


def query_for_input(*, data: RegistrationInput, embed: bool = True) -> Query:
    """The repeat query for a typed report. Without `embed`, only an already cached vector is used."""
    title, description = _title_description(data.title, data.description)
    rep = data.reporter
    reporter = {"name": rep.name, "phone": rep.phone, "phone2": rep.phone2, "id_number": rep.id_number}
    parties = [{"kind": p.kind, "name": p.name, "unit": p.unit} for p in data.parties]
    vector = None if embed else embedding.cached_case_vector(title, description)
    return build_query(
        title=title,
        description=description,
        reporter=reporter,
        parties=parties,
        region_code=data.region_code or "",
        vector=vector,
        embed=embed,
    )


def query_for_case(*, case: Case, embed: bool = True) -> Query:
    """The repeat query for a registered case, from its stored hashes and vector (no plaintext identity read)."""
    parties: list[dict[str, str]] = [
        {"kind": kind, "name": name, "unit": unit}
        for kind, name, unit in ReportedParty.objects.filter(case=case).values_list("kind", "name", "unit")
    ]
    doc = RepeatDoc.objects.filter(pk=case.pk).values("vector", "vector_model").first()
    vector = None
    if doc and doc["vector_model"] == embedding.vector_tag():
        vector = embedding.from_bytes(doc["vector"])
    if vector is None:
        vector = embedding.cached_case_vector(case.title, case.description)
    q = build_query(
        title=case.title,
        description=case.description,
        reporter=None,
        parties=parties,
        region_code=case.region_code or "",
        vector=vector,
        embed=embed,
    )
    rep = case.reporter if hasattr(case, "reporter") else None
    if rep is not None:
        hashes = stored_reporter_hashes(
            name_hash=rep.name_hash,
            phone_hash=rep.phone_hash,
            phone2_hash=rep.phone2_hash,
            id_number_hash=rep.id_number_hash,
        )
        q = dataclasses.replace(q, reporter=hashes)
    return q


def repeat_check(
    *,
    data: RegistrationInput,
    viewer_office: Office | None,
    exclude_case_id: int | None = None,
    embed: bool = True,
    limit: int = 10,
) -> list[Candidate]:
    """Earlier cases about the same matter as a typed report, best first, in the viewer's office scope."""
    q = query_for_input(data=data, embed=embed)
    return _aware(find_for_query(q=q, viewer_office=viewer_office, exclude_case_id=exclude_case_id, limit=limit))


def audit_identity_probe(*, actor: Any, data: RegistrationInput, found: list[Candidate], channel: str) -> None:
    """A check by phone or ID number tells the clerk where else this person has reported, even when
    it names only the case number: who probed, for which kinds of identifier, and what came back
    goes to the audit log (never the identifiers themselves)."""
    from qingfeng.protection.services import audit_record

    rep = data.reporter
    probed = [k for k, v in (("phone", rep.phone or rep.phone2), ("id_number", rep.id_number)) if v]
    if not probed:
        return
    audit_record(
        actor=actor,
        action="repeat_check_identity",
        object_type="reporter_lookup",
        object_id="-",
        office=getattr(actor, "office_id", None),
        detail={
            "channel": channel,
            "by": probed,
            "candidates": [c.case_number for c in found],
            "restricted": sum(1 for c in found if c.restricted),
        },
    )


def _aware(found: list[Candidate]) -> list[Candidate]:
    # A row read back through raw SQL on SQLite may come as naive UTC; the pages and the API
    # compare and localise these timestamps.
    for c in found:
        if c.received_at is not None and timezone.is_naive(c.received_at):
            c.received_at = timezone.make_aware(c.received_at, UTC)
    return found


def earlier_reports(*, case: Case, viewer_office: Office | None, limit: int = 10) -> list[Candidate]:
    """For the case page: flagged or high-scoring cases received before this one."""
    q = query_for_case(case=case)
    found = _aware(find_for_query(q=q, viewer_office=viewer_office, exclude_case_id=case.pk, limit=limit))
    out = []
    for c in found:
        received = c.received_at
        # Registered before it, or received before it (the form keeps the minute only, and a
        # backlog letter may be registered after a newer report).
        earlier = c.case_id < case.pk or (received is not None and received < case.received_at)
        if earlier and (c.flag or c.score >= HIGH_SCORE or c.restricted):
            out.append(c)
    return out


# --- wording ---------------------------------------------------------------------------------


def _party_reason(c: Candidate, code: str) -> str:
    english = next((r for s, r in zip(c.signals, c.reasons, strict=False) if s == code), "")
    organisation = "organisation" in english
    if code == "same_party_name":
        return _("same reported organisation name") if organisation else _("same reported person name")
    return _("same reported organisation") if organisation else _("same reported person")


# Lazy, so each is translated (when str() is taken) into the language of the request at hand.
_FIXED_REASONS = {
    "same_id_number": gettext_lazy("same ID number"),
    "same_phone": gettext_lazy("same phone"),
    "same_person": gettext_lazy("same reporter (linked through earlier reports)"),
    "same_name": gettext_lazy("same reporter name"),
    "same_place": gettext_lazy("same place"),
    "same_county": gettext_lazy("same county"),
    "other_place": gettext_lazy("the titles name different places"),
    "other_region": gettext_lazy("problem regions differ"),
}


def candidate_reasons(c: Candidate) -> list[str]:
    """The candidate's reasons in the user's language (scoring words them in English)."""
    out = []
    for code, english in zip(c.signals, c.reasons, strict=False):
        if code in _FIXED_REASONS:
            out.append(str(_FIXED_REASONS[code]))
        elif code in ("same_party", "same_party_name"):
            out.append(_party_reason(c, code))
        elif code == "similar_text" and c.text_similarity is not None:
            out.append(_("text %(percent)d%% similar") % {"percent": round(100 * c.text_similarity)})
        elif code == "similar_meaning" and c.semantic_similarity is not None:
            out.append(_("meaning %(percent)d%% similar") % {"percent": semantic_percent(c.semantic_similarity)})
        else:
            out.append(english)  # a signal added to scoring later: its English wording
    return out


def candidate_payload(c: Candidate) -> dict[str, Any]:
    """One candidate as the API returns it. A restricted one gives its number and holding office only."""
    base: dict[str, Any] = {
        "case_number": c.case_number,
        "holding_office": c.holding_office,
        "restricted": c.restricted,
        "score": c.score,
        "flag": c.flag,
        "reasons": candidate_reasons(c),
        "signals": list(c.signals),
    }
    if c.restricted:
        return base | {
            "external_id": None,
            "title": None,
            "received_at": None,
            "state": None,
            "disposal": None,
            "outcome": None,
            "return_visit": None,
            "text_similarity": None,
            "semantic_similarity": None,
        }
    return base | {
        "external_id": c.external_id,
        "title": c.title,
        "received_at": c.received_at,
        "state": {"status": c.status, "label": c.status_label},
        "disposal": {"way": c.disposal_way, "label": c.disposal_label} if c.disposal_way else None,
        "outcome": {
            "inquiry_outcome": c.inquiry_outcome,
            "substantiation": c.substantiation,
            "label": c.outcome_label,
            "conclusion": c.conclusion,
        },
        "return_visit": {"problem_solved": c.problem_solved, "satisfaction": c.satisfaction},
        "text_similarity": c.text_similarity,
        "semantic_similarity": c.semantic_similarity,
    }
