"""Reads of the office tree. Every "my subtree" question goes through `office_subtree`."""

from __future__ import annotations

from django.db.models import QuerySet

from qingfeng.offices.models import Office


def path_range(path: str) -> tuple[str, str]:
    """The half-open string range [path, path + U+FFFF) that holds exactly the subtree.

    A range on the unique path index is used instead of LIKE 'x%' so PostgreSQL uses the
    b-tree index whatever the database collation.
    """
    return path, path + "\uffff"


def office_subtree(office: Office, *, include_self: bool = True) -> QuerySet[Office]:
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
