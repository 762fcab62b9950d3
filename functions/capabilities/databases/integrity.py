"""Data-integrity checks of a restored database, run before the applications' connection is switched to it.

A restore that "succeeded" can still hold the wrong data: an empty table (the wrong snapshot), a schema from before
a migration, a restore point earlier than intended. The checks are configured per database (``cdk.json``) as a
list of :data:`IntegrityCheck`, discriminated on ``kind``:

- ``row_count``: the table exists and has at least ``min_rows`` rows (counted up to ``min_rows`` only: a restored
  volume loads its blocks lazily, and a full count of a large table would spend the rollback's minutes);
- ``newest_write``: the newest value of a timestamp column. It is the **measured RPO**: the data lost is what
  was written between that moment and the incident (``incident_at - newest_write``, never below 0);
- ``query``: one read-only ``SELECT`` whose first column of the first row must be at least ``min`` or equal to
  ``equals``.

Everything runs in one ``READ ONLY`` ``REPEATABLE READ`` transaction (one snapshot; no check can write, whatever
its SQL says), each check under its own savepoint and statement timeout, so one failing check neither aborts the
others nor runs forever. Table and column names are validated (lower-case SQL identifiers only) and always
double-quoted; values are never formatted into SQL. A check that finds a problem (missing table, too few rows,
timeout, refused query) is a failed result with the reason in ``detail``; only losing the database itself raises
(:class:`DatabaseUnreachable`, retried by the workflow).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.capabilities.databases.connection import DatabaseUnreachable, sqlstate_of
from functions.text import bounded

if TYPE_CHECKING:
    from pg8000.native import Connection

IDENTIFIER = r"[a-z_][a-z0-9_]{0,62}"
TableName = Annotated[str, Field(max_length=127, pattern=rf"^{IDENTIFIER}(\.{IDENTIFIER})?$")]
ColumnName = Annotated[str, Field(max_length=63, pattern=rf"^{IDENTIFIER}$")]
CheckName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:/()-]*$")]
MAX_SQL = 2000
MAX_TEXT = 256
MAX_DETAIL = 500
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 10.0
READ_ONLY_SQL = re.compile(r"^(select|with)\b", re.IGNORECASE)
# SQLSTATEs that mean the session or the server went away mid-check: not a finding about the data.
LOST_SESSION = frozenset({"57P01", "57P02", "57P03", "53300"})


class CheckModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class RowCountCheck(CheckModel):
    """The table exists and holds at least ``min_rows`` rows."""

    kind: Literal["row_count"]
    table: TableName
    min_rows: int = Field(default=1, ge=0, le=1_000_000_000)

    @property
    def label(self) -> str:
        return f"rows in {self.table}"


class NewestWriteCheck(CheckModel):
    """The newest value of ``column`` (a timestamp): the last write the restored copy holds."""

    kind: Literal["newest_write"]
    table: TableName
    column: ColumnName

    @property
    def label(self) -> str:
        return f"newest {self.table}.{self.column}"


class AtLeast(CheckModel):
    min: int | float

    @field_validator("min")
    @classmethod
    def _finite(cls, value: int | float) -> int | float:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("min must be a finite number")
        return value

    def describe(self) -> str:
        return f"at least {self.min}"


class EqualTo(CheckModel):
    equals: Annotated[str, Field(max_length=MAX_TEXT)] | int | float | bool | None

    def describe(self) -> str:
        return f"= {_text(self.equals)}"


class QueryCheck(CheckModel):
    """One read-only ``SELECT`` (or ``WITH ... SELECT``); its first column of its first row is compared with
    ``expect``. A trailing ``;`` is allowed, any other is refused: one statement per check."""

    kind: Literal["query"]
    name: CheckName
    sql: str = Field(min_length=1, max_length=MAX_SQL)
    expect: AtLeast | EqualTo

    @field_validator("sql")
    @classmethod
    def _single_select(cls, sql: str) -> str:
        statement = sql.strip().removesuffix(";").rstrip()
        if not READ_ONLY_SQL.match(statement):
            raise ValueError("a query check is a SELECT (or WITH ... SELECT) statement")
        if ";" in statement:
            raise ValueError("a query check is one statement: no ';' but at its end")
        if any(ord(c) < 32 and c not in "\t\n\r" for c in statement):
            raise ValueError("the SQL holds control characters")
        return statement

    @property
    def label(self) -> str:
        return self.name


IntegrityCheck = Annotated[RowCountCheck | NewestWriteCheck | QueryCheck, Field(discriminator="kind")]


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: str
    passed: bool
    observed: str
    expected: str
    detail: str = ""


class IntegrityReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    results: list[CheckResult]
    passed: bool
    newest_write_at: datetime | None = None
    measured_rpo_seconds: float | None = None


def run_integrity_checks(
    connection: Connection,
    checks: Sequence[RowCountCheck | NewestWriteCheck | QueryCheck],
    incident_at: datetime,
    *,
    statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
) -> IntegrityReport:
    """Runs ``checks`` on ``connection`` (a pg8000 native connection, see ``connection.connect``) and reports.
    ``passed`` needs at least one check and every check passed. Raises :class:`DatabaseUnreachable` when the
    session is lost; the connection is left in no transaction otherwise."""
    if incident_at.tzinfo is None:
        raise ValueError("incident_at must carry a time zone")
    timeout_ms = max(1, round(statement_timeout_seconds * 1000))
    results: list[CheckResult] = []
    newest_writes: list[datetime] = []
    with _unreachable_on_lost_session():
        connection.run("START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            for check in checks:
                result, newest = _run_one(connection, check, timeout_ms)
                results.append(result)
                if newest is not None:
                    newest_writes.append(newest)
        except BaseException:
            with contextlib.suppress(Exception):
                connection.run("ROLLBACK")
            raise
        connection.run("ROLLBACK")  # nothing to keep: the transaction only read
    newest_write_at = max(newest_writes, default=None)
    rpo = None if newest_write_at is None else max(0.0, (incident_at - newest_write_at).total_seconds())
    return IntegrityReport(
        results=results,
        passed=bool(results) and all(r.passed for r in results),
        newest_write_at=newest_write_at,
        measured_rpo_seconds=rpo,
    )


@contextlib.contextmanager
def _unreachable_on_lost_session() -> Iterator[None]:
    from pg8000.exceptions import DatabaseError, InterfaceError

    try:
        yield
    except (InterfaceError, OSError) as error:
        raise DatabaseUnreachable(f"lost the database session during the integrity checks: {error}") from error
    except DatabaseError as error:
        code, message = sqlstate_of(error)
        if code in LOST_SESSION or code.startswith("08"):
            raise DatabaseUnreachable(f"the database ended the session ({code}): {message}") from error
        raise


def _run_one(
    connection: Connection, check: RowCountCheck | NewestWriteCheck | QueryCheck, timeout_ms: int
) -> tuple[CheckResult, datetime | None]:
    from pg8000.exceptions import DatabaseError

    connection.run("SAVEPOINT integrity_check")
    connection.run("SELECT set_config('statement_timeout', :timeout, true)", timeout=str(timeout_ms))
    try:
        if isinstance(check, RowCountCheck):
            outcome: tuple[CheckResult, datetime | None] = (_row_count(connection, check), None)
        elif isinstance(check, NewestWriteCheck):
            outcome = _newest_write(connection, check)
        else:
            outcome = (_query(connection, check), None)
    except DatabaseError as error:
        code, message = sqlstate_of(error)
        if code in LOST_SESSION or code.startswith("08"):
            raise
        connection.run("ROLLBACK TO SAVEPOINT integrity_check")
        return _refused(check, code, message, timeout_ms), None
    connection.run("RELEASE SAVEPOINT integrity_check")
    return outcome


def _row_count(connection: Connection, check: RowCountCheck) -> CheckResult:
    limit = max(check.min_rows, 1)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {quote_table(check.table)} LIMIT :limit) AS sample"
    ((count,),) = connection.run(sql, limit=limit)
    observed = f"at least {count}" if count >= limit else str(count)
    passed = count >= check.min_rows
    detail = "" if passed else f"{check.table} has {count} row(s), fewer than {check.min_rows}"
    return _result(check, passed, observed, f"at least {check.min_rows} row(s)", detail)


def _newest_write(connection: Connection, check: NewestWriteCheck) -> tuple[CheckResult, datetime | None]:
    table, column = quote_table(check.table), quote_identifier(check.column)
    sql = f"SELECT (SELECT max({column}) FROM {table}), EXISTS (SELECT 1 FROM {table})"
    ((value, has_rows),) = connection.run(sql)
    expected = "a row with a timestamp"
    if not has_rows:
        return _result(check, False, "no rows", expected, f"{check.table} is empty"), None
    if value is None:
        return _result(check, False, "NULL", expected, f"no row of {check.table} has a {check.column}"), None
    newest = _as_utc(value)
    if newest is None:
        detail = f"{check.table}.{check.column} holds {type(value).__name__} values, not timestamps"
        return _result(check, False, _text(value), expected, detail), None
    detail = "" if isinstance(value, datetime) and value.tzinfo else "a time without a zone, read as UTC"
    return _result(check, True, newest.isoformat(), expected, detail), newest


def _query(connection: Connection, check: QueryCheck) -> CheckResult:
    # Wrapped as a subquery, parsed by the server as one statement (extended protocol), and sent verbatim: pg8000's
    # own parameter syntax (":name") would rewrite colons in the check's SQL (casts, array slices).
    wrapped = f"SELECT * FROM (\n{check.sql}\n) AS integrity_query LIMIT 1"
    rows = connection.execute_unnamed(wrapped).rows
    expected = check.expect.describe()
    if not rows:
        return _result(check, False, "no row", expected, "the query returned no row")
    value = rows[0][0]
    if isinstance(check.expect, AtLeast):
        number = _number(value)
        if number is None:
            return _result(check, False, _text(value), expected, "the first column is not a number")
        return _result(check, number >= _number_of(check.expect.min), _text(value), expected)
    return _result(check, _equal(value, check.expect.equals), _text(value), expected)


def _refused(
    check: RowCountCheck | NewestWriteCheck | QueryCheck, code: str, message: str, timeout_ms: int
) -> CheckResult:
    reasons = {
        "42P01": "the table does not exist",
        "3F000": "the schema does not exist",
        "42703": "the column does not exist",
        "57014": f"cancelled: it ran past the statement timeout of {timeout_ms / 1000:g} s",
        "25006": "the check tried to write; checks run in a read-only transaction",
        "25001": "the check tried to leave the read-only transaction",
        "42501": "permission denied",
    }
    table = getattr(check, "table", None)
    reason = reasons.get(code, "the database refused it")
    if code == "42P01" and table:
        reason = f"table {table} does not exist"
    return _result(check, False, "error", _expected_of(check), f"{reason} ({code}: {message})")


def _expected_of(check: RowCountCheck | NewestWriteCheck | QueryCheck) -> str:
    if isinstance(check, RowCountCheck):
        return f"at least {check.min_rows} row(s)"
    if isinstance(check, NewestWriteCheck):
        return "a row with a timestamp"
    return check.expect.describe()


def _result(
    check: RowCountCheck | NewestWriteCheck | QueryCheck, passed: bool, observed: str, expected: str, detail: str = ""
) -> CheckResult:
    return CheckResult(
        name=check.label,
        kind=check.kind,
        passed=passed,
        observed=bounded(observed, MAX_TEXT),
        expected=bounded(expected, MAX_TEXT),
        detail=bounded(detail, MAX_DETAIL),
    )


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier. Callers pass validated names; quoting still doubles any quote."""
    return '"' + name.replace('"', '""') + '"'


def quote_table(table: str) -> str:
    """``schema.table`` or ``table``, each part quoted."""
    return ".".join(quote_identifier(part) for part in table.split("."))


def _as_utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return None


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return _number_of(value)


def _number_of(value: int | float | Decimal) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - str() of a number is always a Decimal literal
        return Decimal("NaN")


def _equal(observed: object, expected: str | int | float | bool | None) -> bool:
    """Equality across the types a database returns and JSON can say: booleans only equal booleans, numbers
    compare by value (``Decimal('2.50') == 2.5``), text compares with the observed value's text."""
    if expected is None or observed is None:
        return observed is expected
    if isinstance(expected, bool) or isinstance(observed, bool):
        return type(observed) is type(expected) and observed == expected
    if isinstance(expected, int | float):
        number = _number(observed)
        return number is not None and number == _number_of(expected)
    return _text(observed) == expected


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict | list):  # json, jsonb and arrays
        return bounded(json.dumps(value, default=str), MAX_TEXT)
    return bounded(str(value), MAX_TEXT)
