"""Statistics periods: parsing, month arithmetic, year-on-year and month-on-month periods."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from qingfeng.core.errors import DomainError

MAX_DAYS = 366 * 10


class BadPeriod(DomainError):
    status_code = 400
    default_message = "The period is not valid."


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clipped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(first: date, last: date) -> list[date]:
    out, cur = [], first.replace(day=1)
    while cur <= last:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive, as asked
    today: date

    @property
    def effective_end(self) -> date:
        """Nothing is received after today: the period as far as it has happened."""
        return min(self.end, self.today)

    @property
    def first_month(self) -> date:
        return self.start.replace(day=1)

    @property
    def last_month(self) -> date:
        return self.end.replace(day=1)

    @property
    def month_aligned(self) -> bool:
        return self.start.day == 1 and (self.end == month_end(self.end) or self.end >= self.today)

    @property
    def exact(self) -> bool:
        """Breakdowns are kept by month: exact when the period is whole months (or runs to today)."""
        return self.month_aligned

    @property
    def n_months(self) -> int:
        return (self.last_month.year - self.first_month.year) * 12 + self.last_month.month - self.first_month.month + 1

    def shifted(self, months: int) -> tuple[date, date]:
        """The same stretch `months` earlier (negative) as far as the period has happened."""
        start = add_months(self.start, months)
        if self.month_aligned and self.effective_end == self.end:
            return start, month_end(add_months(self.end, months))
        return start, add_months(self.effective_end, months)

    def previous(self) -> tuple[date, date]:
        """Month-on-month: the period just before, of the same number of months (or days)."""
        if self.month_aligned:
            return self.shifted(-self.n_months)
        length = (self.effective_end - self.start).days + 1
        return self.start - timedelta(days=length), self.start - timedelta(days=1)

    def last_year(self) -> tuple[date, date]:
        return self.shifted(-12)

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "as_of": self.effective_end.isoformat(),
            "months": [self.first_month.strftime("%Y-%m"), self.last_month.strftime("%Y-%m")],
            "exact": self.exact,
        }


def _parse(value: str, *, end: bool, field: str) -> date:
    value = (value or "").strip()
    try:
        if len(value) == 7:
            first = date.fromisoformat(value + "-01")
            return month_end(first) if end else first
        return date.fromisoformat(value)
    except ValueError:
        raise BadPeriod(
            _("“%(value)s” is not a date: use YYYY-MM-DD or YYYY-MM.") % {"value": value},
            extra={"fields": {field: [_("Use YYYY-MM-DD or YYYY-MM.")]}},
        ) from None


def parse_period(value_from: str | None, value_to: str | None, *, today: date) -> Period:
    """Period from query parameters; by default the current year up to today."""
    start = _parse(value_from, end=False, field="from") if value_from else today.replace(month=1, day=1)
    end = _parse(value_to, end=True, field="to") if value_to else today
    if end < start:
        raise BadPeriod(
            _("The period ends (%(to)s) before it starts (%(from)s).") % {"to": end, "from": start},
            extra={"fields": {"to": [_("Must not be before “from”.")]}},
        )
    if start.year < 2000 or (end - start).days > MAX_DAYS:
        raise BadPeriod(
            _("Choose a period from the year 2000 on, of at most ten years."),
            extra={"fields": {"from": [_("Out of range.")]}},
        )
    return Period(start, end, today)
