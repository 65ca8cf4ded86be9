"""Writes for staff accounts."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from qingfeng.accounts.models import Role, User, UserRole
from qingfeng.offices.models import Office


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    office: Office | None,
    roles: Iterable[str],
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    user = User(
        username=username, office=office, display_name=display_name, is_staff=is_staff, is_superuser=is_superuser
    )
    user.set_password(password)
    user.save()
    valid = set(Role.values)
    for role in set(roles):
        if role not in valid:
            raise ValueError(f"unknown role {role!r}")
        UserRole.objects.create(user=user, role=role)
    return user
