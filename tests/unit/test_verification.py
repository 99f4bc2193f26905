"""Verification scores on sequences of cycle records worked out by hand (the records are built here)."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from triggers.verification import (HAZARDS, DayRecord, brier_table, contingency_table, lead_table, observed,
                                   reliability_table, score)

PAST_DAYS = 2  # each record starts two local days before its clock's day
CST = 8  # China Standard Time, hours east of UTC


def record(as_of: datetime, cold_wave: dict[str, list[int]], members: dict[str, list[int]] | None = None,
           meeting: dict[str, list[list[int]]] | None = None, stage_pct=(40.0, 70.0)) -> DayRecord:
    """A record of `cold_wave` levels per region, from two days before `as_of`'s Beijing day; the other
    hazards unknown. `meeting[code]`: per level, the members meeting it on each day."""
    codes = sorted(cold_wave)
    days = len(cold_wave[codes[0]])
    local = as_of + timedelta(hours=CST)
    first_day = np.datetime64(local.date(), "D") - PAST_DAYS
    start_h = -(PAST_DAYS * 24 + local.hour)
    levels = {hazard: np.full((len(codes), days), -1, dtype=np.int8) for hazard in HAZARDS}
    levels["cold_wave"] = np.array([cold_wave[c] for c in codes], dtype=np.int8)
    r = DayRecord(as_of, np.array(codes), first_day, np.full(len(codes), start_h, dtype=np.float32), levels,
                  np.array([members[c] for c in codes] if members else np.zeros((len(codes), days)), dtype=np.uint16))
    if meeting:
        r.meeting["cold_wave"] = np.array([meeting[c] for c in codes], dtype=np.uint16).transpose(1, 0, 2)
        r.stage_pct["cold_wave"] = np.tile(np.array(stage_pct, dtype=np.float32), (len(codes), 1))
    return r


def at(day: int) -> datetime:
    return datetime(2027, 1, day, tzinfo=timezone.utc)  # 08:00 in Beijing


def changchun_sequence() -> list[DayRecord]:
    # Days:               8  9 10 11 12 13          (0 none, 1 blue, 2 yellow, 3 orange)
    a = record(at(10), {"220102": [0, 0, 0, 2, 2, 0]})  # forecasts 10–13
    #                    10 11 12 13 14 15
    b = record(at(12), {"220102": [0, 3, 1, 1, 0, 0]})  # saw 10 (none) and 11 (orange); forecasts 12–15
    #                    12 13 14
    c = record(at(14), {"220102": [1, 0, 0]})  # saw 12 (blue) and 13 (none)
    #                    13 14 15
    d = record(at(15), {"220102": [2, 0, 0]})  # saw 13 again (a later analysis, not the first) and 14
    return [c, a, d, b]  # in any order


def row(table: pd.DataFrame, **keys) -> dict:
    chosen = table
    for name, value in keys.items():
        chosen = chosen[chosen[name] == value]
    assert len(chosen) == 1, f"{keys}: {len(chosen)} rows"
    return chosen.iloc[0].to_dict()


def test_what_happened_is_the_first_later_cycle_for_which_the_day_was_over():
    truth = observed(changchun_sequence())
    row = int(np.searchsorted(truth.codes, "220102"))
    day = lambda d: row * 1_000_000 + np.datetime64(f"2027-01-{d:02d}", "D").astype(np.int64)
    seen, _ = truth.at("cold_wave", np.array([day(d) for d in (8, 9, 10, 11, 12, 13, 14, 15)]))
    # 8, 9 from a's past days; 10, 11 from b's; 12, 13 from c's; 14 from d's; 15 no cycle has seen over
    assert seen.tolist() == [0, 0, 0, 3, 1, 0, 0, -1]


def test_hits_misses_and_false_alarms_by_level_worked_by_hand():
    table = contingency_table(score(changchun_sequence()), by=("source", "hazard", "level"))
    det = table[table["source"] == "deterministic"]
    # blue: a said 11 (yes) and 12 (yes), b said 12 (yes) and 13 (no: false alarm)
    blue = row(det, level="blue")
    assert (blue["hits"], blue["misses"], blue["false_alarms"]) == (3, 0, 1)
    assert (blue["pod"], blue["far"], blue["csi"]) == (1.0, 0.25, 0.75)
    # yellow: a said 11 (orange happened: hit) and 12 (blue happened: false alarm); b said nothing
    yellow = row(det, level="yellow")
    assert (yellow["hits"], yellow["misses"], yellow["false_alarms"]) == (1, 0, 1)
    # orange: happened on 11, forecast yellow only: a miss; no forecast means FAR has nothing to say
    orange = row(det, level="orange")
    assert (orange["hits"], orange["misses"], orange["false_alarms"], orange["pod"]) == (0, 1, 0, 0.0)
    assert np.isnan(orange["far"])
    assert "red" not in set(det["level"])
    assert set(table["source"]) == {"deterministic"}  # no ensemble came


def test_scores_by_lead_day():
    table = contingency_table(score(changchun_sequence()), by=("source", "hazard", "level", "lead_d"))
    blue = table[(table["source"] == "deterministic") & (table["level"] == "blue")]
    counts = {int(r.lead_d): (r.hits, r.misses, r.false_alarms) for r in blue.itertuples()}
    # lead 0: b on 12 (hit); lead 1: a on 11 (hit), b on 13 (false alarm); lead 2: a on 12 (hit)
    assert counts == {0: (1, 0, 0), 1: (1, 0, 1), 2: (1, 0, 0)}


def test_warning_lead_is_the_longest_lead_an_event_was_forecast_at():
    leads = lead_table(score(changchun_sequence()))
    det = leads[leads["source"] == "deterministic"]
    # blue on 11: a, 16 h before Beijing midnight; blue on 12: a (40 h) before b (same day)
    blue = row(det, level="blue")
    assert (blue["events_warned"], blue["mean_lead_h"]) == (2, 28.0)
    assert (row(det, level="yellow")["events_warned"], row(det, level="yellow")["mean_lead_h"]) == (1, 16.0)
    assert "orange" not in set(det["level"])


def test_province_and_month_groups():
    records = changchun_sequence() + [record(at(10), {"150102": [0, 0, 0, 1, 0, 0]}),
                                      record(at(12), {"150102": [0, 0, 0, 0, 0, 0]})]
    table = contingency_table(score(records), by=("source", "province", "month", "level"))
    inner_mongolia = row(table, source="deterministic", province="150000", level="blue")
    assert (inner_mongolia["hits"], inner_mongolia["false_alarms"], inner_mongolia["month"]) == (0, 1, 1)
    assert row(table, source="deterministic", province="220000", level="blue")["hits"] == 3
    only = contingency_table(score(records), by=("source", "level"), province="150102")
    assert row(only, source="deterministic", level="blue")["false_alarms"] == 1


def ensemble_case() -> list[DayRecord]:
    """20 regions, 10 members, forecast for tomorrow (lead 1): ten at 7 of 10 members orange (7 happen),
    ten at 3 of 10 (3 happen)."""
    codes = [f"2201{n:02d}" for n in range(1, 21)]
    happens = {c: (i < 7) if i < 10 else (i < 13) for i, c in enumerate(codes)}
    share = {c: 7 if i < 10 else 3 for i, c in enumerate(codes)}
    quiet = {c: [0, 0, 0, 0] for c in codes}
    forecast = record(at(10), quiet, members={c: [0, 0, 0, 10] for c in codes},
                      meeting={c: [[0, 0, 0, share[c]]] * 3 + [[0, 0, 0, 0]] for c in codes})
    later = record(at(13), {c: [3 if happens[c] else 0, 0, 0] for c in codes})  # saw 11 (and 12)
    return [forecast, later]


def test_reliability_table_and_brier_score_on_a_known_answer():
    scores = score(ensemble_case())
    table = reliability_table(scores)
    orange = table[(table["hazard"] == "cold_wave") & (table["level"] == "orange")]
    assert orange[["bin_from_pct", "forecasts", "mean_probability", "observed_frequency"]].values.tolist() == [
        [30, 10, 0.3, 0.3], [70, 10, 0.7, 0.7]]
    # 7 x (0.7-1)² + 3 x 0.7² + 3 x (0.3-1)² + 7 x 0.3² = 0.63 + 1.47 + 1.47 + 0.63 = 4.2, over 20
    brier = row(brier_table(scores, by=("hazard", "level")), hazard="cold_wave", level="orange")
    assert (brier["forecasts"], brier["brier"]) == (20, 0.21)
    # red: no member meets it and it did not happen: a perfect 0
    assert row(brier_table(scores, by=("hazard", "level")), hazard="cold_wave", level="red")["brier"] == 0.0


def test_the_ensemble_scored_at_each_regions_prepare_and_act_shares():
    table = contingency_table(score(ensemble_case()), by=("source", "level"))
    for source in ("ensemble_prepare", "ensemble_act"):  # 40 % and 70 %: 7 of 10 reach both, 3 of 10 neither
        orange = row(table, source=source, level="orange")
        assert (orange["hits"], orange["misses"], orange["false_alarms"]) == (7, 3, 3)
    strict = ensemble_case()
    strict[0].stage_pct["cold_wave"][:, 1] = 71.0  # 7 of 10 is not 71 %
    act = row(contingency_table(score(strict), by=("source", "level")), source="ensemble_act", level="orange")
    assert (act["hits"], act["misses"], act["false_alarms"]) == (0, 10, 0)


def test_a_record_survives_storage_unchanged():
    original = ensemble_case()[0]
    again = DayRecord.from_bytes(original.to_bytes())
    assert again.as_of == original.as_of and again.first_day == original.first_day
    assert again.codes.tolist() == original.codes.tolist()
    assert np.array_equal(again.meeting["cold_wave"], original.meeting["cold_wave"])
    assert np.array_equal(again.levels["persistent_cold"], original.levels["persistent_cold"])
    assert contingency_table(score([again, ensemble_case()[1]])).equals(contingency_table(score(ensemble_case())))


def test_an_observed_series_is_preferred_where_it_has_the_day():
    # an observed series pulled on the 14th: 11 January was quiet, though the cycles' analysis saw orange
    observation = record(at(14), {"220102": [0, 0, 0, 0]})  # 12, 13, 14, 15: only 12 and 13 are over
    newer = record(at(15), {"220102": [0, 0, 0]})  # 13, 14, 15: a later reading of 13 and 14
    sequence = changchun_sequence()
    truth = observed(sequence, [newer, observation])
    region = int(np.searchsorted(truth.codes, "220102"))
    day = lambda d: region * 1_000_000 + np.datetime64(f"2027-01-{d:02d}", "D").astype(np.int64)
    seen, _ = truth.at("cold_wave", np.array([day(d) for d in (11, 12, 13, 14)]))
    assert seen.tolist() == [3, 0, 0, 0]  # 11 from the analysis (no observation), 12 observed quiet
    blue = contingency_table(score(sequence, [newer, observation]), by=("source", "level"))
    blue = row(blue, source="deterministic", level="blue")
    # 12 was forecast blue by a (lead 2) and b (lead 0): two false alarms now, not hits
    assert (blue["hits"], blue["false_alarms"]) == (1, 3)
