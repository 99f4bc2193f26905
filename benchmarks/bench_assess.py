"""Assess every hazard for all county-level regions x 10 days of hourly forecasts, and for 40,000
synthetic townships: over whole grids (vectorised) beside a plain per-region loop doing the same work.

    .venv/bin/python benchmarks/bench_assess.py [--townships 40000] [--loop-sample 300]

The hourly table becomes a grid once (`grid_s`, what a cycle does once after its pull); assessment
(`vectorised_s`: local days and every rule) is timed warm, the second of two runs, with what is loaded
by then frozen out of the garbage collector's way as `coldwarn serve` and `worker` do once started. The loop runs the
same rule functions one region at a time; for the large sets it is timed on a sample of regions and
scaled up (printed as such), since running it whole would take many minutes.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from triggers.engine import assess_weather  # noqa: E402
from triggers.grid import DailyGrid, HourlyGrid  # noqa: E402
from warning.config import load_config  # noqa: E402
from warning.feeds.warnings import empty_warnings  # noqa: E402
from warning.runtime import settle_heap  # noqa: E402
from warning.settings import load_settings  # noqa: E402

NOW = datetime(2026, 1, 19, tzinfo=timezone.utc)
HOURS = 12 * 24


def synthetic_hourly(codes: np.ndarray, lat: np.ndarray, seed: int = 7) -> pd.DataFrame:
    """Every region gets 12 days of hourly values; a third get a sharp cold wave on day 4."""
    rng = np.random.default_rng(seed)
    steps = np.arange(HOURS)
    base = (5 - (lat - 30) * 0.8)[:, None] + 6 * np.sin((steps % 24 - 9) / 24 * 2 * np.pi)[None, :]
    drop = np.where(rng.random(len(codes)) < 0.33, rng.uniform(6, 18, len(codes)), 0.0)[:, None]
    temp = base - drop * (steps >= 72)[None, :] + rng.normal(0, 0.3, (len(codes), HOURS))
    wind = np.where((steps >= 60) & (steps < 96), 9 + drop / 2, 3.0) + rng.uniform(0, 1, (len(codes), HOURS))
    times = pd.date_range("2026-01-17", periods=HOURS, freq="h", tz="UTC")
    return pd.DataFrame({"region_code": np.repeat(codes, HOURS), "valid_time": np.tile(times, len(codes)),
                         "temp": temp.ravel().round(1), "apparent_temp": (temp - wind * 0.7).ravel().round(1),
                         "wind_speed": wind.ravel().round(1)})


def assess(hourly: HourlyGrid, thresholds: pd.DataFrame, tz: pd.Series, rules) -> int:
    daily = DailyGrid.of_hours(hourly, tz)
    return len(assess_weather(daily, hourly, empty_warnings(), thresholds, tz, rules, NOW))


def timed(function, *args) -> tuple[float, int]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def loop_seconds(hourly: pd.DataFrame, thresholds, tz, rules, sample: int) -> tuple[float, int, bool]:
    """Seconds for the per-region loop over all regions (measured on `sample` of them if fewer)."""
    groups = dict(tuple(hourly.groupby("region_code", sort=False)))
    codes = list(groups)
    chosen = codes if sample >= len(codes) else codes[:: max(1, len(codes) // sample)][:sample]
    started = time.perf_counter()
    for code in chosen:
        assess(HourlyGrid.from_frame(groups[code]), thresholds.loc[[code]], tz, rules)
    elapsed = time.perf_counter() - started
    return elapsed * len(codes) / len(chosen), len(chosen), len(chosen) < len(codes)


def run(label: str, regions: pd.DataFrame, rules, loop_sample: int) -> dict:
    hourly = synthetic_hourly(regions["code"].to_numpy(), regions["latitude"].to_numpy(dtype=float))
    tz = regions.set_index("code")["timezone"]
    thresholds = rules.thresholds(regions)
    grid_s, grid = timed(HourlyGrid.from_frame, hourly)
    settle_heap()  # as a started `coldwarn serve` or `worker` has done: the collector leaves what is loaded alone
    cold, _ = timed(assess, grid, thresholds, tz, rules)
    vectorised, alerts = timed(assess, grid, thresholds, tz, rules)
    loop, measured, scaled = loop_seconds(hourly, thresholds, tz, rules, loop_sample)
    print(f"{label}: {len(regions)} regions, {len(hourly):,} hourly rows, {alerts} assessments")
    print(f"  grid {grid_s:.2f} s; vectorised {vectorised:.2f} s warm ({cold:.2f} s the first time, "
          f"{len(hourly) / vectorised:,.0f} rows/s); per-region loop "
          f"{loop:.1f} s{f' (scaled from {measured} regions)' if scaled else ''}; ratio {loop / vectorised:.0f}x")
    return {"regions": len(regions), "rows": len(hourly), "grid_s": grid_s, "vectorised_s": vectorised, "loop_s": loop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--townships", type=int, default=40_000)
    parser.add_argument("--loop-sample", type=int, default=300)
    args = parser.parse_args()
    config = load_config(load_settings({}))
    counties = config.regions.dropna(subset=["latitude"]).reset_index(drop=True)
    county = run("counties", counties, config.rules, args.loop_sample)
    picks = counties.sample(args.townships, replace=True, random_state=1).reset_index(drop=True)
    towns = picks.assign(code=[f"T{i:08d}" for i in range(len(picks))],
                         latitude=picks["latitude"].astype(float) + np.random.default_rng(2).normal(0, 0.2, len(picks)))
    town = run("townships", towns, config.rules, args.loop_sample)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")
    print(f"RESULT counties={county['regions']} rows={county['rows']} grid_s={county['grid_s']:.2f} "
          f"vectorised_s={county['vectorised_s']:.3f} "
          f"loop_s={county['loop_s']:.1f} ratio={county['loop_s'] / county['vectorised_s']:.0f} "
          f"townships={town['regions']} township_rows={town['rows']} township_grid_s={town['grid_s']:.2f} "
          f"township_vectorised_s={town['vectorised_s']:.2f} "
          f"township_loop_s={town['loop_s']:.0f} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
