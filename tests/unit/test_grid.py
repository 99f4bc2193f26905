"""The forecast as dense arrays: pieces of a pull stacked, local days reduced, providers combined."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triggers.grid import DailyGrid, HourlyGrid
from triggers.weather import drops_over
from tests.unit.helpers import REGIONS, daily

TZ = REGIONS.set_index("code")["timezone"]


def hours(region: str, start: str, temps: list[float], wind: float = 2.0) -> pd.DataFrame:
    times = pd.date_range(start, periods=len(temps), freq="h", tz="UTC")
    return pd.DataFrame({"region_code": region, "valid_time": times, "temp": temps, "wind_speed": wind})


def test_pieces_with_different_hours_stack_onto_one_time_axis():
    # Two requests: one region's hours start 6 h after the other's (a provider's axis moved).
    first, second = hours("220202", "2026-01-17T00:00", [1.0] * 12), hours("110101", "2026-01-17T06:00", [2.0] * 12)
    pieces = [HourlyGrid.from_frame(second), HourlyGrid.from_frame(first)]
    grid = HourlyGrid.joined(pieces)
    assert pieces == []  # let go as they were copied in
    assert list(grid.codes) == ["110101", "220202"]  # sorted, as one table's would be
    assert len(grid.times) == 18 and grid.times[0] == pd.Timestamp("2026-01-17T00:00", tz="UTC")
    temp = grid.values["temp"]
    assert np.isnan(temp[0, :6]).all() and (temp[0, 6:] == 2.0).all()  # 110101 has nothing before 06:00
    assert (temp[1, :12] == 1.0).all() and np.isnan(temp[1, 12:]).all()
    assert np.count_nonzero(~np.isnan(temp)) == 24  # every reading, none invented


def test_a_region_in_two_pieces_keeps_the_later_reading_as_one_table_would():
    early, late = hours("220102", "2026-01-17T00:00", [1.0] * 4), hours("220102", "2026-01-17T02:00", [5.0] * 4)
    grid = HourlyGrid.joined([HourlyGrid.from_frame(early), HourlyGrid.from_frame(late)])
    assert grid.values["temp"].tolist() == [[1.0, 1.0, 5.0, 5.0, 5.0, 5.0]]


def test_a_value_a_later_piece_lacks_is_kept_from_the_earlier_one():
    # The later piece has no apparent temperature (another provider's request): the earlier one's stands.
    early = hours("220102", "2026-01-17T00:00", [1.0] * 2).assign(apparent_temp=[-4.0, -5.0])
    late = hours("220102", "2026-01-17T00:00", [3.0] * 2)
    grid = HourlyGrid.joined([HourlyGrid.from_frame(early), HourlyGrid.from_frame(late)])
    assert grid.values["temp"].tolist() == [[3.0, 3.0]] and grid.values["apparent_temp"].tolist() == [[-4.0, -5.0]]


def test_a_day_nobody_has_stays_a_gap_and_is_not_closed_up():
    # 16 Jan is missing for every region: the drop on 17 Jan is not taken from 15 Jan as if a day apart.
    frame = daily("220102", [(12.0, 0), (11.0, 0), (4.0, 8.0)], first_day="2026-01-15")
    frame = frame[frame["day"] != pd.Timestamp("2026-01-16")]
    grid = DailyGrid.from_frame(frame)
    assert [d.day for d in grid.days] == [15, 16, 17]
    assert np.isnan(grid.values["tmin"][0, 1])
    t = grid.values["tmin"]
    assert np.isnan(drops_over(t, 1)[0, 2])  # no 24 h drop: the day before is unknown
    assert drops_over(t, 2)[0, 2] == 8.0  # the 48 h drop is the one there is, from 15 Jan


def test_an_hourly_providers_day_wins_over_a_daily_providers_and_each_fills_the_others_gaps():
    # 220102 has hourly readings for 17 Jan (local) and a daily provider's row for 17 and 18 Jan.
    hourly = hours("220102", "2026-01-16T16:00", [3.0] * 24)  # 00:00-23:00 on 17 Jan in Beijing
    from_hours = DailyGrid.of_hours(HourlyGrid.from_frame(hourly), TZ)
    from_days = DailyGrid.from_frame(daily("220102", [(-9.0, 0), (-7.0, 0)]).assign(
        region_code="220102"))
    both = from_hours.combined(from_days)
    assert [d.day for d in both.days] == [17, 18]
    assert both.values["tmin"].tolist() == [[3.0, -7.0]]
    assert both.to_frame()[["day", "tmin"]].values.tolist() == [[pd.Timestamp("2026-01-17"), 3.0],
                                                                  [pd.Timestamp("2026-01-18"), -7.0]]
