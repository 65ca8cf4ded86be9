"""Strip metadata that could identify a reporter from uploaded files.

Images are re-encoded by Pillow without EXIF/XMP/text chunks (orientation applied first);
Office Open XML files get new docProps/core.xml and app.xml without author, company,
last-modified-by and the like; PDFs lose their document information dictionary and XMP.
Anything else, or a file that fails to parse, is returned unchanged (the type check has
already accepted it).
"""

from __future__ import annotations

import io
import logging
import zipfile

logger = logging.getLogger(__name__)

_IMAGE_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/tiff": "TIFF",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
_OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
_DROP_PARTS = {"docProps/custom.xml", "docProps/thumbnail.jpeg", "docProps/thumbnail.jpg", "docProps/thumbnail.png"}


def _image(data: bytes, fmt: str) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as src:
        frames = getattr(src, "n_frames", 1)
        if fmt == "GIF" and frames > 1:
            # Animated GIFs: keep the frames and their timing, drop comments and extensions.
            out = io.BytesIO()
            src.info.pop("comment", None)
            src.save(out, format="GIF", save_all=True, duration=src.info.get("duration"), loop=src.info.get("loop", 0))
            return out.getvalue()
        img = ImageOps.exif_transpose(src)
        clean = Image.new(img.mode, img.size)
        clean.paste(img)
        if img.mode == "P" and img.getpalette():
            clean.putpalette(img.getpalette() or [])
        if "transparency" in img.info and fmt in ("PNG", "GIF"):
            clean.info["transparency"] = img.info["transparency"]
    out = io.BytesIO()
    params: dict[str, object] = {}
    if fmt == "JPEG":
        params = {"quality": 95}
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
    clean.save(out, format=fmt, **params)
    return out.getvalue()


def _ooxml(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = info.filename
            if name in _DROP_PARTS:
                continue  # still named in [Content_Types].xml/_rels; Office tolerates a missing optional part
            if name == "docProps/core.xml":
                content = _CORE_XML.encode()
            elif name == "docProps/app.xml":
                content = _APP_XML.encode()
            else:
                content = src.read(name)
            new = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = info.external_attr
            dst.writestr(new, content)
    return out.getvalue()


def _pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    root = writer._root_object
    if NameObject("/Metadata") in root:
        del root[NameObject("/Metadata")]
    # Drop the info dictionary entirely from the trailer.
    writer._info = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def strip_metadata(data: bytes, content_type: str) -> bytes:
    try:
        if content_type in _IMAGE_FORMATS:
            return _image(data, _IMAGE_FORMATS[content_type])
        if content_type in _OOXML:
            return _ooxml(data)
        if content_type == "application/pdf":
            return _pdf(data)
    except Exception:  # a damaged file is stored as received; the type check already passed
        logger.warning("could not strip metadata from a %s upload", content_type, exc_info=True)
    return data


def strips(content_type: str) -> bool:
    return content_type in _IMAGE_FORMATS or content_type in _OOXML or content_type == "application/pdf"
