"""Generate config/scenarios/demo: a January cold wave over Jilin (吉林省) and a food-price rise.

Everything here is SYNTHETIC: the weather is shaped to reach the CMA blue, yellow and orange
cold-wave levels in different counties (west to east), and the caseload and shelters are made-up
numbers of a plausible size. Forecasts are written in the Open-Meteo response format (a JSON list,
one object per requested location, times in GMT, wind in km/h as Open-Meteo sends by default),
so the scenario goes through the same parser as live data.

    python scripts/make_demo_scenario.py      # rewrites the files; the output is deterministic
"""

from __future__ import annotations

import csv
import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "config" / "scenarios" / "demo"
PROVINCE = "220000"
NOW = datetime(2026, 1, 19, 0, 0)            # 08:00 Beijing time, 19 Jan 2026
START = datetime(2026, 1, 15, 0, 0)          # past_days=4, as the live feed asks (docs/scenarios.md)
HOURS = 14 * 24                               # 4 past days + 10 forecast days
LOCAL_OFFSET = timedelta(hours=8)
FRONT_DAY = 21                                # the cold air arrives on 21 Jan (local)

# Longitude bands, west to east: (upper bound, 24 h drop on day 1, further drop on day 2, wind m/s)
BANDS = [(124.5, 13.0, 1.0, 12.0),    # orange: 13 degC in 24 h, level-6 wind
         (126.0, 10.6, 0.5, 11.5),    # yellow: 10.6 degC in 24 h, level-6 wind
         (128.5, 4.5, 4.5, 9.0),      # blue: 9 degC over 48 h, level-5 wind
         (999.0, 2.5, 2.5, 6.0)]      # below every level


def regions() -> list[dict]:
    with (ROOT / "config" / "regions" / "regions.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["province_code"] == PROVINCE]


def daily_minima(region: dict, rng: random.Random) -> dict[int, float]:
    lat, lon = float(region["latitude"]), float(region["longitude"])
    base = -13.0 + (44.0 - lat) * 1.6 + rng.uniform(-0.4, 0.4)
    drop1, drop2, _ = next(b[1:] for b in BANDS if lon < b[0])
    minima = {}
    for day in range(16, 30):
        if day < FRONT_DAY:
            minima[day] = base + rng.uniform(-0.3, 0.3)
        elif day == FRONT_DAY:
            minima[day] = minima[day - 1] - drop1
        elif day == FRONT_DAY + 1:
            minima[day] = minima[day - 1] - drop2
        else:
            minima[day] = minima[day - 1] + min(2.5, base - minima[day - 1]) * 0.6 + rng.uniform(-0.3, 0.3)
    for day in (14, 15):  # the earliest past days, as calm as the 16th (drawn after, so the rest stays as it was)
        minima[day] = minima[16]
    return minima


def hourly(region: dict) -> dict:
    rng = random.Random(region["code"])
    lon = float(region["longitude"])
    front_wind = next(b[3] for b in BANDS if lon < b[0])
    minima = daily_minima(region, rng)
    times, temps, apparent, wind, gusts, precip, snow = [], [], [], [], [], [], []
    for step in range(HOURS):
        utc = START + timedelta(hours=step)
        local = utc + LOCAL_OFFSET
        shape = (1 + math.cos(2 * math.pi * (local.hour - 15) / 24)) / 2   # 0 at 03:00, 1 at 15:00
        t = minima[local.day] + 9.0 * shape
        windy = local.day in (FRONT_DAY, FRONT_DAY + 1) and 6 <= local.hour <= 20
        w = front_wind if windy else 3.0 + rng.uniform(0, 1.5)
        times.append(utc.strftime("%Y-%m-%dT%H:%M"))
        temps.append(round(t, 1))
        apparent.append(round(t - 0.7 * w, 1))
        wind.append(round(w * 3.6, 1))                      # km/h, Open-Meteo's default unit
        gusts.append(round(w * 3.6 * 1.5, 1))
        precip.append(0.4 if windy and local.hour < 12 else 0.0)
        snow.append(0.3 if windy and local.hour < 12 else 0.0)
    return {"latitude": round(float(region["latitude"]) * 8) / 8,
            "longitude": round(float(region["longitude"]) * 8) / 8,
            "generationtime_ms": 0.8, "utc_offset_seconds": 0, "timezone": "GMT",
            "timezone_abbreviation": "GMT", "elevation": 200.0,
            "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "apparent_temperature": "°C",
                             "wind_speed_10m": "km/h", "wind_gusts_10m": "km/h", "precipitation": "mm",
                             "snowfall": "cm"},
            "hourly": {"time": times, "temperature_2m": temps, "apparent_temperature": apparent,
                       "wind_speed_10m": wind, "wind_gusts_10m": gusts, "precipitation": precip,
                       "snowfall": snow}}


def caseload_rows(all_regions: list[dict]) -> list[dict]:
    rows = []
    for region in all_regions:
        rng = random.Random("caseload" + region["code"])
        urban = region["name"].endswith("区")
        changchun = region["prefecture_code"] == "220100"
        rows.append({
            "region_code": region["code"],
            "dibao_urban": rng.randint(2500, 7000) if urban else rng.randint(600, 2500),
            "dibao_rural": rng.randint(0, 300) if urban else rng.randint(3000, 12000),
            "tekun_urban": rng.randint(30, 200), "tekun_rural": 0 if urban else rng.randint(300, 1500),
            "ill_disabled": rng.randint(150, 900), "elderly_alone": rng.randint(300, 2500),
            "orphans": rng.randint(5, 60), "unsupported_children": rng.randint(10, 120),
            "rough_sleepers": rng.randint(0, 25) if urban else rng.randint(0, 6),
            "dibao_standard_urban": 850 if changchun else 780, "dibao_standard_rural": 600 if changchun else 540,
            "tekun_standard_urban": 1105 if changchun else 1014, "tekun_standard_rural": 780 if changchun else 702,
        })
    return rows


def shelter_rows(all_regions: list[dict]) -> list[dict]:
    rows = []
    for region in all_regions:
        rng = random.Random("shelter" + region["code"])
        for index in range(rng.randint(1, 3)):
            kind = ["救助管理站临时庇寒点", "社区服务中心庇寒点", "乡镇敬老院庇寒点"][index]
            rows.append({"region_code": region["code"], "name": f"{region['name']}{kind}",
                         "address": f"{region['prefecture_name']}{region['name']}(示例地址 {index + 1})",
                         "capacity": rng.choice([20, 30, 40, 60, 80])})
    return rows


CPI_ROWS = [  # synthetic; national figures near 2025's, the province's food index rising
    ("000000", "2025-10", 0.2, -2.9, "2025-11-10"), ("000000", "2025-11", 0.7, 0.2, "2025-12-10"),
    ("000000", "2025-12", 0.8, 1.1, "2026-01-09"), ("000000", "2026-01", 0.9, 1.6, "2026-02-10"),
    ("220000", "2025-11", 1.5, 4.2, "2025-12-16"), ("220000", "2025-12", 1.9, 6.4, "2026-01-16"),
    ("220100", "2025-11", 1.6, 4.0, "2025-12-17"), ("220100", "2025-12", 2.1, 5.8, "2026-01-17"),
]


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    all_regions = regions()
    located = [r for r in all_regions if r["latitude"]]
    (OUT / "forecasts").mkdir(parents=True, exist_ok=True)
    batches = [located[:30], located[30:]]
    for number, batch in enumerate(batches, start=1):
        payload = [hourly(r) for r in batch]
        (OUT / "forecasts" / f"openmeteo-{number:02d}.json").write_text(
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    write_csv(OUT / "cpi.csv", [dict(zip(["area_code", "month", "cpi_yoy", "food_cpi_yoy", "released_on"], r))
                                for r in CPI_ROWS])
    write_csv(OUT / "caseload_synthetic.csv", caseload_rows(all_regions))
    write_csv(OUT / "shelters_synthetic.csv", shelter_rows(all_regions))
    manifest = [
        "# Demo scenario: SYNTHETIC data, made by scripts/make_demo_scenario.py. Not real forecasts,",
        "# not real caseload. See docs/scenarios.md for the format.",
        "name: demo",
        "description: >-",
        "  A January cold wave over Jilin reaching CMA orange in the west, yellow in the centre and",
        "  blue in the east; Jilin's December food CPI (+6.4 %) starts the price-linkage mechanism,",
        "  while Changchun's own index (+5.8 %) does not.",
        f"now: \"{NOW:%Y-%m-%dT%H:%M:%S}Z\"",
        "forecast:",
        "  format: open-meteo",
        "  batches:",
    ]
    for number, batch in enumerate(batches, start=1):
        codes = ", ".join(f'"{r["code"]}"' for r in batch)
        manifest += [f"    - file: forecasts/openmeteo-{number:02d}.json", f"      regions: [{codes}]"]
    manifest += ["cpi: cpi.csv", "caseload: caseload_synthetic.csv", "shelters: shelters_synthetic.csv",
                 # written by hand (built, not generated): the figures a few counties report
                 "outcomes: outcomes_synthetic.csv  # figures a few counties report, hours after the scenario's clock, within its Beijing day"]
    (OUT / "manifest.yaml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    print(f"{len(located)} located counties in {len(batches)} batches; "
          f"{len(all_regions) - len(located)} without coordinates")


if __name__ == "__main__":
    main()
