"""Data-integrity checks against a real PostgreSQL server: what passes, what fails and why, the measured RPO,
and what the checks can never do (write, run forever, reach past a validated identifier)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.capabilities.databases.connection import DatabaseUnreachable, connect
from functions.capabilities.databases.integrity import (
    IntegrityCheck,
    IntegrityReport,
    run_integrity_checks,
)
from functions.transient import is_transient
from local.postgres import PostgresCluster

CHECK = TypeAdapter(IntegrityCheck)
INCIDENT_AT = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)


def checks(*raw: dict[str, Any]) -> list[Any]:
    """Checks as the configuration states them (JSON-shaped), validated by the model."""
    return [CHECK.validate_python(item) for item in raw]


def run(cluster: PostgresCluster, *raw: dict[str, Any], timeout: float = 10.0) -> IntegrityReport:
    """Runs the checks on a fresh connection, as the integrity step does."""
    with connect(cluster.url()) as connection:
        return run_integrity_checks(connection, checks(*raw), INCIDENT_AT, statement_timeout_seconds=timeout)


def seed_orders(product: Any, schema: str, *created_at: str) -> None:
    product.run(f"CREATE TABLE {schema}.orders (id serial PRIMARY KEY, total numeric(10, 2), created_at timestamptz)")
    for number, moment in enumerate(created_at, start=1):
        product.run(
            f"INSERT INTO {schema}.orders (total, created_at) VALUES (:total, CAST(:at AS timestamptz))",
            total=f"{number}.50",
            at=moment,
        )


def test_row_count_passes_when_the_table_holds_enough_rows(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given an orders table with 3 rows
    seed_orders(product, schema, "2026-11-28T02:00:00Z", "2026-11-28T02:10:00Z", "2026-11-28T02:20:00Z")
    # When the checks ask for at least 1 and at least 3 rows
    report = run(
        cluster,
        {"kind": "row_count", "table": f"{schema}.orders"},
        {"kind": "row_count", "table": f"{schema}.orders", "min_rows": 3},
    )
    # Then both pass, counting only as far as they need to
    assert report.passed is True
    assert [(r.name, r.passed, r.observed, r.expected) for r in report.results] == [
        (f"rows in {schema}.orders", True, "at least 1", "at least 1 row(s)"),
        (f"rows in {schema}.orders", True, "at least 3", "at least 3 row(s)"),
    ]


def test_row_count_fails_when_the_table_has_fewer_rows(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given an orders table with 2 rows
    seed_orders(product, schema, "2026-11-28T02:00:00Z", "2026-11-28T02:10:00Z")
    # When the check asks for 5
    report = run(cluster, {"kind": "row_count", "table": f"{schema}.orders", "min_rows": 5})
    # Then it fails with the exact count
    (result,) = report.results
    assert (report.passed, result.passed, result.observed) == (False, False, "2")
    assert "fewer than 5" in result.detail


def test_an_empty_table_fails_both_row_count_and_newest_write(
    cluster: PostgresCluster, product: Any, schema: str
) -> None:
    # Given an empty orders table (a restore from the wrong snapshot)
    seed_orders(product, schema)
    # When its rows and newest write are checked
    report = run(
        cluster,
        {"kind": "row_count", "table": f"{schema}.orders"},
        {"kind": "newest_write", "table": f"{schema}.orders", "column": "created_at"},
    )
    # Then both fail, and there is no newest write to measure the RPO from
    assert report.passed is False
    assert [(r.passed, r.observed) for r in report.results] == [(False, "0"), (False, "no rows")]
    assert "is empty" in report.results[1].detail
    assert (report.newest_write_at, report.measured_rpo_seconds) == (None, None)


def test_a_missing_table_is_a_failed_check_and_the_next_checks_still_run(
    cluster: PostgresCluster, product: Any, schema: str
) -> None:
    # Given a schema with orders, but no invoices table
    seed_orders(product, schema, "2026-11-28T02:00:00Z")
    # When invoices is checked first, then orders
    report = run(
        cluster,
        {"kind": "row_count", "table": f"{schema}.invoices"},
        {"kind": "newest_write", "table": f"{schema}.invoices", "column": "created_at"},
        {"kind": "row_count", "table": f"{schema}.orders"},
    )
    # Then the invoices checks fail naming the table, and the orders check (after the error) passes
    assert report.passed is False
    assert [r.passed for r in report.results] == [False, False, True]
    for result in report.results[:2]:
        assert f"table {schema}.invoices does not exist" in result.detail
        assert "42P01" in result.detail


def test_a_missing_column_is_a_failed_check(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given orders without an updated_at column
    seed_orders(product, schema, "2026-11-28T02:00:00Z")
    # When the newest updated_at is checked
    report = run(cluster, {"kind": "newest_write", "table": f"{schema}.orders", "column": "updated_at"})
    # Then the check fails saying so
    assert report.passed is False
    assert "column does not exist" in report.results[0].detail


def test_the_newest_write_gives_the_measured_rpo(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given orders written until 02:53:20 and events until 02:58:00, and an incident at 03:00:00
    seed_orders(product, schema, "2026-11-28T02:50:00Z", "2026-11-28T02:53:20Z", "2026-11-28T01:00:00Z")
    product.run(f"CREATE TABLE {schema}.events (at timestamptz)")
    product.run(f"INSERT INTO {schema}.events VALUES ('2026-11-28T02:58:00Z'), ('2026-11-28T02:40:00Z')")
    # When the newest writes of both tables are checked
    report = run(
        cluster,
        {"kind": "newest_write", "table": f"{schema}.orders", "column": "created_at"},
        {"kind": "newest_write", "table": f"{schema}.events", "column": "at"},
    )
    # Then each reports its newest write, and the restore point is the newest of them: 120 s before the incident
    assert report.passed is True
    assert [r.observed for r in report.results] == ["2026-11-28T02:53:20+00:00", "2026-11-28T02:58:00+00:00"]
    assert report.newest_write_at == datetime(2026, 11, 28, 2, 58, tzinfo=UTC)
    assert report.measured_rpo_seconds == 120.0


def test_the_measured_rpo_is_never_negative(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given a write recorded after the incident time (clock skew, or an incident time set too early)
    seed_orders(product, schema, "2026-11-28T03:00:05Z")
    # When the newest write is checked
    report = run(cluster, {"kind": "newest_write", "table": f"{schema}.orders", "column": "created_at"})
    # Then the RPO is clamped at zero
    assert report.newest_write_at == datetime(2026, 11, 28, 3, 0, 5, tzinfo=UTC)
    assert report.measured_rpo_seconds == 0.0


def test_a_timestamp_without_time_zone_is_read_as_utc(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given a legacy table with a zone-less timestamp column, in the public schema (an unqualified name)
    table = f"legacy_{schema}"
    product.run(f"CREATE TABLE {table} (written timestamp)")
    product.run(f"INSERT INTO {table} VALUES ('2026-11-28 02:30:00'), (NULL)")
    # When its newest write is checked
    report = run(cluster, {"kind": "newest_write", "table": table, "column": "written"})
    # Then it is read as UTC, and the report says so
    assert report.passed is True
    assert report.measured_rpo_seconds == 1800.0
    assert "read as UTC" in report.results[0].detail


def test_a_column_without_any_value_fails_newest_write(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given rows whose created_at are all NULL
    product.run(f"CREATE TABLE {schema}.orders (created_at timestamptz)")
    product.run(f"INSERT INTO {schema}.orders VALUES (NULL), (NULL)")
    # When the newest write is checked
    report = run(cluster, {"kind": "newest_write", "table": f"{schema}.orders", "column": "created_at"})
    # Then it fails: the table has rows, but no timestamp to measure from
    assert (report.passed, report.results[0].observed, report.measured_rpo_seconds) == (False, "NULL", None)


def test_a_column_that_is_not_a_timestamp_fails_newest_write(
    cluster: PostgresCluster, product: Any, schema: str
) -> None:
    # Given orders whose total is numeric
    seed_orders(product, schema, "2026-11-28T02:00:00Z")
    # When total is configured as the newest-write column
    report = run(cluster, {"kind": "newest_write", "table": f"{schema}.orders", "column": "total"})
    # Then the check fails saying it is not a timestamp
    assert report.passed is False
    assert "not timestamps" in report.results[0].detail


@pytest.mark.parametrize(
    ("sql", "expect", "passed", "observed"),
    [
        ("SELECT count(*) FROM {s}.orders", {"min": 3}, True, "3"),
        ("SELECT count(*) FROM {s}.orders", {"min": 4}, False, "3"),
        ("SELECT sum(total) FROM {s}.orders", {"min": 7.5}, True, "7.50"),
        ("SELECT sum(total) FROM {s}.orders", {"equals": 7.5}, True, "7.50"),
        ("SELECT sum(total) FROM {s}.orders", {"equals": 7}, False, "7.50"),
        ("SELECT count(*) FROM {s}.orders;", {"equals": 3}, True, "3"),
        ("SELECT 'ready'::text AS state", {"equals": "ready"}, True, "ready"),
        ("SELECT 'ready'::text AS state", {"equals": "READY"}, False, "ready"),
        ("SELECT count(*) > 0 FROM {s}.orders", {"equals": True}, True, "true"),
        ("SELECT 1", {"equals": True}, False, "1"),
        ("SELECT NULL::int", {"equals": None}, True, "NULL"),
        ("SELECT NULL::int", {"min": 0}, False, "NULL"),
        ("WITH big AS (SELECT * FROM {s}.orders WHERE total > 2) SELECT count(*) FROM big", {"min": 2}, True, "2"),
        ("SELECT (ARRAY[5, 6, 7])[2:3]", {"equals": "[6, 7]"}, True, "[6, 7]"),
        ("SELECT id FROM {s}.orders ORDER BY id DESC", {"equals": 3}, True, "3"),
        ("""SELECT '{{"state": "ok"}}'::jsonb""", {"equals": '{"state": "ok"}'}, True, '{"state": "ok"}'),
    ],
)
def test_a_query_check_compares_the_first_column_of_the_first_row(
    cluster: PostgresCluster,
    product: Any,
    schema: str,
    sql: str,
    expect: dict[str, Any],
    passed: bool,
    observed: str,
) -> None:
    # Given 3 orders totalling 1.50 + 2.50 + 3.50 = 7.50
    seed_orders(product, schema, "2026-11-28T02:00:00Z", "2026-11-28T02:10:00Z", "2026-11-28T02:20:00Z")
    # When the query check runs
    report = run(cluster, {"kind": "query", "name": "orders sane", "sql": sql.format(s=schema), "expect": expect})
    # Then the first value is compared with the expectation
    (result,) = report.results
    assert (result.name, result.passed, result.observed, report.passed) == ("orders sane", passed, observed, passed)


def test_a_query_without_rows_fails(cluster: PostgresCluster, product: Any, schema: str) -> None:
    # Given no orders
    seed_orders(product, schema)
    # When a query check selects from it
    report = run(
        cluster, {"kind": "query", "name": "any", "sql": f"SELECT id FROM {schema}.orders", "expect": {"min": 0}}
    )
    # Then there is nothing to compare: the check fails
    assert (report.passed, report.results[0].detail) == (False, "the query returned no row")


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        # A data-modifying WITH is refused already by the subquery the check's SQL runs in
        ("WITH gone AS (DELETE FROM {s}.orders RETURNING id) SELECT count(*) FROM gone", "0A000"),
        ("WITH added AS (INSERT INTO {s}.orders (total) VALUES (9) RETURNING id) SELECT count(*) FROM added", "0A000"),
        # ...the rest by the read-only transaction
        ("SELECT nextval('{s}.orders_id_seq')", "25006"),
        ("SELECT count(*) FROM (SELECT * FROM {s}.orders FOR UPDATE) AS locked", "25006"),
        ("SELECT set_config('transaction_read_only', 'off', false)", "25001"),
    ],
)
def test_a_query_check_cannot_write(
    cluster: PostgresCluster, product: Any, schema: str, sql: str, refusal: str
) -> None:
    # Given 2 orders
    seed_orders(product, schema, "2026-11-28T02:00:00Z", "2026-11-28T02:10:00Z")
    # When a query check tries to change data, then a row count follows
    report = run(
        cluster,
        {"kind": "query", "name": "sneaky", "sql": sql.format(s=schema), "expect": {"min": 0}},
        {"kind": "row_count", "table": f"{schema}.orders", "min_rows": 2},
    )
    # Then the write is refused, the check fails, the next check runs, and nothing changed
    assert [r.passed for r in report.results] == [False, True]
    assert f"({refusal}:" in report.results[0].detail
    assert product.run(f"SELECT count(*), max(id) FROM {schema}.orders") == [[2, 2]]
    assert product.run(f"SELECT last_value FROM {schema}.orders_id_seq") == [[2]]


def test_a_check_past_its_statement_timeout_fails_and_the_next_one_runs(cluster: PostgresCluster) -> None:
    # Given a query that takes 2 s, under a 1 s statement timeout
    slow = {"kind": "query", "name": "slow", "sql": "SELECT 1 FROM pg_sleep(2)", "expect": {"min": 1}}
    fast = {"kind": "query", "name": "fast", "sql": "SELECT 1", "expect": {"equals": 1}}
    # When the checks run
    report = run(cluster, slow, fast, timeout=1.0)
    # Then the slow check is cancelled by the server and fails; the next check passes
    assert [r.passed for r in report.results] == [False, True]
    assert "statement timeout of 1 s" in report.results[0].detail
    assert "57014" in report.results[0].detail


def test_the_checks_leave_the_connection_outside_any_transaction(cluster: PostgresCluster, schema: str) -> None:
    # Given a connection that ran checks, one of which failed
    with connect(cluster.url()) as connection:
        run_integrity_checks(connection, checks({"kind": "row_count", "table": f"{schema}.missing"}), INCIDENT_AT)
        # When it is used afterwards
        # Then it can write again (it is neither read-only nor in an aborted transaction)
        connection.run(f"CREATE TABLE {schema}.after (id int)")
        assert connection.run("SHOW transaction_read_only") == [["off"]]


def test_no_checks_do_not_pass() -> None:
    # Given no checks at all (a connection is not even needed to know)
    # When the report is made from nothing
    report = run_integrity_checks(_NoDatabase(), [], INCIDENT_AT)
    # Then it does not pass: an unchecked restore is not a checked one
    assert (report.passed, report.results) == (False, [])


class _NoDatabase:
    """Accepts the transaction statements and nothing else: the empty list must not query anything."""

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        assert sql in ("START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", "ROLLBACK")
        return []


def test_a_session_lost_mid_checks_is_a_transient_error(cluster: PostgresCluster) -> None:
    # Given a connection whose server session is terminated (a restored instance rebooting)
    # (the error is caught outside the connection's `with`: leaving it closes the dead connection)
    with (
        pytest.raises(DatabaseUnreachable) as raised,
        connect(cluster.url()) as connection,
        cluster.admin() as admin,
    ):
        ((pid,),) = connection.run("SELECT pg_backend_pid()")
        admin.run("SELECT pg_terminate_backend(CAST(:pid AS integer), 5000)", pid=pid)  # waits until it is gone
        # When checks run on it, as the integrity step does
        run_integrity_checks(connection, checks({"kind": "row_count", "table": "orders"}), INCIDENT_AT)
    # Then the error that comes out is one the workflow retries
    assert is_transient(raised.value)


def test_incident_time_must_carry_a_zone(cluster: PostgresCluster) -> None:
    # Given an incident time without a zone, When checks run, Then they refuse before querying
    with connect(cluster.url()) as connection, pytest.raises(ValueError, match="time zone"):
        run_integrity_checks(connection, [], datetime(2026, 11, 28, 3, 0))


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "row_count", "table": "orders; DROP TABLE orders"},
        {"kind": "row_count", "table": 'orders" --'},
        {"kind": "row_count", "table": "Orders"},
        {"kind": "row_count", "table": "public.orders.extra"},
        {"kind": "row_count", "table": "orders\n"},
        {"kind": "row_count", "table": "1orders"},
        {"kind": "row_count", "table": "a" * 64},
        {"kind": "row_count", "table": ""},
        {"kind": "newest_write", "table": "orders", "column": "created_at) FROM pg_user; --"},
        {"kind": "newest_write", "table": "orders", "column": "public.created_at"},
        {"kind": "newest_write", "table": "pg_catalog.pg_authid/*", "column": "x"},
    ],
)
def test_identifiers_that_are_not_plain_names_are_refused(raw: dict[str, Any]) -> None:
    # Given a check naming something that is not a plain lower-case identifier, When it is validated
    # Then the model refuses it: no such text ever reaches SQL
    with pytest.raises(ValidationError):
        CHECK.validate_python(raw)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE orders",
        "SELECT 1;; ",
        "DELETE FROM orders",
        "UPDATE orders SET total = 0",
        "INSERT INTO orders VALUES (1)",
        "DROP TABLE orders",
        "COPY orders TO PROGRAM 'id'",
        "SET ROLE postgres",
        "selectx 1",
        "SELECT 1 \x00",
        "SELECT " + "1" * 2000,
    ],
)
def test_query_checks_accept_only_one_select(sql: str) -> None:
    # Given a query check whose SQL is not a single SELECT, When it is validated, Then it is refused
    with pytest.raises(ValidationError):
        CHECK.validate_python({"kind": "query", "name": "q", "sql": sql, "expect": {"min": 1}})


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "row_count", "table": "orders", "min_rows": "5"},
        {"kind": "row_count", "table": "orders", "min_rows": True},
        {"kind": "row_count", "table": "orders", "min_rows": -1},
        {"kind": "row_count", "table": "orders", "limit": 5},
        {"kind": "row_count"},
        {"kind": "drop_table", "table": "orders"},
        {"kind": "query", "name": "q", "sql": "SELECT 1", "expect": {"min": "1"}},
        {"kind": "query", "name": "q", "sql": "SELECT 1", "expect": {"min": float("nan")}},
        {"kind": "query", "name": "q", "sql": "SELECT 1", "expect": {"min": 1, "equals": 1}},
        {"kind": "query", "name": "q", "sql": "SELECT 1", "expect": {}},
        {"kind": "query", "name": "", "sql": "SELECT 1", "expect": {"min": 1}},
        {"kind": "query", "name": "q\nforged line", "sql": "SELECT 1", "expect": {"min": 1}},
    ],
)
def test_checks_are_strict(raw: dict[str, Any]) -> None:
    # Given a check with a wrong type, an unknown field or kind, or a missing field, When it is validated
    # Then it is refused rather than coerced or ignored
    with pytest.raises(ValidationError):
        CHECK.validate_python(raw)


def test_checks_read_from_json_configuration() -> None:
    # Given the checks as JSON text, as the configuration holds them
    text = (
        '[{"kind": "row_count", "table": "public.orders", "min_rows": 10},'
        ' {"kind": "newest_write", "table": "orders", "column": "created_at"},'
        ' {"kind": "query", "name": "paid orders", "sql": "SELECT count(*) FROM orders WHERE paid;",'
        '  "expect": {"equals": 4}}]'
    )
    # When they are validated
    parsed = TypeAdapter(list[IntegrityCheck]).validate_json(text)
    # Then each has its kind, and the SQL lost its trailing ';'
    assert [type(c).__name__ for c in parsed] == ["RowCountCheck", "NewestWriteCheck", "QueryCheck"]
    assert parsed[2].sql == "SELECT count(*) FROM orders WHERE paid"
    assert parsed[2].expect.equals == 4
