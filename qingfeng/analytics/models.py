"""Count tables, special topics and early warnings.

Count tables hold, for every office, how many cases *held in its subtree* fall in each bucket:
a case is counted once under its holding office and once under every office above it, so the
statistic of any subtree is an indexed read of that office's rows, never a scan of the cases.

Grain: received *day* for the plain total (`DayCount`: any date range, day-of-week, the daily
series of the early warning), received *month* for every breakdown (what the dashboards show).
A case is attributed to the day/month it was received and counted with its *current* attributes
(state, disposal, return visit …); each workflow event moves it between buckets in the event's
own transaction (`analytics.counting`). `manage.py rebuild_counts` recomputes every table from
the cases and their events with the same code, and must give the same rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class _Count(models.Model):
    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()  # first day of the month the cases were received in
    n = models.IntegerField(default=0)

    class Meta:
        abstract = True


def _unique(name: str, *fields: str) -> list[models.BaseConstraint]:
    # The unique index (office, month, …) is also the read path: office = X AND month BETWEEN a AND b.
    return [models.UniqueConstraint(fields=list(fields), name=name)]


class DayCount(models.Model):  # noqa: DJ008 - a count row
    """Cases received per day in the office's subtree."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = _unique("an_day_uniq", "office", "day")


class ChannelCount(_Count):  # noqa: DJ008 - a count row
    channel = models.CharField(max_length=16)

    class Meta:
        constraints = _unique("an_channel_uniq", "office", "month", "channel")


class ItemTypeCount(_Count):  # noqa: DJ008 - a count row
    item_type = models.CharField(max_length=16)

    class Meta:
        constraints = _unique("an_itemtype_uniq", "office", "month", "item_type")


class OriginCount(_Count):  # noqa: DJ008 - a count row
    """Own level (and its sources) versus transferred or assigned from above *this* office."""

    origin = models.CharField(max_length=16)

    class Meta:
        constraints = _unique("an_origin_uniq", "office", "month", "origin")


class CategoryCount(_Count):  # noqa: DJ008 - a count row
    category = models.CharField(max_length=32)  # Category.code, as registered (leaf or branch)

    class Meta:
        constraints = _unique("an_category_uniq", "office", "month", "category")


class TagCount(_Count):  # noqa: DJ008 - a count row
    tag = models.CharField(max_length=32)  # Tag.code: key areas and special-topic tags

    class Meta:
        constraints = _unique("an_tag_uniq", "office", "month", "tag")


class RankCount(_Count):  # noqa: DJ008 - a count row
    rank = models.CharField(max_length=16)  # rank of the first reported party; "" when none given

    class Meta:
        constraints = _unique("an_rank_uniq", "office", "month", "rank")


class RegionCount(_Count):  # noqa: DJ008 - a count row
    """By child region: the office right below `office` on the way to the holding office (or itself)."""

    child = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = _unique("an_region_uniq", "office", "month", "child")


class StatusCount(_Count):  # noqa: DJ008 - a count row
    status = models.CharField(max_length=16)

    class Meta:
        constraints = _unique("an_status_uniq", "office", "month", "status")


class FlagCount(_Count):  # noqa: DJ008 - a count row
    is_repeat = models.BooleanField()
    is_real_name = models.BooleanField()

    class Meta:
        constraints = _unique("an_flag_uniq", "office", "month", "is_repeat", "is_real_name")


class OutcomeCount(_Count):  # noqa: DJ008 - a count row
    """Handling results of the month's cases: accepted, accepted in time, disposal:<way>, concluded,
    visited, solved, sat:<1-5>."""

    measure = models.CharField(max_length=24)

    class Meta:
        constraints = _unique("an_outcome_uniq", "office", "month", "measure")


class DeadlineCount(_Count):  # noqa: DJ008 - a count row
    """Open deadlines of the month's cases by due date: overdue = due_on < today."""

    due_on = models.DateField()
    serious_on = models.DateField()

    class Meta:
        constraints = _unique("an_deadline_uniq", "office", "month", "due_on", "serious_on")


class PersonCount(_Count):  # noqa: DJ008 - a count row
    """Reports by person, without double counting (see analytics.persons).

    A case counts under (kind, prev_month): prev_month is the month of the same person's previous
    report of that kind in this subtree (1900-01-01 for none). The persons who reported in months
    [a, b] are then SUM(n) over month in [a, b] with prev_month < a.
    """

    kind = models.CharField(max_length=8)  # all | first | repeat
    prev_month = models.DateField()

    class Meta:
        constraints = _unique("an_person_uniq", "office", "month", "kind", "prev_month")


class Topic(models.Model):
    """A special topic (专项) an analyst defines by keywords, categories and regions."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # Keywords are matched as jieba words against the case's title, description and keywords.
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    # Category codes: a case in the category or any category below it matches.
    categories = models.JSONField(_("categories"), default=list, blank=True)
    # Region code prefixes ("11", "1101"): when given, only cases from these regions match.
    regions = models.JSONField(_("regions"), default=list, blank=True)
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("defined by office")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when background tagging of existing cases finished for the current definition.
    tagged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TopicMatch(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="matches")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "case"], name="an_topicmatch_uniq")]
        indexes = [models.Index(fields=["case"], name="an_topicmatch_case")]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.case_id}"


class TopicCount(models.Model):
    """A topic's own statistics: dimension total / child / category / channel / status."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+", db_index=False)
    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    dimension = models.CharField(max_length=12)
    value = models.CharField(max_length=32)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = _unique("an_topiccount_uniq", "topic", "office", "month", "dimension", "value")

    def __str__(self) -> str:
        return f"{self.topic_id}@{self.office_id} {self.month} {self.dimension}={self.value}: {self.n}"


class EarlyWarning(models.Model):
    """An early warning: a series above its expected band, or a party named by several reporters."""

    class Kind(models.TextChoices):
        SURGE = "surge", _("Unusual rise")
        PARTY = "party", _("Party named by several reporters")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISMISSED = "dismissed", _("Dismissed")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("as of"))
    # category:<code>, key_area:<code>, topic:<code>, total, or party:<match key>
    series = models.CharField(max_length=340)
    label = models.CharField(max_length=200, blank=True)
    observed = models.IntegerField()
    expected = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    score = models.FloatField()
    method = models.CharField(max_length=32)
    evidence = models.JSONField(default=dict, blank=True)
    cases = models.ManyToManyField("cases.Case", blank=True, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-as_of", "-score"]
        constraints = [models.UniqueConstraint(fields=["kind", "office", "series", "as_of"], name="an_warning_uniq")]
        indexes = [models.Index(fields=["office", "state", "-as_of"], name="an_warning_office")]

    def __str__(self) -> str:
        return f"{self.kind} {self.series} @{self.office_id} {self.as_of}"
