"""The persistent repeat index: one row per case, MinHash band rows, and person clusters.

Everything the detector needs is in these tables (SQLite and PostgreSQL alike), written in
the registration transaction. The in-process vector index (vectors.py) is only a cache of
RepeatDoc.vector and can always be rebuilt from here.
"""

from __future__ import annotations

from django.db import models


class RepeatPerson(models.Model):
    """A person cluster: reports linked by a shared phone number or ID number.

    Its id is the `reporter_key` that statistics count distinct persons by.
    """

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"person {self.pk}"


class RepeatPersonKey(models.Model):
    """A keyed identity hash ("phone:<hmac>", "id:<hmac>") and the person it belongs to."""

    key = models.CharField(max_length=80, unique=True)
    person = models.ForeignKey(RepeatPerson, on_delete=models.CASCADE, related_name="keys")

    def __str__(self) -> str:
        return self.key[:16]


class RepeatDoc(models.Model):
    """What the index knows about one case."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="repeat_doc")
    # Person cluster of the reporter (RepeatPerson id); null when the reporter left no phone or ID.
    reporter_key = models.BigIntegerField(null=True, blank=True, db_index=True)
    region_code = models.CharField(max_length=12, blank=True)
    # blake2b of the indexed text, so re-indexing an unchanged case skips the embedding.
    text_hash = models.CharField(max_length=32)
    # float16 little-endian, L2-normalised; null when no embedding model was available.
    vector = models.BinaryField(null=True, blank=True)
    vector_model = models.CharField(max_length=60, blank=True)
    indexed_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["region_code"], name="repeatdoc_region")]

    def __str__(self) -> str:
        return f"repeat doc {self.pk}"


class RepeatBand(models.Model):
    """One LSH band of a case's MinHash signature: cases sharing a band are near-duplicates."""

    id = models.BigAutoField(primary_key=True)
    band = models.BigIntegerField()
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["band", "case"], name="repeatband_band_case"),
            models.Index(fields=["case"], name="repeatband_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.band}"
