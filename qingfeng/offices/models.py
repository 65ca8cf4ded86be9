"""The office tree: one commission office per administrative region."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Office(models.Model):
    class Level(models.IntegerChoices):
        NATIONAL = 0, _("National")
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        COUNTY = 3, _("County")
        SUBDISTRICT = 4, _("Sub-district")

    # The region's statistical division code ("11", "1101", "110101", "110101001"); "0" is national.
    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path of codes, "/0/11/1101/110101/": a subtree is one indexed prefix range.
    # On PostgreSQL migration 0002 gives this column the "C" collation so the range compares bytes
    # whatever the database locale; an AlterField on it must keep that (see 0002_office_region_name).
    path = models.CharField(max_length=80, unique=True)
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    # The region's display name ("北京市市辖区"); `name` is the office's ("北京市市辖区纪委监委").
    region_name = models.CharField(_("region name"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["path"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name

    @property
    def is_national(self) -> bool:
        return self.level == self.Level.NATIONAL
