"""Attachment checks: type by content (magic bytes), size limits, metadata stripping, storage outside the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from qingfeng.cases.models import Attachment, Case
from qingfeng.core.errors import TooLarge, ValidationFailed
from qingfeng.protection.metadata import strip_metadata, strips

if TYPE_CHECKING:
    from qingfeng.accounts.models import User

# (content type, magic prefix at offset 0); checked in order.
_SIGNATURES: list[tuple[str, bytes]] = [
    ("application/pdf", b"%PDF-"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/gif", b"GIF87a"),
    ("image/gif", b"GIF89a"),
    ("image/tiff", b"II*\x00"),
    ("image/tiff", b"MM\x00*"),
    ("application/zip", b"PK\x03\x04"),  # docx, xlsx, odt … are zip containers
    ("application/x-ole-storage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),  # doc, xls
    ("audio/mpeg", b"ID3"),
    ("audio/mpeg", b"\xff\xfb"),
]
_ZIP_OFFICE = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ALLOWED_DESCRIPTION = "PDF, JPEG, PNG, GIF, TIFF, WebP, Word/Excel (doc, docx, xls, xlsx), MP3, WAV, MP4 or plain text"


def sniff(head: bytes, name: str) -> str | None:
    """The content type the bytes really are, or None when the type is not accepted."""
    for ctype, magic in _SIGNATURES:
        if head.startswith(magic):
            if ctype == "application/zip":
                lower = name.lower()
                for ext, office_type in _ZIP_OFFICE.items():
                    if lower.endswith(ext):
                        return office_type
                return None  # bare zip archives are not accepted: they hide their content
            return ctype
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            try:
                head.decode("gb18030")
            except UnicodeDecodeError:
                return None
        return "text/plain"
    return None


@dataclass(frozen=True)
class CheckedFile:
    file: File
    name: str
    content_type: str
    size: int
    sha256: str


def attachment_store(*, case: Case, checked: CheckedFile, uploaded_by: User | None) -> Attachment:
    """Store a checked file through the storage API and record it on the case (inside the caller's transaction)."""
    att = Attachment(
        case=case,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=uploaded_by,
    )
    att.file.save(checked.name, checked.file, save=False)
    att.save()
    return att


def check_upload(upload: File, *, field: str = "attachments") -> CheckedFile:
    name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:200]
    size = upload.size or 0
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise TooLarge(
            _("“%(name)s” is %(size)s; the limit is %(limit)s per file.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            extra={"field": field, "limit_bytes": limit},
        )
    if size == 0:
        raise ValidationFailed({field: [_("“%(name)s” is empty.") % {"name": name}]})
    upload.seek(0)
    head = upload.read(512)
    ctype = sniff(head, name)
    if ctype is None:
        raise ValidationFailed(
            {
                field: [
                    _("“%(name)s” is not an accepted file type. Accepted: %(types)s.")
                    % {"name": name, "types": ALLOWED_DESCRIPTION}
                ]
            }
        )
    upload.seek(0)
    if strips(ctype):
        # Reporters' files lose identifying metadata (EXIF/GPS, document author …) before storage;
        # what is stored, and hashed, is the cleaned copy.
        cleaned = strip_metadata(upload.read(), ctype)
        return CheckedFile(
            file=ContentFile(cleaned, name=name),
            name=name,
            content_type=ctype,
            size=len(cleaned),
            sha256=hashlib.sha256(cleaned).hexdigest(),
        )
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(file=upload, name=name, content_type=ctype, size=size, sha256=digest.hexdigest())
