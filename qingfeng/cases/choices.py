"""Code lists of the unified entry standard (see docs in shared/docs/domain.md)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    SCREENED = "screened", _("Screened")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    REPEAT = "repeat", _("Repeat")
    ACCEPTED = "accepted", _("Accepted")
    DISPOSED = "disposed", _("Being handled")
    SHELVED = "shelved", _("Shelved pending")
    CONCLUDED = "concluded", _("Concluded")
    FED_BACK = "fed_back", _("Fed back")
    ARCHIVED = "archived", _("Archived")


class Channel(models.TextChoices):
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone call")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    OWN_LEVEL = "own_level", _("Own level")
    TRANSFERRED = "transferred", _("Transferred from above")
    ASSIGNED = "assigned", _("Assigned from above")
    INSPECTION = "inspection", _("Inspection tour")
    AUDIT = "audit", _("Audit")
    REFERRAL = "referral", _("Referral from law enforcement or courts")


class ItemType(models.TextChoices):
    ACCUSATION = "accusation", _("Accusation or report")
    APPEAL = "appeal", _("Appeal")
    SUGGESTION = "suggestion", _("Criticism or suggestion")
    OUTSIDE_REMIT = "outside_remit", _("Outside remit")
    NO_SUBSTANCE = "no_substance", _("No substance")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    VERY_URGENT = "very_urgent", _("Very urgent")


class Rank(models.TextChoices):
    PROVINCIAL = "provincial", _("Provincial or ministerial")
    BUREAU = "bureau", _("Bureau")
    COUNTY = "county", _("County or division")
    TOWNSHIP = "township", _("Township or section")
    ORDINARY = "ordinary", _("Ordinary cadre")
    VILLAGE = "village", _("Village cadre")
    INSTITUTION = "institution", _("Public institution")
    ENTERPRISE = "enterprise", _("Enterprise")
    COMMUNITY = "community", _("Community")
    OTHER = "other", _("Other")


class HandlingMode(models.TextChoices):
    SELF = "self", _("Handle ourselves")
    TRANSFER = "transfer", _("Transfer")
    ASSIGN = "assign", _("Assign")
    SUPERVISE = "supervise", _("Supervise")
    ASSIST = "assist", _("Assist")


class DisposalWay(models.TextChoices):
    INQUIRY = "inquiry", _("Talk or written inquiry")
    VERIFICATION = "verification", _("Preliminary verification")
    SHELVED = "shelved", _("Shelved pending")
    CLOSED = "closed", _("Closed")
    INVESTIGATION = "investigation", _("Referral to review and investigation")


class InquiryOutcome(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    REMINDER = "reminder", _("Reminder talk")
    CRITICISM = "criticism", _("Criticism")


class Substantiation(models.TextChoices):
    SUBSTANTIATED = "substantiated", _("Substantiated")
    PARTLY = "partly", _("Partly substantiated")
    UNSUBSTANTIATED = "unsubstantiated", _("Not substantiated")


class NotAcceptedReason(models.TextChoices):
    LITIGATION = "litigation", _("Belongs to litigation, arbitration or administrative review")
    OTHER_BODY = "other_body", _("Within another body's remit")
    NO_SUBSTANCE = "no_substance", _("No substance")


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "", _("Not given")
