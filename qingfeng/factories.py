"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

from typing import Any

import factory

from qingfeng.accounts.models import User, UserRole
from qingfeng.offices.models import Office


def make_office(code: str, name: str | None = None, parent: Office | None = None) -> Office:
    """An office whose level follows the code's length, like the real tree."""
    level = {1: 0, 2: 1, 4: 2, 6: 3, 9: 4}[len(code)] if code != "0" else 0
    path = (parent.path if parent else "/") + code + "/"
    office, _ = Office.objects.get_or_create(
        code=code,
        defaults={
            "name": name or f"Office {code}",
            "level": level,
            "parent": parent,
            "path": path,
            "region_code": code,
        },
    )
    return office


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for role in extracted:
                UserRole.objects.create(user=self, role=role)  # type: ignore[misc]
        self.save()  # type: ignore[attr-defined]
