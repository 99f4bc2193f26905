"""JSON columns on both databases go through notifiers.jsontext: values round-trip, a NaN no longer
fails the write on PostgreSQL, and rows SQLite stored with NaN before still read."""

import math

import sqlalchemy as sa

from warning.db import make_engine

ROWS = sa.Table("json_rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("data", sa.JSON))


def stored(database_url: str, data) -> object:
    engine = make_engine(database_url)
    try:
        ROWS.create(engine)
        with engine.begin() as connection:
            connection.execute(ROWS.insert(), [{"id": 1, "data": data}])
        with engine.connect() as connection:
            return connection.scalar(sa.select(ROWS.c.data))
    finally:
        engine.dispose()


def test_json_columns_round_trip_on_both_databases(database_url):
    data = {"region": "长春市", "min_c": -21.5, "tasks": [{"type": "visit", "count": 3}], "ok": True, "none": None}
    assert stored(database_url, data) == data


def test_nan_is_stored_as_null_on_both_databases(database_url):
    # (PostgreSQL refused the standard library's NaN and failed the whole write)
    assert stored(database_url, {"min_c": math.nan}) == {"min_c": None}


def test_sqlite_rows_written_with_nan_before_still_read(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    ROWS.create(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("""INSERT INTO json_rows (id, data) VALUES (1, '{"min_c": NaN}')"""))
    with engine.connect() as connection:
        assert math.isnan(connection.scalar(sa.select(ROWS.c.data))["min_c"])
    engine.dispose()
