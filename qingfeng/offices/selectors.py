"""Reads of the office tree. Every "my subtree" question goes through `office_subtree`."""

from __future__ import annotations

from django.db.models import QuerySet

from qingfeng.offices.models import Office


def path_range(path: str) -> tuple[str, str]:
    """The half-open string range [path, path + U+FFFF) that holds exactly the subtree.

    A range rather than LIKE 'x%' so both SQLite and PostgreSQL answer it from the unique
    b-tree index on `path`. The range is exactly the prefix set because paths compare byte by
    byte: BINARY on SQLite, COLLATE "C" on PostgreSQL (set by migration 0002 whatever the
    database locale).
    """
    return path, path + "\uffff"


def office_subtree(office: Office, *, include_self: bool = True) -> QuerySet[Office]:
    """The office and every office below it: one range scan on the path index, no recursion."""
    low, high = path_range(office.path)
    qs = Office.objects.filter(path__gte=low, path__lt=high)
    if not include_self:
        qs = qs.exclude(pk=office.pk)
    return qs


def office_ancestors(office: Office, *, include_self: bool = True) -> QuerySet[Office]:
    codes = [c for c in office.path.strip("/").split("/") if c]
    if not include_self:
        codes = codes[:-1]
    return Office.objects.filter(code__in=codes).order_by("level")


def office_is_in_subtree(office: Office, root: Office) -> bool:
    return office.path.startswith(root.path)
