"""Engine and sessions. SQLite by default (one process), PostgreSQL by URL (several)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Integer, LargeBinary, Numeric, Table, TypeDecorator,
                        any_, cast, create_engine, event, func, insert, literal_column, select, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, object_mapper, sessionmaker
from sqlalchemy.orm.base import instance_state

from notifiers import jsontext

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
IDS_AHEAD_FROM = 10  # rows of one table in a flush; fewer get their ids back from INSERT … RETURNING
JSON_CODEC = {"json_serializer": jsontext.dumps_text, "json_deserializer": jsontext.loads}  # JSON columns


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **JSON_CODEC)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    from warning.logs import instance_id
    # the instance's name shows in pg_stat_activity (and beside the advisory lock it holds)
    return create_engine(url, pool_pre_ping=True, connect_args={"application_name": f"coldwarn {instance_id()}"[:63]},
                         **JSON_CODEC)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the web) do not block the cycle's writes
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    sessions = sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name == "postgresql":
        event.listen(sessions, "before_flush", _ids_ahead)
    return sessions


def _ids_ahead(session: Session, _context, _instances) -> None:
    """Give the rows a flush inserts their ids from their table's sequence first, one round trip a table.

    The ORM then inserts rows that have ids with one short executemany, which psycopg parses once;
    otherwise it sends multi-row INSERT … RETURNING statements too long for psycopg's cache, parsed
    afresh each time: that parsing was most of a national cycle's persist stage.
    """
    waiting = defaultdict(list)  # (table, attribute of its id) -> instances without an id
    for instance in session.new:
        mapper = object_mapper(instance)
        column = mapper.local_table.autoincrement_column
        if column is not None:
            key = mapper.get_property_by_column(column).key
            if getattr(instance, key) is None:
                waiting[(mapper.local_table, key)].append(instance)
    for (table, key), instances in waiting.items():
        if len(instances) < IDS_AHEAD_FROM:
            continue
        instances.sort(key=lambda instance: instance_state(instance).insert_order)  # ids follow the adding order
        for instance, new_id in zip(instances, next_ids(session, table, len(instances))):
            setattr(instance, key, new_id)


def next_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` new ids from the table's sequence, ascending (PostgreSQL)."""
    return sorted(session.connection().scalars(
        text("SELECT nextval(pg_get_serial_sequence(:table, :column)) FROM generate_series(1, :n)"),
        {"table": table.name, "column": table.autoincrement_column.name, "n": count}))


def insert_rows(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Insert rows without ORM objects, in order; their new ids, in the same order.
    (PostgreSQL: ids taken ahead, as in _ids_ahead, and the rows copied; SQLite: INSERT … RETURNING, sorted back.)"""
    if session.get_bind().dialect.name == "postgresql":
        ids = next_ids(session, table, len(rows))
        write_rows(session, table, [row | {table.autoincrement_column.name: new_id} for row, new_id in zip(rows, ids)])
        return ids
    inserted = session.execute(insert(table).returning(table.autoincrement_column, sort_by_parameter_order=True), rows)
    return list(inserted.scalars())


def write_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert rows that all have the same keys, in the session's transaction, returning nothing.

    On PostgreSQL by COPY: a national cycle writes some 500,000 task and outbox rows, and an
    executemany of INSERTs spent most of its time building and sending each statement. The rows are
    written as COPY's text here, each column by one formatter (UTC times, JSON through the engine's
    codec): handing psycopg the values one by one cost more than the rest of the cycle's persist.
    Columns left out get their Python-side defaults."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    defaults = {c.name: c.default for c in table.columns if c.name not in names and c.default is not None
                and not c.default.is_sequence}
    columns = [table.c[name] for name in [*names, *defaults]]
    fixed = [d.arg if d.is_scalar else d.arg(None) for d in defaults.values()]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*filter(None, (table.schema, table.name))), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(rows), COPY_CHUNK_ROWS):
            chunk = rows[start:start + COPY_CHUNK_ROWS]
            # column by column: each column's formatter over all its values, then the rows joined
            texts = [list(map(copy_format(column), values)) for column, values in zip(columns, [
                [row[name] for row in chunk] for name in names] + [[value] * len(chunk) for value in fixed])]
            copy.write("\n".join(map("\t".join, zip(*texts))) + "\n")


def among(session: Session, column, ids: Iterable[int]):
    """`column IN (ids)` with the ids as one parameter. An IN of a batch's 500 ids is compiled and
    handed to the driver value by value: with the NOT IN of the batch on its way, a fifth of reading
    the next batch of a drain."""
    listed = ",".join(map(str, ids))
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(func.string_to_array(listed, ","), ARRAY(BigInteger)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(f"[{listed}]")))


COPY_CHUNK_ROWS = 1000
COPY_NULL = "\\N"


def aware_utc_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given; coldwarn stores aware UTC times only")
    return value.astimezone(timezone.utc).isoformat()


COPY_TEXT = [(DateTime, aware_utc_text), (Boolean, lambda value: "t" if value else "f"), ((Integer, Numeric, Date), str),
             (LargeBinary, lambda value: "\\\\x" + value.hex())]


def copy_format(column) -> Callable[[object], str]:
    """How a value of this column is written in COPY's text format. A JSON column takes None as JSON's
    null, as SQLAlchemy's JSON type does; every other column as SQL NULL."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, JSON):
        return lambda value: escaped(jsontext.dumps_text(value))
    text_of = next((write for types, write in COPY_TEXT if isinstance(kind, types)), lambda value: escaped(str(value)))
    known: dict = {None: COPY_NULL}  # (a cycle's rows repeat their times and codes: each written once)

    def write(value) -> str:
        try:
            return known[value]
        except KeyError:
            known[value] = written = text_of(value)
            return written
    return write


def escaped(text: str) -> str:
    """COPY's text format: a backslash, tab, newline or carriage return inside a value is escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def migrations() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def missing_migrations(engine: Engine) -> str | None:
    """None when the database is at the newest migration; else which revision it is at and which it needs."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    newest = ScriptDirectory.from_config(migrations()).get_current_head()
    return None if current == newest else f"it is at {current or 'no revision (empty)'}, this version needs {newest}"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations on this engine's database."""
    from warning.leader import MIGRATION_LOCK, cluster_lock
    config = migrations()
    with cluster_lock(engine, MIGRATION_LOCK, wait=True), engine.begin() as connection:
        config.attributes["connection"] = connection  # instances starting together migrate one after another
        command.upgrade(config, revision)
