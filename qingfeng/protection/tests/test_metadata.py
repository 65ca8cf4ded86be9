"""Reporters' files are stored without identifying metadata."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader, PdfWriter

from qingfeng.cases.attachments import check_upload
from qingfeng.cases.models import Attachment


def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = "王秘密"  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _docx_with_author() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>举报内容</w:document>")
        z.writestr(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>王秘密</dc:creator>'
            "<cp:lastModifiedBy>wangmimi</cp:lastModifiedBy></cp:coreProperties>",
        )
        z.writestr("docProps/app.xml", "<Properties><Company>某某局机密科</Company></Properties>")
    return out.getvalue()


def _pdf_with_author() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_metadata({"/Author": "王秘密", "/Producer": "SecretScanner", "/Title": "举报"})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_jpeg_exif_is_removed_and_orientation_applied(db: Any) -> None:
    raw = _jpeg_with_exif()
    assert "王秘密".encode() in raw or b"PhoneMaker" in raw
    checked = check_upload(SimpleUploadedFile("照片.jpg", raw))
    stored = checked.file.read()
    img = Image.open(io.BytesIO(stored))
    assert not img.getexif()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    assert img.size == (20, 40)  # rotated as the camera meant
    assert checked.sha256 == hashlib.sha256(stored).hexdigest() and checked.size == len(stored)


def test_png_text_chunks_are_removed(db: Any) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "王秘密")
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG", pnginfo=info)
    stored = check_upload(SimpleUploadedFile("a.png", out.getvalue())).file.read()
    assert b"Author" not in stored and Image.open(io.BytesIO(stored)).size == (4, 4)


def test_docx_author_and_company_are_removed(db: Any) -> None:
    checked = check_upload(SimpleUploadedFile("举报信.docx", _docx_with_author()))
    z = zipfile.ZipFile(io.BytesIO(checked.file.read()))
    assert "王秘密" not in z.read("docProps/core.xml").decode()
    assert "wangmimi" not in z.read("docProps/core.xml").decode()
    assert "某某局" not in z.read("docProps/app.xml").decode()
    assert z.read("word/document.xml").decode() == "<w:document>举报内容</w:document>"


def test_pdf_info_dictionary_is_removed(db: Any) -> None:
    assert PdfReader(io.BytesIO(_pdf_with_author())).metadata.get("/Author") == "王秘密"  # type: ignore[union-attr]
    checked = check_upload(SimpleUploadedFile("材料.pdf", _pdf_with_author()))
    stored = checked.file.read()
    meta = PdfReader(io.BytesIO(stored)).metadata
    assert not meta or "/Author" not in meta
    assert b"SecretScanner" not in stored
    assert len(PdfReader(io.BytesIO(stored)).pages) == 1


def test_plain_text_is_stored_as_received(db: Any) -> None:
    data = "原文 Author: x".encode()
    checked = check_upload(SimpleUploadedFile("a.txt", data))
    assert checked.file.read() == data and checked.sha256 == hashlib.sha256(data).hexdigest()


def test_registration_stores_the_cleaned_copy(register: Any, staff: Any) -> None:
    case = register("county", actor=staff("county"), attachments=[SimpleUploadedFile("照片.jpg", _jpeg_with_exif())])
    att = Attachment.objects.get(case=case)
    stored = att.file.open("rb").read()
    assert b"PhoneMaker" not in stored
    assert att.sha256 == hashlib.sha256(stored).hexdigest() and att.size == len(stored)
