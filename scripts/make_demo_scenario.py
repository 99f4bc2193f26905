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
import gzip
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "config" / "scenarios" / "demo"
PROVINCE = "220000"
NOW = datetime(2026, 1, 19, 0, 0)            # 08:00 Beijing time, 19 Jan 2026
PAST_DAYS = 4                                 # past_days=4, as the live feed asks (docs/scenarios.md)
HOURS = 14 * 24                               # 4 past days + 10 forecast days
HISTORY_DAYS = 5                              # earlier cycles, one a day at the same hour
LOCAL_OFFSET = timedelta(hours=8)
FRONT_DAY = 21                                # the cold air arrives on 21 Jan (local)

# Longitude bands, west to east: (upper bound, 24 h drop on day 1, further drop on day 2, wind m/s)
BANDS = [(124.5, 13.0, 1.0, 12.0),    # orange: 13 degC in 24 h, level-6 wind
         (126.0, 10.6, 0.5, 11.5),    # yellow: 10.6 degC in 24 h, level-6 wind
         (128.5, 4.5, 4.5, 9.0),      # blue: 9 degC over 48 h, level-5 wind
         (999.0, 2.5, 2.5, 6.0)]      # below every level
SPELL_DAY = 16                                # an earlier, weaker spell (local), before the scenario's clock
SPELL = [(10.6, 0.5, 11.5),                   # per band as above: (24 h drop, further drop, wind m/s)
         (4.5, 4.5, 9.0),
         (0.0, 0.0, 0.0),
         (0.0, 0.0, 0.0)]
SPELL_FALSE = (4.5, 4.5, 9.0)                 # the spell forecasts gave the east, which never came
MEMBER_FACTORS = (1.0, 0.55, 0.7, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2, 1.35)  # each member's share of the drops


def regions() -> list[dict]:
    with (ROOT / "config" / "regions" / "regions.csv").open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["province_code"] == PROVINCE]


def band_of(region: dict) -> int:
    return next(index for index, band in enumerate(BANDS) if float(region["longitude"]) < band[0])


@dataclass(frozen=True)
class Weather:
    """What a forecast (or the truth) says of the two spells, as multiples of the true drops."""
    spell: float = 1.0          # the earlier spell of SPELL_DAY
    false_spell: float = 0.0    # a spell the east never had, as a share of SPELL_FALSE's drops
    front: float = 1.0          # the cold wave of FRONT_DAY


TRUTH = Weather()


def daily_minima(region: dict, weather: Weather, rng: random.Random | None = None) -> dict[int, float]:
    rng = rng or random.Random(region["code"])  # the same draws for every weather: only the drops differ
    lat = float(region["latitude"])
    base = -13.0 + (44.0 - lat) * 1.6 + rng.uniform(-0.4, 0.4)
    drop1, drop2, _ = (d * weather.front for d in BANDS[band_of(region)][1:])
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
    for day in range(8, 16):  # the earlier days, as calm as the 16th (drawn after, so the rest stays as it was)
        minima[day] = minima[16]
    spell1, spell2, _ = (d * weather.spell for d in SPELL[band_of(region)])
    false1, false2, _ = (d * weather.false_spell for d in SPELL_FALSE) if band_of(region) == len(BANDS) - 1 else (0, 0, 0)
    minima[SPELL_DAY] -= spell1 + false1
    minima[SPELL_DAY + 1] -= spell1 + spell2 + false1 + false2
    return minima


def winds(region: dict, weather: Weather) -> dict[int, float]:
    """The wind (m/s) of each windy local day: the spells' and the front's."""
    band = band_of(region)
    spell_wind = max(SPELL[band][2] if weather.spell else 0, SPELL_FALSE[2] if weather.false_spell and band == len(BANDS) - 1 else 0)
    out = {FRONT_DAY: BANDS[band][3], FRONT_DAY + 1: BANDS[band][3]}
    if spell_wind:
        out |= {SPELL_DAY: spell_wind, SPELL_DAY + 1: spell_wind}
    return out


def forecast_of(region: dict, now: datetime, weather_at_lead) -> tuple[dict[int, float], dict[int, float]]:
    """A cycle's minima and winds: the truth for the days already over, `weather_at_lead(lead)` (the lead
    in days of each spell from the cycle's local day) for the rest."""
    today = (now + LOCAL_OFFSET).day
    said = Weather(spell=weather_at_lead(SPELL_DAY - today).spell,
                   false_spell=weather_at_lead(SPELL_DAY - today).false_spell,
                   front=weather_at_lead(FRONT_DAY - today).front)
    truth, forecast = daily_minima(region, TRUTH), daily_minima(region, said)
    minima = {day: truth[day] if day < today else forecast[day] for day in truth}
    windy = {day: w for day, w in winds(region, TRUTH).items() if day < today}
    return minima, windy | {day: w for day, w in winds(region, said).items() if day >= today}


def forecast_skill(lead: int) -> Weather:
    """How the synthetic forecast errs with lead: two days out or more it under-does the spell in the
    west (8 of 10 of its drops) and brings a spell to the east that never comes; four days out or more
    it under-does the front. Closer in it is right."""
    if lead < 0:
        return TRUTH
    return Weather(spell=0.8 if lead >= 2 else 1.0, false_spell=1.0 if lead >= 2 else 0.0,
                   front=0.85 if lead >= 4 else 1.0)


def hourly(region: dict, minima: dict[int, float], windy_days: dict[int, float], start: datetime) -> dict:
    rng = random.Random(region["code"])
    daily_minima(region, TRUTH, rng)  # the wind's draws follow the minima's (the files stay as they were)
    times, temps, apparent, wind, gusts, precip, snow = [], [], [], [], [], [], []
    for step in range(HOURS):
        utc = start + timedelta(hours=step)
        local = utc + LOCAL_OFFSET
        shape = (1 + math.cos(2 * math.pi * (local.hour - 15) / 24)) / 2   # 0 at 03:00, 1 at 15:00
        t = minima[local.day] + 9.0 * shape
        windy = local.day in windy_days and 6 <= local.hour <= 20
        front = local.day in (FRONT_DAY, FRONT_DAY + 1) and windy
        w = windy_days[local.day] if front else 3.0 + rng.uniform(0, 1.5)  # (draws as before the spells)
        w = windy_days[local.day] if windy else w
        times.append(utc.strftime("%Y-%m-%dT%H:%M"))
        temps.append(round(t, 1))
        apparent.append(round(t - 0.7 * w, 1))
        wind.append(round(w * 3.6, 1))                      # km/h, Open-Meteo's default unit
        gusts.append(round(w * 3.6 * 1.5, 1))
        precip.append(0.4 if front and local.hour < 12 else 0.0)
        snow.append(0.3 if front and local.hour < 12 else 0.0)
    return location(region, {"time": times, "temperature_2m": temps, "apparent_temperature": apparent,
                             "wind_speed_10m": wind, "wind_gusts_10m": gusts, "precipitation": precip,
                             "snowfall": snow},
                    {"time": "iso8601", "temperature_2m": "°C", "apparent_temperature": "°C", "wind_speed_10m": "km/h",
                     "wind_gusts_10m": "km/h", "precipitation": "mm", "snowfall": "cm"})


def location(region: dict, series: dict, units: dict) -> dict:
    return {"latitude": round(float(region["latitude"]) * 8) / 8,
            "longitude": round(float(region["longitude"]) * 8) / 8,
            "generationtime_ms": 0.8, "utc_offset_seconds": 0, "timezone": "GMT",
            "timezone_abbreviation": "GMT", "elevation": 200.0, "hourly_units": units, "hourly": series}


def ensemble_location(region: dict, now: datetime) -> dict:
    """The members as Open-Meteo's ensemble API names them (temperature_2m the control, then
    temperature_2m_member01 …): each the cycle's forecast with the spells' drops scaled by its factor."""
    series, units = {}, {"time": "iso8601"}
    for member, factor in enumerate(MEMBER_FACTORS):
        scaled = lambda lead, f=factor: (lambda w: Weather(w.spell * f, w.false_spell * f, w.front * f))(forecast_skill(lead))
        run = hourly(region, *forecast_of(region, now, scaled), now - timedelta(days=PAST_DAYS))["hourly"]
        series["time"] = run["time"]
        for variable, unit in (("temperature_2m", "°C"), ("wind_speed_10m", "km/h")):
            name = variable + (f"_member{member:02d}" if member else "")
            series[name], units[name] = run[variable], unit
    return location(region, series, units)


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


def write_json(path: Path, payload) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(gzip.compress(text, mtime=0) if path.suffix == ".gz" else text)


def snapshot_files(batches: list[list[dict]], now: datetime, tag: str) -> list[str]:
    """A cycle's forecast (every batch) and ensemble (the first batch) files; the manifest's lines for them."""
    indent = "    " if tag else ""  # a history snapshot is an item of the history list
    lines = [f"{indent}forecast:", f"{indent}  format: open-meteo", f"{indent}  batches:"]
    ensemble = [f"{indent}ensemble:", f"{indent}  format: open-meteo-ensemble", f"{indent}  batches:"]
    for number, batch in enumerate(batches, start=1):
        forecast = f"forecasts/{tag}openmeteo-{number:02d}.json" + (".gz" if tag else "")
        write_json(OUT / forecast, [hourly(r, *forecast_of(r, now, forecast_skill), now - timedelta(days=PAST_DAYS))
                                    for r in batch])
        codes = ", ".join(f'"{r["code"]}"' for r in batch)
        lines += [f"{indent}    - file: {forecast}", f"{indent}      regions: [{codes}]"]
        if number == 1:
            members = f"forecasts/{tag}ensemble-{number:02d}.json.gz"
            write_json(OUT / members, [ensemble_location(r, now) for r in batch])
            ensemble += [f"{indent}    - file: {members}", f"{indent}      regions: [{codes}]"]
    return lines + ensemble


def main() -> None:
    all_regions = regions()
    located = [r for r in all_regions if r["latitude"]]
    (OUT / "forecasts").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "forecasts").glob("*"):
        old.unlink()
    batches = [located[:30], located[30:]]
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
        "  while Changchun's own index (+5.8 %) does not. Five earlier cycles' forecasts (history) of a",
        "  weaker spell on 16 January, with a ten-member ensemble, give verification what followed.",
        f"now: \"{NOW:%Y-%m-%dT%H:%M:%S}Z\"",
    ]
    manifest += snapshot_files(batches, NOW, "")
    manifest += ["history:  # earlier cycles' forecasts, replayed once for verification (never acted on)"]
    for days_before in range(HISTORY_DAYS, 0, -1):
        now = NOW - timedelta(days=days_before)
        manifest += [f"  - now: \"{now:%Y-%m-%dT%H:%M:%S}Z\""]
        manifest += snapshot_files(batches, now, f"{now:%m%d}-")
    manifest += ["cpi: cpi.csv", "caseload: caseload_synthetic.csv", "shelters: shelters_synthetic.csv",
                 # written by hand (built, not generated): the figures a few counties report
                 "outcomes: outcomes_synthetic.csv  # figures a few counties report, hours after the scenario's clock, within its Beijing day"]
    (OUT / "manifest.yaml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    print(f"{len(located)} located counties in {len(batches)} batches; "
          f"{len(all_regions) - len(located)} without coordinates; {HISTORY_DAYS} earlier cycles")


if __name__ == "__main__":
    main()
