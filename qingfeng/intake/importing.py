"""Import of historical reports from CSV, XLSX or JSON Lines (`manage.py import_reports`).

Every row becomes a case through `case_register`, in its own transaction: a bad row is reported
with its line number and never blocks the good ones, and a row whose `external_id` the office
already has is skipped, so running an import twice imports nothing twice.

Fields (the column names of a file without a mapping; case-insensitive):

    required  external_id, received_at, channel, title, description
    optional  reporter_name, reporter_phone, reporter_id_number, anonymous, region_code, category,
              reported_name, reported_unit, status, outcome, concluded_at

- received_at, concluded_at: 2019/4/25 9:32:09, 2019-04-25 09:32, 2019年4月25日 9时32分, 2019.4.25,
  20190425, ISO 8601 with T, Z or an offset, Excel date cells and serial numbers. Times without a
  zone are local (settings.TIME_ZONE); a date alone means midnight.
- channel: letter/来信, visit/来访, phone/来电, online/网络/网上/网站, other/其他.
- anonymous: 是/否, true/false, 1/0, yes/no, 匿名/实名. Left blank, a row with a reporter_name
  is a real-name report and one without is anonymous.
- region_code: where the problem happened (2, 4, 6 or 9 digits); blank means the office's own.
- category: codes or names of problem categories, several separated by ; , 、 or |.
- reported_name, reported_unit: one reported person and their unit (a unit alone is an organisation).
- status: a workflow state (received, accepted, concluded, fed_back, archived …) or its Chinese name
  (受理, 办结, 已答复, 归档 …). outcome is the result (e.g. the official reply), kept as the
  conclusion; concluded_at is when it was given. A row with an outcome and no status is concluded.
  An imported case is registered as received and then put in its final state by one "import"
  event: nobody pretends to have screened, accepted or concluded it. Closed historical cases get
  no open deadline; open ones keep the deadlines that run from received_at.

A mapping file (JSON, `--mapping`) adapts a file with other column names:

    {
      "columns":   {"external_id": "留言编号", "received_at": "留言时间", "description": ["正文", "补充"]},
      "defaults":  {"channel": "online", "anonymous": true, "region_code": "43"},
      "constants": {"category": "mass"},
      "status_if_present": {"column": "答复意见", "value": "fed_back"},
      "format": "csv", "encoding": "gb18030", "delimiter": ",", "sheet": "Sheet1",
      "comment": "free text"
    }

- columns: field -> source column, or a list of columns whose non-blank values are joined (with a
  blank line for description and outcome, a space otherwise: a date and a time column join well).
  Fields a mapping does not name are read from columns of their own name.
- defaults fill blank cells and missing columns; constants replace whatever the file says.
- status_if_present (one rule or a list): when the status is blank, the first rule whose column is
  not blank gives the status.
- format, encoding, delimiter, sheet: how to read the file (otherwise guessed; the first sheet).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.choices import Channel, DisposalWay, PartyKind, Status
from qingfeng.cases.models import Case, Category
from qingfeng.cases.services import event_record
from qingfeng.core.errors import DomainError, ValidationFailed
from qingfeng.core.text import clean_whitespace
from qingfeng.deadlines.services import REFRESH_FIELDS, case_refresh_next_deadline
from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput, case_register
from qingfeng.offices.models import Office

IMPORT_ACTION = "import"
REQUIRED = ("external_id", "received_at", "channel", "title", "description")
OPTIONAL = (
    "reporter_name",
    "reporter_phone",
    "reporter_id_number",
    "anonymous",
    "region_code",
    "category",
    "reported_name",
    "reported_unit",
    "status",
    "outcome",
    "concluded_at",
)
FIELDS = REQUIRED + OPTIONAL
FORMATS = ("csv", "xlsx", "jsonl")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_PARAGRAPH_FIELDS = {"description", "outcome"}
_MAPPING_KEYS = {"columns", "defaults", "constants", "status_if_present", "format", "encoding", "delimiter", "sheet"}
_MAPPING_COMMENTS = {"comment", "_comment"}
# States an imported case reaches only after a conclusion: they keep the outcome and its date.
_CONCLUDED = {Status.CONCLUDED, Status.FED_BACK, Status.ARCHIVED}
_MAX_LENGTH = {"external_id": 64, "reported_name": 100, "reported_unit": 200}
# Where case_register's field errors are reported, in the import's own field names.
_ERROR_FIELDS = {
    "reporter.name": "reporter_name",
    "reporter.phone": "reporter_phone",
    "reporter.id_number": "reporter_id_number",
    "parties[0].name": "reported_name",
    "categories": "category",
}


class ImportFileError(Exception):
    """The file (or the mapping) as a whole cannot be imported."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}" if self.field else f"line {self.line}: {self.message}"


class RowInvalid(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


# --- value parsing -------------------------------------------------------------------------

_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ".0", Excel's _x000D_ escapes decoded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if "_x" in text:
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def clean_paragraphs(value: str) -> str:
    """Tidy a long text and keep its paragraphs: each line trimmed, runs of blank lines cut to one."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,6})\d*)?)?\s*[分秒]?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:T?(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Excel serial numbers from 1950-01-01 to 2099-12-31; anything else is not taken for a date.
_SERIAL_RANGE = (18264, 73051)


def _aware(value: datetime) -> datetime:
    if value.year < 1900:
        raise ValueError(_("“%(value)s” is too long ago to be a date here.") % {"value": value.date()})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _from_serial(number: float) -> datetime:
    if not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        raise ValueError(_("%(value)s is not a date.") % {"value": cell_text(number)})
    return _EXCEL_EPOCH + timedelta(days=number)


def parse_datetime(value: Any) -> datetime:
    """A timezone-aware datetime from the date and time formats found in registers (see module doc)."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return _aware(datetime(value.year, value.month, value.day))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _aware(_from_serial(float(value)))
    text = clean_whitespace(unicodedata.normalize("NFKC", cell_text(value)))
    if not text:
        raise ValueError(_("This field is required."))
    bad = ValueError(_("“%(value)s” is not a date and time we can read.") % {"value": text})
    match = _DATE.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        if _SERIAL.fullmatch(text):
            return _aware(_from_serial(float(text)))
        try:
            return _aware(datetime.fromisoformat(text))
        except ValueError:
            raise bad from None
    parts = match.groupdict()
    fraction = (parts.get("f") or "").ljust(6, "0")
    try:
        result = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
            int(fraction),
        )
    except ValueError:
        raise ValueError(_("“%(value)s” is not a real date or time.") % {"value": text}) from None
    tz = parts.get("tz")
    if tz:
        result = datetime.fromisoformat(f"{result.isoformat()}{'+00:00' if tz.upper() == 'Z' else tz}")
    return _aware(result)


_TRUE = {"1", "true", "t", "yes", "y", "是", "匿名", "真", "对"}
_FALSE = {"0", "false", "f", "no", "n", "否", "实名", "假", "不"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = clean_whitespace(cell_text(value)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("“%(value)s” is not yes or no (是/否, true/false, 1/0, 匿名/实名).") % {"value": text})


_ALIASES: dict[str, tuple[Any, dict[str, list[str]]]] = {
    "channel": (
        Channel,
        {
            Channel.LETTER: ["来信", "信件", "书信", "写信", "信", "mail", "post"],
            Channel.VISIT: ["来访", "走访", "上访", "访", "visit in person"],
            Channel.PHONE: ["来电", "电话", "电话举报", "12388", "tel", "telephone", "call"],
            Channel.ONLINE: [
                "网络",
                "网上",
                "网站",
                "网络举报",
                "网上举报",
                "在线",
                "留言",
                "互联网",
                "web",
                "internet",
            ],
            Channel.OTHER: ["其他", "其它"],
        },
    ),
    "status": (
        Status,
        {
            Status.RECEIVED: ["接收", "已接收", "登记", "已登记", "待处理", "待筛选"],
            Status.SCREENED: ["筛选", "已筛选"],
            Status.NOT_ACCEPTED: ["不予受理", "不受理"],
            Status.REPEAT: ["重复件", "重复"],
            Status.ACCEPTED: ["受理", "已受理"],
            Status.DISPOSED: ["处置", "处置中", "办理中", "在办"],
            Status.SHELVED: ["暂存待查", "暂存"],
            Status.CONCLUDED: ["办结", "已办结", "了结", "已了结"],
            Status.FED_BACK: ["反馈", "已反馈", "答复", "已答复", "已回复"],
            Status.ARCHIVED: ["归档", "已归档"],
        },
    ),
}


@cache
def _aliases(kind: str) -> dict[str, str]:
    """Values, their labels in every language the site offers, and common synonyms -> value."""
    choices, extra = _ALIASES[kind]
    table = {}
    for language in ["en", *(code for code, _name in settings.LANGUAGES)]:
        with translation.override(language):
            table.update({str(label).lower(): value for value, label in choices.choices})
    table.update({word.lower(): value for value, words in extra.items() for word in words})
    table.update({value: value for value in choices.values})
    return table


def _choice(table: dict[str, str], value: Any, what: str) -> str:
    text = clean_whitespace(unicodedata.normalize("NFKC", cell_text(value))).lower()
    found = table.get(text) or table.get(text.replace(" ", "_"))
    if found is None:
        raise ValueError(_("“%(value)s” is not a known %(what)s.") % {"value": text, "what": what})
    return found


def parse_channel(value: Any) -> str:
    return _choice(_aliases("channel"), value, _("channel (letter, visit, phone, online, other)"))


def parse_status(value: Any) -> str:
    return _choice(_aliases("status"), value, _("state (%(states)s)") % {"states": ", ".join(Status.values)})


class CategoryIndex:
    """Problem categories by code or by name, read once per import."""

    _SPLIT = re.compile(r"[;；,，、|\n]+")

    def __init__(self) -> None:
        self.by_code: dict[str, Category] = {}
        self.by_name: dict[str, list[Category]] = {}
        for cat in Category.objects.all():
            self.by_code[cat.code.lower()] = cat
            for name in {cat.name.strip(), cat.name_en.strip().lower()} - {""}:
                self.by_name.setdefault(name, []).append(cat)

    def codes(self, value: Any) -> list[str]:
        out: list[str] = []
        text = ";".join(map(cell_text, value)) if isinstance(value, list | tuple) else cell_text(value)
        for raw in self._SPLIT.split(text):
            word = clean_whitespace(raw)
            if not word:
                continue
            found = self.by_code.get(word.lower())
            if found is None:
                named = self.by_name.get(word) or self.by_name.get(word.lower()) or []
                active = [c for c in named if c.active] or named
                if len(active) > 1:
                    codes = ", ".join(c.code for c in active)
                    raise ValueError(
                        _("“%(value)s” names several categories (%(codes)s): give the code.")
                        % {"value": word, "codes": codes}
                    )
                found = active[0] if active else None
            if found is None:
                raise ValueError(_("“%(value)s” is not a problem category (by code or name).") % {"value": word})
            if not found.active:
                raise ValueError(_("The category “%(value)s” is no longer in use.") % {"value": word})
            if found.code not in out:
                out.append(found.code)
        return out


# --- mapping -------------------------------------------------------------------------------


@dataclass
class Mapping:
    """How the columns of a source file become the import's fields (see the module docstring)."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    status_rules: list[tuple[str, str]] = field(default_factory=list)
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @classmethod
    def load(cls, path: Path | str) -> Mapping:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ImportFileError(
                _("Cannot read the mapping file %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                _("The mapping file %(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc}
            ) from exc
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Any) -> Mapping:
        def fail(message: str) -> ImportFileError:
            return ImportFileError(_("Mapping: %(message)s") % {"message": message})

        if not isinstance(raw, dict):
            raise fail(_("the file must hold one JSON object."))
        unknown = set(raw) - _MAPPING_KEYS - _MAPPING_COMMENTS
        if unknown:
            raise fail(_("unknown keys %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
        mapping = cls()
        for key in ("format", "encoding", "delimiter", "sheet"):
            if raw.get(key) is not None:
                setattr(mapping, key, str(raw[key]))
        if mapping.format and mapping.format not in FORMATS:
            raise fail(_("format must be one of %(formats)s.") % {"formats": ", ".join(FORMATS)})
        if mapping.encoding:
            try:
                codecs.lookup(mapping.encoding)
            except LookupError:
                raise fail(_("unknown encoding “%(value)s”.") % {"value": mapping.encoding}) from None
        for section in ("columns", "defaults", "constants"):
            values = raw.get(section) or {}
            if not isinstance(values, dict):
                raise fail(_("“%(section)s” must be an object.") % {"section": section})
            unknown = set(values) - set(FIELDS)
            if unknown:
                raise fail(
                    _("“%(section)s” names unknown fields %(fields)s; the fields are: %(all)s.")
                    % {"section": section, "fields": ", ".join(sorted(unknown)), "all": ", ".join(FIELDS)}
                )
        for name, columns in (raw.get("columns") or {}).items():
            names = [columns] if isinstance(columns, str) else columns
            if not isinstance(names, list) or not names or not all(isinstance(c, str) and c.strip() for c in names):
                raise fail(_("the column of “%(field)s” must be a column name or a list of them.") % {"field": name})
            mapping.columns[name] = [c.strip() for c in names]
        for section in ("defaults", "constants"):
            values = raw.get(section) or {}
            for name, value in values.items():
                if isinstance(value, dict | list):
                    raise fail(_("%(section)s.%(field)s must be a single value.") % {"section": section, "field": name})
                try:
                    _check_value(name, value)
                except ValueError as exc:
                    raise fail(f"{section}.{name}: {exc}") from None
            getattr(mapping, section).update(values)
        rules = raw.get("status_if_present") or []
        for rule in [rules] if isinstance(rules, dict) else rules:
            if not isinstance(rule, dict) or not isinstance(rule.get("column"), str) or "value" not in rule:
                raise fail(_('status_if_present takes {"column": …, "value": …} (or a list of them).'))
            try:
                mapping.status_rules.append((rule["column"].strip(), parse_status(rule["value"])))
            except ValueError as exc:
                raise fail(f"status_if_present: {exc}") from None
        return mapping

    def source_columns(self, name: str) -> list[str]:
        return self.columns.get(name, [name])


def _check_value(name: str, value: Any) -> None:
    """Defaults and constants are checked when the mapping is read, not once per row."""
    if value in (None, ""):
        return
    checks: dict[str, Callable[[Any], Any]] = {
        "channel": parse_channel,
        "status": parse_status,
        "anonymous": parse_bool,
        "received_at": parse_datetime,
        "concluded_at": parse_datetime,
    }
    if name in checks:
        checks[name](value)


# --- readers -------------------------------------------------------------------------------


@dataclass
class SourceRow:
    line: int
    values: dict[str, Any]
    error: str = ""  # the row could not be read at all


@dataclass
class Source:
    name: str
    columns: list[str] | None  # the header; None for JSON Lines, where each line names its keys
    rows: Iterator[SourceRow]


def _header(cells: Iterable[Any]) -> list[str]:
    names = [clean_whitespace(cell_text(c).lstrip("\ufeff")) for c in cells]
    seen: set[str] = set()
    for name in names:
        if name and name.lower() in seen:
            raise ImportFileError(_("The column “%(name)s” appears twice in the header.") % {"name": name})
        seen.add(name.lower())
    if not any(names):
        raise ImportFileError(_("The first line must name the columns; it is blank."))
    return names


def _row(header: list[str], cells: list[Any] | tuple[Any, ...], line: int) -> SourceRow:
    values = {name: cell for name, cell in zip(header, cells, strict=False) if name}
    extra = [c for c in cells[len(header) :] if cell_text(c).strip()]
    if extra:
        return SourceRow(
            line, values, _("%(n)d cells, but the header names %(m)d columns.") % {"n": len(cells), "m": len(header)}
        )
    return SourceRow(line, values)


def _blank(cells: Iterable[Any]) -> bool:
    return not any(cell_text(c).strip() for c in cells)


def _decode(data: bytes, encoding: str | None) -> str:
    for candidate in [encoding] if encoding else ["utf-8-sig", "gb18030"]:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_('The file is neither UTF-8 nor GB18030 text: set "encoding" in a mapping file.'))


def read_csv(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Source:
    """CSV in UTF-8 (with or without BOM) or GB18030. Line numbers are physical lines: a quoted
    multi-line value spans several, and a row is reported at the line where it starts."""
    text = _decode(path.read_bytes(), encoding)
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first = text.split("\n", 1)[0]
    if delimiter is None:
        delimiter = max([",", "\t", ";"], key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _header(next(reader))
    except csv.Error as exc:
        raise ImportFileError(_("Cannot read the header: %(error)s") % {"error": exc}) from exc

    def rows() -> Iterator[SourceRow]:
        start = reader.line_num + 1
        try:
            for cells in reader:
                if not _blank(cells):
                    yield _row(header, cells, start)
                start = reader.line_num + 1
        except csv.Error as exc:
            yield SourceRow(start, {}, _("Cannot read the rest of the file from here: %(error)s") % {"error": exc})

    return Source(path.name, header, rows())


def read_xlsx(path: Path, *, sheet: str | None = None) -> Source:
    """The first (or named) sheet of a workbook; row 1 is the header and rows keep Excel's numbers."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            _("%(name)s is not a readable XLSX workbook: %(error)s") % {"name": path.name, "error": exc}
        ) from exc
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise ImportFileError(_("The workbook has no sheet “%(sheet)s”.") % {"sheet": sheet})
    ws = book[sheet] if sheet else book.worksheets[0]
    ws.reset_dimensions()  # some writers store a wrong size; read what is there
    cells = ws.iter_rows(values_only=True)
    first = next(cells, None)
    if first is None or _blank(first):
        book.close()
        raise ImportFileError(
            _("The file is empty.") if first is None else _("The first row must name the columns; it is blank.")
        )
    header = _header(first)

    def rows() -> Iterator[SourceRow]:
        try:
            for number, values in enumerate(cells, start=2):
                if not _blank(values):
                    yield _row(header, values, number)
        finally:
            book.close()

    return Source(path.name, header, rows())


def read_jsonl(path: Path) -> Source:
    """One JSON object per line; a line that is not one is an error for that line only."""
    data = path.read_bytes()
    if not data.strip():
        raise ImportFileError(_("The file is empty."))

    def rows() -> Iterator[SourceRow]:
        for number, raw in enumerate(data.split(b"\n"), start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                yield SourceRow(number, {}, _("This line is not UTF-8 text."))
                continue
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield SourceRow(number, {}, _("Not valid JSON: %(error)s.") % {"error": exc})
                continue
            if not isinstance(obj, dict):
                yield SourceRow(number, {}, _("Each line must be a JSON object {…}."))
                continue
            yield SourceRow(number, {str(k).strip(): v for k, v in obj.items()})

    return Source(path.name, None, rows())


def guess_format(path: Path) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            _("Cannot tell the format of %(name)s from its extension: use .csv, .xlsx or .jsonl, or --format.")
            % {"name": path.name}
        )
    return fmt


def open_source(path: Path, *, fmt: str | None = None, mapping: Mapping | None = None) -> Source:
    mapping = mapping or Mapping()
    fmt = fmt or mapping.format or guess_format(path)
    if fmt not in FORMATS:
        raise ImportFileError(
            _("Unknown format “%(fmt)s”: use %(formats)s.") % {"fmt": fmt, "formats": ", ".join(FORMATS)}
        )
    if not path.is_file():
        raise ImportFileError(_("Cannot read %(path)s: no such file.") % {"path": path})
    try:
        if fmt == "csv":
            return read_csv(path, encoding=mapping.encoding, delimiter=mapping.delimiter)
        if fmt == "xlsx":
            return read_xlsx(path, sheet=mapping.sheet)
        return read_jsonl(path)
    except OSError as exc:
        raise ImportFileError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror or exc}
        ) from exc


# --- rows to registrations -----------------------------------------------------------------


@dataclass
class ParsedRow:
    line: int
    external_id: str
    data: RegistrationInput
    status: str
    outcome: str
    concluded_at: datetime | None


class RowParser:
    """Turns source rows into registration input, with the errors of each field."""

    def __init__(self, mapping: Mapping, columns: list[str] | None, office: Office) -> None:
        self.mapping = mapping
        self.office = office
        self.categories = CategoryIndex()
        self.unused: set[str] = set()
        if columns is None:
            self.lookup: dict[str, str] | None = None
            return
        self.lookup = {c.lower(): c for c in columns if c}
        missing = []
        for name in FIELDS:
            wanted = mapping.source_columns(name)
            present = [c for c in wanted if c.lower() in self.lookup]
            explicit = name in mapping.columns
            if explicit and len(present) < len(wanted):
                absent = ", ".join(f"“{c}”" for c in wanted if c.lower() not in self.lookup)
                missing.append(_("%(field)s (mapped to %(columns)s)") % {"field": name, "columns": absent})
            elif name in REQUIRED and not present and not self._fixed(name):
                missing.append(_("%(field)s (required)") % {"field": name})
        for column, _status in mapping.status_rules:
            if column.lower() not in self.lookup:
                missing.append(_("status_if_present (mapped to “%(column)s”)") % {"column": column})
        if missing:
            raise ImportFileError(
                _("Columns missing from the file: %(columns)s. The header has: %(header)s.")
                % {"columns": "; ".join(missing), "header": ", ".join(c for c in columns if c)}
            )
        used = {c.lower() for name in FIELDS for c in mapping.source_columns(name)} | {
            c.lower() for c, _s in mapping.status_rules
        }
        self.unused = {c for c in columns if c and c.lower() not in used}

    def _fixed(self, name: str) -> bool:
        return self.mapping.constants.get(name) not in (None, "") or self.mapping.defaults.get(name) not in (None, "")

    def _cell(self, values: dict[str, Any], column: str) -> Any:
        if self.lookup is None:  # JSON Lines: keys as written, or case-insensitively
            if column in values:
                return values[column]
            lowered = column.lower()
            return next((v for k, v in values.items() if k.lower() == lowered), None)
        return values.get(self.lookup.get(column.lower(), ""))

    def raw(self, values: dict[str, Any], name: str) -> Any:
        if name in self.mapping.constants:
            return self.mapping.constants[name]
        cells = [self._cell(values, c) for c in self.mapping.source_columns(name)]
        cells = [c for c in cells if c is not None and not (isinstance(c, str) and not c.strip())]
        if not cells:
            return self.mapping.defaults.get(name)
        if len(cells) == 1:
            return cells[0]
        return ("\n\n" if name in _PARAGRAPH_FIELDS else " ").join(cell_text(c) for c in cells)

    def parse(self, row: SourceRow) -> ParsedRow:
        errors: list[RowError] = []
        values = row.values

        def get(name: str, convert: Callable[[Any], Any], default: Any = None, required: bool = False) -> Any:
            value = self.raw(values, name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if required:
                    errors.append(RowError(row.line, name, _("This field is required.")))
                return default
            try:
                return convert(value)
            except ValueError as exc:
                errors.append(RowError(row.line, name, str(exc)))
                return default

        def text(value: Any) -> str:
            return clean_whitespace(cell_text(value))

        external_id = get("external_id", text, "", required=True)
        received_at = get("received_at", parse_datetime, required=True)
        channel = get("channel", parse_channel, "", required=True)
        title = get("title", text, "", required=True)
        description = get("description", lambda v: clean_paragraphs(cell_text(v)), "", required=True)
        reporter_name = get("reporter_name", text, "")
        reporter_phone = get("reporter_phone", text, "")
        reporter_id_number = get("reporter_id_number", text, "")
        anonymous = get("anonymous", parse_bool, not reporter_name)
        region_code = get("region_code", lambda v: re.sub(r"\s+", "", cell_text(v)), "") or self.office.region_code
        categories = get("category", self.categories.codes, [])
        reported_name = get("reported_name", text, "")
        reported_unit = get("reported_unit", text, "")
        outcome = get("outcome", lambda v: clean_paragraphs(cell_text(v)), "")
        concluded_at = get("concluded_at", parse_datetime)
        status = get("status", parse_status, "")
        for name, value in (
            ("external_id", external_id),
            ("reported_name", reported_name),
            ("reported_unit", reported_unit),
        ):
            if len(value) > _MAX_LENGTH[name]:
                errors.append(RowError(row.line, name, _("At most %(n)d characters.") % {"n": _MAX_LENGTH[name]}))
        if not status and not self.raw(values, "status"):
            status = next((s for column, s in self.mapping.status_rules if text(self._cell(values, column))), "")
            status = status or (Status.CONCLUDED if outcome or concluded_at else Status.RECEIVED)
        if status and status not in _CONCLUDED:
            for name, value in (("outcome", outcome), ("concluded_at", concluded_at)):
                if value:
                    message = _("Only a concluded, fed-back or archived case has this; the state is “%(status)s”.")
                    errors.append(RowError(row.line, name, message % {"status": status}))
        if received_at and received_at > timezone.now() + timedelta(minutes=5):
            errors.append(RowError(row.line, "received_at", _("The date received cannot be in the future.")))
        if concluded_at and received_at and concluded_at < received_at:
            errors.append(RowError(row.line, "concluded_at", _("Earlier than the date received.")))
        if concluded_at and concluded_at > timezone.now() + timedelta(minutes=5):
            errors.append(RowError(row.line, "concluded_at", _("Cannot be in the future.")))
        if errors:
            raise RowInvalid(errors)

        parties = []
        if reported_name:
            parties.append(PartyInput(name=reported_name, unit=reported_unit))
        elif reported_unit:
            parties.append(PartyInput(name=reported_unit, kind=PartyKind.ORGANISATION))
        data = RegistrationInput(
            channel=channel,
            title=title,
            description=description,
            region_code=region_code,
            received_at=received_at,
            categories=categories,
            external_id=external_id,
            reporter=ReporterInput(
                anonymous=anonymous,
                name=reporter_name,
                phone=reporter_phone,
                id_number=reporter_id_number,
            ),
            parties=parties,
        )
        return ParsedRow(row.line, external_id, data, status, outcome, concluded_at)


# --- the import ----------------------------------------------------------------------------


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    failed_rows: int = 0
    unused_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False


class _DryRun(Exception):
    pass


def _bring_to_status(case: Case, row: ParsedRow, *, actor: User | None, office: Office, source: str) -> None:
    """Put a just-registered case in its historical state: one "import" event, no invented steps.

    The state and the fields it implies are written with one UPDATE (no workflow transition runs),
    and the deadlines are then recomputed for that state, so a closed case has none open.
    """
    status = row.status
    fields: dict[str, Any] = {"status_changed_at": row.concluded_at or case.received_at, "updated_at": timezone.now()}
    if status != Status.RECEIVED:
        fields["status"] = status
        if status in _CONCLUDED:
            fields.update(concluded_at=row.concluded_at, conclusion=row.outcome)
        if status == Status.FED_BACK:
            fields["fed_back_at"] = row.concluded_at
        if status == Status.ARCHIVED:
            fields["archived_at"] = row.concluded_at
        if status == Status.SHELVED:
            fields["disposal_way"] = DisposalWay.SHELVED
        if status == Status.REPEAT:
            fields["is_repeat"] = True
    case.refresh_from_db()  # registration hooks may have changed the row
    for name, value in fields.items():
        setattr(case, name, value)
    case_refresh_next_deadline(case)
    fields.update({name: getattr(case, name) for name in REFRESH_FIELDS})
    Case.objects.filter(pk=case.pk).update(**fields)
    if status != Status.RECEIVED:
        event_record(
            case=case,
            action=IMPORT_ACTION,
            from_status=Status.RECEIVED,
            to_status=status,
            actor=actor,
            office=office,
            reason=f"imported from {source} line {row.line}",
            data={"outcome": row.outcome, "concluded_at": row.concluded_at.isoformat() if row.concluded_at else None},
        )


def _import_row(row: ParsedRow, *, office: Office, actor: User | None, source: str, dry_run: bool) -> Case:
    try:
        with transaction.atomic():
            case = case_register(
                data=row.data,
                office=office,
                actor=actor,
                event_data={"imported_from": source, "line": row.line},
                notify=False,  # historical reports are not news
            )
            _bring_to_status(case, row, actor=actor, office=office, source=source)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return case


def _field_errors(line: int, exc: ValidationFailed) -> list[RowError]:
    return [
        RowError(line, _ERROR_FIELDS.get(name, name), message)
        for name, messages in exc.fields.items()
        for message in messages
    ] or [RowError(line, "", exc.message)]


def reports_import(
    *,
    path: Path | str,
    office: Office,
    actor: User | None = None,
    mapping: Mapping | None = None,
    fmt: str | None = None,
    dry_run: bool = False,
    on_error: Callable[[RowError], None] | None = None,
    on_imported: Callable[[int, Case], None] | None = None,
) -> ImportResult:
    """Import a file of historical reports into `office`, one transaction per row.

    Raises ImportFileError when the file cannot be read at all; row problems are collected in
    the result (and passed to `on_error` as they are found).
    """
    started = time.perf_counter()
    path = Path(path)
    mapping = mapping or Mapping()
    source = open_source(path, fmt=fmt, mapping=mapping)
    parser = RowParser(mapping, source.columns, office)
    result = ImportResult(unused_columns=sorted(parser.unused), dry_run=dry_run)
    existing = set(
        Case.objects.filter(received_office=office, external_id__isnull=False).values_list("external_id", flat=True)
    )
    first_line: dict[str, int] = {}

    def fail(errors: list[RowError]) -> None:
        result.failed_rows += 1
        result.errors.extend(errors)
        for error in errors:
            if on_error:
                on_error(error)

    for src in source.rows:
        result.rows += 1
        if src.error:
            fail([RowError(src.line, "", src.error)])
            continue
        external_id = clean_whitespace(cell_text(parser.raw(src.values, "external_id")))
        if external_id in first_line:
            fail(
                [
                    RowError(
                        src.line,
                        "external_id",
                        _("“%(id)s” already appears at line %(line)d.")
                        % {"id": external_id, "line": first_line[external_id]},
                    )
                ]
            )
            continue
        if external_id:
            first_line[external_id] = src.line
        if external_id in existing:
            result.already_imported += 1
            continue
        try:
            row = parser.parse(src)
            case = _import_row(row, office=office, actor=actor, source=source.name, dry_run=dry_run)
        except RowInvalid as exc:
            fail(exc.errors)
            continue
        except ValidationFailed as exc:
            fail(_field_errors(src.line, exc))
            continue
        except IntegrityError as exc:
            if Case.objects.filter(received_office=office, external_id=external_id).exists():
                result.already_imported += 1  # imported meanwhile by a concurrent run
            else:
                fail([RowError(src.line, "", _("Not saved: %(error)s") % {"error": exc})])
            continue
        except (DomainError, DatabaseError) as exc:
            fail([RowError(src.line, "", _("Not saved: %(error)s") % {"error": exc})])
            continue
        result.imported += 1
        if on_imported:
            on_imported(src.line, case)
    result.seconds = time.perf_counter() - started
    return result
