"""Caseload CSV import: every bad row named by file, row and column; nothing half-imported."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from triggers.validation import InvalidConfig
from warning.caseload import export_caseload, import_caseload, import_shelters
from warning.models import Caseload, Shelter

HEADER = ("region_code,dibao_urban,dibao_rural,tekun_urban,tekun_rural,ill_disabled,elderly_alone,orphans,"
          "unsupported_children,rough_sleepers,dibao_standard_urban,dibao_standard_rural,tekun_standard_urban,"
          "tekun_standard_rural\n")
GOOD = "220102,100,0,10,0,20,30,1,2,3,850,600,1105,780\n"


def stored(rt) -> dict:
    with rt.sessions() as session:
        return {c.region_code: c.dibao_urban for c in session.scalars(select(Caseload))}


def test_good_file_replaces_the_counties_it_names(make_runtime):
    rt = make_runtime()
    with rt.sessions.begin() as session:
        import_caseload(session, HEADER + GOOD, "a.csv", rt.config.region_codes)
    with rt.sessions.begin() as session:
        import_caseload(session, HEADER + GOOD.replace("220102,100", "220102,150")
                        + "220202,7,0,1,0,1,1,0,0,0,780,540,1014,702\n", "b.csv", rt.config.region_codes)
    assert stored(rt) == {"220102": 150, "220202": 7}
    with rt.sessions() as session:
        assert export_caseload(session).splitlines()[1].startswith("220102,150,0,10")


def test_one_bad_row_rejects_the_file_and_keeps_what_was_stored(make_runtime):
    rt = make_runtime()
    with rt.sessions.begin() as session:
        import_caseload(session, HEADER + GOOD, "a.csv", rt.config.region_codes)
    bad = (HEADER + GOOD.replace("220102,100", "220102,999")
           + "220202,-5,0,1,0,1,1,0,0,0,780,540,1014,702\n"
           + "999999,1,0,1,0,1,1,0,0,0,780,540,1014,702\n"
           + "220203,1,0,1,0,1,1,0,0,0,abc,540,1014,702\n")
    with pytest.raises(InvalidConfig) as caught:
        with rt.sessions.begin() as session:
            import_caseload(session, bad, "upload.csv", rt.config.region_codes)
    assert caught.value.problems == [  # every problem in one pass, unknown codes among the bad values
        "upload.csv, row 3, column dibao_urban: must be a whole number from 0 to 2,147,483,647 (got '-5')",
        "upload.csv, row 4, column region_code: unknown region code 999999",
        "upload.csv, row 5, column dibao_standard_urban: must be a number (got 'abc')",
    ]
    assert stored(rt) == {"220102": 100}


def test_unknown_region_and_duplicates_are_named(make_runtime):
    rt = make_runtime()
    content = HEADER + GOOD + GOOD + GOOD.replace("220102", "999999")
    with pytest.raises(InvalidConfig) as caught:
        with rt.sessions.begin() as session:
            import_caseload(session, content, "c.csv", rt.config.region_codes)
    assert caught.value.problems == ["c.csv, row 3, column region_code: 220102 appears more than once",
                                     "c.csv, row 4, column region_code: unknown region code 999999"]
    assert stored(rt) == {}


def test_missing_column_is_named(make_runtime):
    rt = make_runtime()
    with pytest.raises(InvalidConfig, match="d.csv: header: missing column.s. rough_sleepers"):
        with rt.sessions.begin() as session:
            import_caseload(session, HEADER.replace(",rough_sleepers", "") + GOOD, "d.csv", rt.config.region_codes)


def test_shelters_replace_per_county(make_runtime):
    rt = make_runtime()
    header = "region_code,name,address,capacity\n"
    with rt.sessions.begin() as session:
        import_shelters(session, header + "220102,A,a,10\n220102,B,b,20\n220202,C,c,5\n", "s.csv",
                        rt.config.region_codes)
    with rt.sessions.begin() as session:
        import_shelters(session, header + "220102,D,d,40\n", "s2.csv", rt.config.region_codes)
    with rt.sessions() as session:
        assert sorted((s.region_code, s.name) for s in session.scalars(select(Shelter))) == [
            ("220102", "D"), ("220202", "C")]


def test_a_gbk_file_from_excel_is_read(make_runtime):
    rt = make_runtime()
    content = "region_code,name,address,capacity\n220102,南关区救助站,人民大街 1 号,30\n".encode("gbk")
    with rt.sessions.begin() as session:
        import_shelters(session, content, "gbk.csv", rt.config.region_codes)
    with rt.sessions() as session:
        assert [s.name for s in session.scalars(select(Shelter))] == ["南关区救助站"]
