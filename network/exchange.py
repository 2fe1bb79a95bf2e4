"""The hall tree as a spreadsheet: ``export_network`` writes it, ``import_network`` reads it back.

One row a hall, in tree order (parents before children), under a Chinese header row whose cells
map to stable field names (the English names are accepted as headers too). The format follows
the file's extension: ``.xlsx``, or ``.csv`` in UTF-8 with a BOM so that Excel shows the Chinese.

An import is all or nothing. The whole file is read and checked first, and every error is
collected with its row and column; only a clean file is written, through ``network.services``,
inside one transaction. A hall that the file does not change is not saved, so importing an
export again changes nothing, ``updated_at`` included.

How rows find halls:

* a row with an ``编号`` (id) updates that hall, and may change its code;
* a row without one but with a ``编码`` (code) updates the hall with that code, or creates one;
* a row with neither creates a hall.

Its parent is found by ``上级编码`` (parent code), or by ``上级编号`` (parent id) where the parent has
no code: first among the rows above it in the same file, then in the database.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from common.xlsx import csv_cell, csv_value

from . import services
from .models import KIND_BY_LEVEL, Hall, HallKind, HallStatus, NamingScheme, Operator, subtree_q
from .selectors import tree_schemes


@dataclass(frozen=True)
class Column:
    field: str
    # The header is part of the file format, so it stays the same in every interface language.
    header: str
    importable: bool = True


COLUMNS = [
    Column("id", "编号"),
    Column("code", "编码"),
    Column("name", "名称"),
    Column("locality", "所在地名"),
    Column("kind", "层级"),
    Column("parent_code", "上级编码"),
    Column("parent_id", "上级编号"),
    Column("status", "状态"),
    Column("operator", "办馆主体"),
    Column("operator_name", "社会力量名称"),
    Column("address", "地址"),
    Column("latitude", "纬度"),
    Column("longitude", "经度"),
    Column("phone", "电话"),
    Column("opening_hours", "开放时间"),
    Column("services", "服务项目与内容"),
    Column("plaque_name", "统一标识牌匾", importable=False),
]
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
HEADER = {c.field: c.header for c in COLUMNS}
REQUIRED = ("code", "name", "locality", "kind", "parent_code")
# Hall fields a row may set; the rest of the columns say where the row sits in the tree.
HALL_COLUMNS = [c.field for c in COLUMNS if c.field in services.HALL_FIELDS]
CHOICES = {"kind": HallKind, "status": HallStatus, "operator": Operator}
SUFFIXES = (".xlsx", ".csv")
# Members smaller than this may pack as tightly as they like (a tiny XML of repeated tags does).
ZIP_RATIO_FROM_BYTES = 1024 * 1024


# --- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None  # a field name
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column is None:
            return _("第 %(row)s 行:%(message)s") % {"row": self.row, "message": self.message}
        return _("第 %(row)s 行“%(column)s”列:%(message)s") % {
            "row": self.row,
            "column": HEADER[self.column],
            "message": self.message,
        }


class ImportRejected(Exception):
    """The file was not imported; ``errors`` says every reason found."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# --- export ----------------------------------------------------------------------------------


def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRejected(
            [
                RowError(
                    None,
                    None,
                    _("只支持 .xlsx 和 .csv 文件,不支持“%(suffix)s”。")
                    % {"suffix": path.suffix or _("无扩展名")},
                )
            ]
        )
    return suffix


def export_rows(halls: Iterable[tuple], schemes: dict[int, NamingScheme]) -> Iterator[list[Any]]:
    """The header, then one list of cells per hall (each row ends with its tree id, which is
    dropped), with status and operator as their Chinese labels and the kind as its tree's
    scheme names it (支馆 in a 澄江 tree)."""
    yield [c.header for c in COLUMNS]
    with translation.override("zh-hans"):
        labels = {
            name: {value: str(label) for value, label in choices.choices}
            for name, choices in CHOICES.items()
        }
        levels = {tree_id: scheme.level_names() for tree_id, scheme in schemes.items()}
    for *cells, tree_id in halls:
        cells[4] = levels[tree_id][cells[4]]
        cells[7] = labels["status"][cells[7]]
        cells[8] = labels["operator"][cells[8]]
        yield cells


def halls_for_export(top: Hall | None = None):
    qs = Hall.objects.order_by("tree_id", "lft")
    if top is not None:
        qs = qs.filter(subtree_q(Hall.objects.get(pk=top.pk)))  # fresh tree numbers
    return qs.values_list(
        "id",
        "code",
        "name",
        "locality",
        "kind",
        "parent__code",
        "parent_id",
        "status",
        "operator",
        "operator_name",
        "address",
        "latitude",
        "longitude",
        "phone",
        "opening_hours",
        "services",
        "plaque_name",
        "tree_id",
    ).iterator(chunk_size=5000)


def export_network(path: str | Path, *, top: Hall | None = None) -> int:
    """Write every hall (or ``top``'s subtree) to ``path``; returns the number of halls."""
    path = Path(path)
    suffix = check_suffix(path)
    if top is None:
        trees = Hall.objects.filter(parent__isnull=True).values_list("tree_id", flat=True)
    else:
        trees = [top.tree_id]
    rows = export_rows(halls_for_export(top), tree_schemes(trees))
    if suffix == ".csv":
        count = _write_csv(path, rows)
    else:
        count = _write_xlsx(path, rows)
    return count - 1


def _write_csv(path: Path, rows: Iterator[list[Any]]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow(["" if v is None else csv_cell(v) for v in row])
            count += 1
    return count


def _write_xlsx(path: Path, rows: Iterator[list[Any]]) -> int:
    from common.xlsx import Column as XlsxColumn
    from common.xlsx import Sheet, write_workbook

    widths = {"code": 16, "name": 30, "parent_code": 16, "address": 36, "plaque_name": 50}
    next(rows)  # the shared writer writes the header itself
    count = 1

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    columns = [XlsxColumn(c.header, widths.get(c.field, 12)) for c in COLUMNS]
    write_workbook([Sheet(_("文化馆"), columns, counted())], str(path))
    return count


# --- reading a file --------------------------------------------------------------------------


def read_table(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) for every non-blank row, the header included, as the file is read:
    nothing but the current row is held. Row numbers are the spreadsheet's own, so an error
    points at the row a person sees. A file beyond the limits (``IMPORT_MAX_*``) is refused with
    ``ImportRejected`` as soon as the limit is seen; an ``.xlsx`` whose zip would unpack to an
    absurd size is refused before any of it is unpacked."""
    suffix = check_suffix(path)
    if not path.exists():
        raise ImportRejected([RowError(None, None, _("找不到文件“%(path)s”。") % {"path": path})])
    if suffix == ".csv":
        _check_csv_size(path)
        rows = _read_csv(path)
    else:
        _check_zip(path)
        rows = _read_xlsx(path)
    return _within_limits(rows)


def _refuse(message: str, row: int | None = None) -> ImportRejected:
    return ImportRejected([RowError(row, None, message)])


def _within_limits(rows: Iterable[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    max_rows = settings.IMPORT_MAX_ROWS
    max_columns = settings.IMPORT_MAX_COLUMNS
    max_chars = settings.IMPORT_MAX_CELL_CHARS
    for number, cells in rows:
        if number > max_rows + 1:  # the header is row 1
            raise _refuse(
                _("文件超过 %(max)s 行数据的上限,未导入;请分成几个文件。") % {"max": max_rows},
                number,
            )
        while cells and not _text(cells[-1]):
            cells.pop()
        if not cells:
            continue
        if len(cells) > max_columns:
            raise _refuse(
                _("有 %(n)s 列,超过 %(max)s 列的上限,未导入。")
                % {"n": len(cells), "max": max_columns},
                number,
            )
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > max_chars:
                raise _refuse(
                    _("%(column)s 列的内容超过 %(max)s 个字符的上限,未导入。")
                    % {"column": get_column_letter(index + 1), "max": max_chars},
                    number,
                )
        yield number, cells


def _check_csv_size(path: Path) -> None:
    max_bytes = settings.IMPORT_MAX_UNZIPPED_MB * 1024 * 1024
    if path.stat().st_size > max_bytes:
        raise _refuse(
            _("文件超过 %(max)s MB 的上限,未导入。") % {"max": settings.IMPORT_MAX_UNZIPPED_MB}
        )


def _check_zip(path: Path) -> None:
    """Refuse an ``.xlsx`` by its zip directory alone: more unpacked bytes than
    ``IMPORT_MAX_UNZIPPED_MB`` in all, or a large member packed more tightly than
    ``IMPORT_MAX_ZIP_RATIO`` (a spreadsheet packs about 10:1; a zip bomb, 1000:1). Python's
    zipfile never unpacks a member beyond its declared size, so the directory can be trusted."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(
            _("无法读取 Excel 文件:%(error)s") % {"error": exc.__class__.__name__}
        ) from exc
    max_mb = settings.IMPORT_MAX_UNZIPPED_MB
    if sum(m.file_size for m in members) > max_mb * 1024 * 1024:
        raise _refuse(_("Excel 文件解压后超过 %(max)s MB 的上限,未导入。") % {"max": max_mb})
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_RATIO_FROM_BYTES and ratio > settings.IMPORT_MAX_ZIP_RATIO:
            raise _refuse(
                _("Excel 文件中的“%(name)s”压缩比异常(%(ratio)s:1),疑为恶意文件,未导入。")
                % {"name": member.filename, "ratio": int(ratio)}
            )


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM), or GB18030: Excel on a Chinese Windows saves "CSV" so
    unless told otherwise. Decided by decoding the whole file in chunks, keeping none of it."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(1024 * 1024):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _refuse(_("无法识别文件的编码,请另存为 UTF-8 编码的 CSV。"))


def _read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as f:
        rows = csv.reader(f)
        try:
            # csv's own field limit (131,072 characters) bounds a cell before ours is checked.
            for n, row in enumerate(rows, start=1):
                yield n, [csv_value(cell) for cell in row]
        except csv.Error as exc:
            raise _refuse(_("CSV 文件格式有误:%(error)s") % {"error": exc}) from exc


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a zoo of types for a file that is not xlsx
        raise _refuse(
            _("无法读取 Excel 文件:%(error)s") % {"error": exc.__class__.__name__}
        ) from exc
    try:
        ws = wb.worksheets[0]
        # Read-only: openpyxl parses the sheet's XML row by row as it is asked for.
        for n, cells in enumerate(ws.iter_rows(values_only=True), 1):
            yield n, list(cells)
    finally:
        wb.close()


def _text(value: Any) -> str:
    """A cell as text. Excel turns a typed-in code or id into a number; give it back as digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


# --- parsing rows ----------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    id: int | None = None
    code: str | None = None
    kind: str | None = None
    parent_code: str | None = None
    parent_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    hall: Hall | None = None  # the existing hall this row updates
    parent: Row | Hall | None = None
    depth: int | None = None


def _map_header(number: int, cells: list[Any]) -> tuple[dict[int, str], list[RowError]]:
    by_name = {}
    for c in COLUMNS:
        by_name[c.header] = c.field
        by_name[c.field.lower()] = c.field
    errors = []
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _text(cell)
        if not name:
            continue
        found = by_name.get(name) or by_name.get(name.lower())
        if found is None:
            errors.append(
                RowError(
                    number,
                    None,
                    _("表头有未知的列“%(name)s”。可用的列:%(known)s。")
                    % {"name": name, "known": "、".join(c.header for c in COLUMNS)},
                )
            )
        elif found in seen:
            errors.append(
                RowError(number, None, _("表头的“%(name)s”列出现了两次。") % {"name": name})
            )
        else:
            seen[found] = index
            columns[index] = found
    missing = [HEADER[f] for f in REQUIRED if f not in seen]
    if missing:
        errors.append(
            RowError(
                number,
                None,
                _("表头缺少必需的列:%(missing)s。第一行应为表头,如导出文件所示。")
                % {"missing": "、".join(missing)},
            )
        )
    return columns, errors


def kind_names() -> dict[str, str]:
    """What a file may write in the 层级 column: each kind's value and label, and each level
    name a naming scheme gives (支馆), when that name means one level only."""
    found: dict[str, set[str]] = {}
    for scheme in NamingScheme.objects.all():
        for kind in KIND_BY_LEVEL:
            name = getattr(scheme, f"{kind}_name")  # as written, whatever the language
            found.setdefault(name, set()).add(kind)
    names = {name: kinds.pop() for name, kinds in found.items() if len(kinds) == 1}
    with translation.override("zh-hans"):
        for kind in HallKind:
            names[str(kind.label)] = kind.value
            names[kind.value] = kind.value
    return names


def _kind(text: str, names: dict[str, str]) -> str:
    kind = names.get(text) or names.get(text.lower())
    if kind is None:
        with translation.override("zh-hans"):
            known = "、".join(str(kind.label) for kind in HallKind)
        raise ValidationError(
            _("应为 %(known)s 之一(或命名规则给该层级的名称,如 支馆),不是“%(text)s”。")
            % {"known": known, "text": text}
        )
    return kind


def _choice(name: str, text: str) -> str:
    choices = CHOICES[name]
    with translation.override("zh-hans"):
        for value, label in choices.choices:
            if text == str(label) or text.lower() == value:
                return value
        known = "、".join(str(label) for _value, label in choices.choices)
    raise ValidationError(
        _("应为 %(known)s 之一,不是“%(text)s”。") % {"known": known, "text": text}
    )


def _integer(text: str) -> int:
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ValidationError(_("应为正整数,不是“%(text)s”。") % {"text": text})


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValidationError(_("应为数字,如 25.040000,不是“%(text)s”。") % {"text": text})
    return value


def _parse_row(
    number: int, cells: list[Any], columns: dict[int, str], kinds: dict[str, str]
) -> tuple[Row, list]:
    row = Row(number)
    errors: list[RowError] = []
    for index, name in columns.items():
        text = _text(cells[index]) if index < len(cells) else ""
        if name == "plaque_name":
            continue
        try:
            if name in ("id", "parent_id"):
                setattr(row, name, _integer(text) if text else None)
            elif name in ("code", "parent_code"):
                if text:
                    Hall._meta.get_field("code").run_validators(text)
                setattr(row, name, text or None)
            elif name == "kind":
                if not text:
                    raise ValidationError(_("不能为空。"))
                row.kind = _kind(text, kinds)
            elif name in ("status", "operator"):
                # Blank: a new hall takes the default, an existing one keeps its value.
                if text:
                    row.fields[name] = _choice(name, text)
            elif name in ("latitude", "longitude"):
                value = _decimal(text) if text else None
                row.fields[name] = Hall._meta.get_field(name).clean(value, None)
            else:
                row.fields[name] = Hall._meta.get_field(name).clean(text, None)
        except ValidationError as exc:
            errors.extend(RowError(number, name, m) for m in exc.messages)
    if "code" in columns.values():
        row.fields["code"] = row.code
    row.ok = not errors
    return row, errors


# --- validation ------------------------------------------------------------------------------


def _fetch(field_name: str, values: set) -> dict[Any, Hall]:
    found: dict[Any, Hall] = {}
    values = sorted(v for v in values if v is not None)
    for i in range(0, len(values), 500):
        for hall in Hall.objects.filter(**{f"{field_name}__in": values[i : i + 500]}):
            found[getattr(hall, field_name)] = hall
    return found


def _label(hall: Row | Hall) -> str:
    if isinstance(hall, Row):
        return _("第 %(row)s 行的馆") % {"row": hall.number}
    return f"“{hall.name}”"


def _kind_label(level: int) -> str:
    return str(HallKind(KIND_BY_LEVEL[level]).label)


def validate(table: Iterable[tuple[int, list[Any]]]) -> list[Row]:
    """Every row, checked and resolved against the file and the database; raises
    ``ImportRejected`` with every error found. ``table`` is read once, as it comes: only the
    parsed rows are kept."""
    table = iter(table)
    first = next(table, None)
    if first is None:
        raise ImportRejected([RowError(None, None, _("文件是空的:没有表头,也没有数据行。"))])
    header_number, header = first
    columns, errors = _map_header(header_number, header)
    if errors:
        raise ImportRejected(errors)

    rows = []
    kinds = kind_names()
    for number, cells in table:
        row, row_errors = _parse_row(number, cells, columns, kinds)
        rows.append(row)
        errors.extend(row_errors)
    if not rows:
        raise ImportRejected([RowError(None, None, _("文件只有表头,没有数据行。"))])

    db_by_code = _fetch("code", {r.code for r in rows} | {r.parent_code for r in rows})
    db_by_id = _fetch("id", {r.id for r in rows} | {r.parent_id for r in rows})
    first_with_code: dict[str, Row] = {}
    first_with_id: dict[int, Row] = {}
    for row in rows:
        if row.code:
            first_with_code.setdefault(row.code, row)
        if row.id:
            first_with_id.setdefault(row.id, row)

    def fail(row: Row, column: str | None, message: str) -> None:
        errors.append(RowError(row.number, column, message))
        row.ok = False

    matched: dict[int, Row] = {}
    seen_code: dict[str, Row] = {}
    seen_id: dict[int, Row] = {}
    for row in rows:
        # Which hall the row is.
        if row.code and row.code in seen_code:
            fail(
                row,
                "code",
                _("编码“%(code)s”与第 %(other)s 行重复。")
                % {"code": row.code, "other": seen_code[row.code].number},
            )
        if row.id and row.id in seen_id:
            fail(
                row,
                "id",
                _("编号 %(id)s 与第 %(other)s 行重复。")
                % {"id": row.id, "other": seen_id[row.id].number},
            )
        if row.code:
            seen_code.setdefault(row.code, row)
        if row.id:
            seen_id.setdefault(row.id, row)
        if row.id:
            row.hall = db_by_id.get(row.id)
            if row.hall is None:
                fail(
                    row,
                    "id",
                    _("没有编号为 %(id)s 的馆;新增的馆请将编号留空。") % {"id": row.id},
                )
            elif row.code and row.code in db_by_code and db_by_code[row.code].pk != row.id:
                other = db_by_code[row.code]
                fail(
                    row,
                    "code",
                    _("编码“%(code)s”已被“%(name)s”(编号 %(id)s)使用。")
                    % {"code": row.code, "name": other.name, "id": other.pk},
                )
        elif row.code:
            row.hall = db_by_code.get(row.code)
        if row.hall is not None and row.ok:
            if row.hall.pk in matched:
                fail(
                    row,
                    None,
                    _("与第 %(other)s 行是同一个馆(编号 %(id)s)。")
                    % {"other": matched[row.hall.pk].number, "id": row.hall.pk},
                )
            matched.setdefault(row.hall.pk, row)

        # Where it sits.
        row.parent, column = _resolve_parent(
            row, fail, first_with_code, first_with_id, db_by_code, db_by_id
        )
        if row.parent is None and column is not None:
            continue  # the parent could not be found; the error is recorded
        if row.parent is None:
            row.depth = 0
        elif isinstance(row.parent, Row):
            row.depth = None if row.parent.depth is None else row.parent.depth + 1
        else:
            row.depth = row.parent.level + 1
        if row.depth is None or row.kind is None:
            row.depth = None
            continue  # the parent row or this row's kind is wrong; already reported
        if row.depth >= len(KIND_BY_LEVEL):
            fail(
                row,
                column,
                _("基层服务点是最末一级,不能在%(parent)s下再设下级馆。")
                % {"parent": _label(row.parent)},
            )
            row.depth = None
            continue
        expected = KIND_BY_LEVEL[row.depth]
        if row.kind != expected:
            if row.parent is None:
                message = _(
                    "没有上级的馆只能是中心馆,本行是%(kind)s;请填写上级编码或上级编号。"
                ) % {"kind": HallKind(row.kind).label}
            else:
                message = _("%(parent)s是%(parent_kind)s,其下级应为%(expected)s,不是%(kind)s。") % {
                    "parent": _label(row.parent),
                    "parent_kind": _kind_label(row.depth - 1),
                    "expected": _kind_label(row.depth),
                    "kind": HallKind(row.kind).label,
                }
            fail(row, "kind", message)
            row.depth = None
            continue
        if row.hall is not None and row.hall.level != row.depth:
            fail(
                row,
                "kind",
                _("“%(name)s”现为%(current)s,层级由它在树中的位置决定,导入不能改变它。")
                % {"name": row.hall.name, "current": row.hall.get_kind_display()},
            )
            row.depth = None
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row or 0))
    return rows


def _resolve_parent(row, fail, first_with_code, first_with_id, db_by_code, db_by_id):
    """(parent, the column it was named in). A parent row must come before its children."""
    if row.parent_code:
        key, column, in_file, in_db = row.parent_code, "parent_code", first_with_code, db_by_code
        missing = _("找不到编码为“%(key)s”的上级馆。")
    elif row.parent_id:
        key, column, in_file, in_db = row.parent_id, "parent_id", first_with_id, db_by_id
        missing = _("找不到编号为 %(key)s 的上级馆。")
    else:
        return None, None
    parent_row = in_file.get(key)
    if parent_row is row:
        fail(row, column, _("不能以自己为上级馆。"))
        return None, column
    if parent_row is not None and parent_row.number < row.number:
        return parent_row, column
    if key in in_db:
        return in_db[key], column
    if parent_row is not None:
        fail(
            row,
            column,
            _("上级馆在第 %(other)s 行,须排在本行之前(先上级、后下级)。")
            % {"other": parent_row.number},
        )
    else:
        fail(row, column, missing % {"key": key})
    return None, column


# --- import ----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0


def _changes(row: Row) -> dict[str, Any]:
    assert row.hall is not None
    return {name: value for name, value in row.fields.items() if getattr(row.hall, name) != value}


def import_network(path: str | Path) -> ImportResult:
    """Check the whole file, then write it in one transaction; raises ``ImportRejected``."""
    rows = validate(read_table(Path(path)))
    result = ImportResult()
    # Row number -> its hall, so that later rows can hang below a row created earlier.
    halls: dict[int, Hall] = {}
    with transaction.atomic():
        for row in rows:
            parent = halls[row.parent.number] if isinstance(row.parent, Row) else row.parent
            try:
                _write_row(row, parent, halls, result)
            except ValidationError as exc:
                # The checks above should have caught it; the transaction undoes what was done.
                raise ImportRejected(_validation_errors(row, exc)) from exc
    return result


def _write_row(row: Row, parent: Hall | None, halls: dict[int, Hall], result) -> None:
    if row.hall is None:
        fields = dict(row.fields)
        name, locality = fields.pop("name"), fields.pop("locality")
        halls[row.number] = services.hall_create(
            parent=parent, name=name, locality=locality, **fields
        )
        result.created += 1
        return
    halls[row.number] = row.hall
    touched = False
    if parent is not None and row.hall.parent_id != parent.pk:
        services.hall_move(hall=row.hall, new_parent=parent)
        result.moved += 1
        touched = True
    changes = _changes(row)
    if changes:
        services.hall_update(hall=row.hall, **changes)
        result.updated += 1
        touched = True
    if not touched:
        result.unchanged += 1


def _validation_errors(row: Row, exc: ValidationError) -> list[RowError]:
    if not hasattr(exc, "error_dict"):
        return [RowError(row.number, None, m) for m in exc.messages]
    errors = []
    for name, messages in exc.message_dict.items():
        column = {"parent": "parent_code"}.get(name, name)
        column = column if column in HEADER else None
        errors.extend(RowError(row.number, column, m) for m in messages)
    return errors
