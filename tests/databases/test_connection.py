"""PostgreSQL URLs (parsing, re-pointing, redaction) and connections: TLS by default, the password as on RDS,
and the split between errors the workflow retries and errors it does not."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.capabilities.databases.connection import (
    DatabaseConnectionRejected,
    DatabaseUnreachable,
    InvalidDatabaseUrl,
    PostgresUrl,
    connect,
    endpoint_of,
    parse_postgres_url,
    ssl_context_for,
    with_endpoint,
)
from functions.transient import is_transient
from local.postgres import PRODUCT_PASSWORD, PostgresCluster

ROOT = Path(__file__).resolve().parents[2]
RDS_URL = "postgresql://app_user:s%40fe%2Fp%3Ass%25w0rd@orders.c9akciq32.us-east-1.rds.amazonaws.com:5432/orders?sslmode=verify-full&application_name=web"


def test_a_url_is_read_into_its_parts() -> None:
    # Given an RDS URL whose password holds @ / : %, When it is parsed
    url = parse_postgres_url(RDS_URL)
    # Then every part is decoded, and the password stays out of the model's text
    assert (url.scheme, url.user, url.host, url.port, url.database) == (
        "postgresql",
        "app_user",
        "orders.c9akciq32.us-east-1.rds.amazonaws.com",
        5432,
        "orders",
    )
    assert url.password is not None and url.password.get_secret_value() == "s@fe/p:ss%w0rd"
    assert url.sslmode == "verify-full"
    assert "s@fe" not in repr(url) and "s%40fe" not in str(url)


def test_postgres_scheme_default_port_and_tls_by_default() -> None:
    # Given a short URL with the postgres:// scheme, no port and no sslmode, When it is parsed
    url = parse_postgres_url("postgres://app@db.internal/app")
    # Then the port is PostgreSQL's, TLS is required, the scheme is kept, and there is no password
    assert (url.scheme, url.port, url.sslmode, url.password) == ("postgres", 5432, "require", None)
    assert url.to_url() == "postgres://app@db.internal:5432/app"


def test_with_endpoint_keeps_everything_but_host_and_port() -> None:
    # Given the source instance's URL, When it is pointed at the restored instance
    switched = with_endpoint(RDS_URL, "orders-restored.c9akciq32.us-east-1.rds.amazonaws.com", 6543)
    # Then only the endpoint changed: credentials, database and parameters are the same
    before, after = parse_postgres_url(RDS_URL), parse_postgres_url(switched)
    assert endpoint_of(switched) == ("orders-restored.c9akciq32.us-east-1.rds.amazonaws.com", 6543)
    assert after.model_copy(update={"host": before.host, "port": before.port}) == before
    assert after.password is not None and after.password.get_secret_value() == "s@fe/p:ss%w0rd"
    assert switched.endswith(":6543/orders?sslmode=verify-full&application_name=web")


def test_redacted_masks_only_the_password() -> None:
    # Given a URL with a password, When it is redacted for a log line
    text = parse_postgres_url(RDS_URL).redacted()
    # Then the password is masked and the rest is readable
    assert text == (
        "postgresql://app_user:***@orders.c9akciq32.us-east-1.rds.amazonaws.com:5432/orders"
        "?sslmode=verify-full&application_name=web"
    )


names = st.text(min_size=1, max_size=63)
hosts = st.one_of(
    st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,3}\Z"),
    st.ip_addresses().map(str),
)
params = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=40)), max_size=3).map(
    lambda pairs: tuple(p for p in pairs if p[0] != "sslmode")
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)  # a busy CI machine is slow
@given(
    user=names,
    password=st.one_of(st.none(), st.text(max_size=80)),
    host=hosts,
    port=st.integers(1, 65535),
    database=names,
    extra=params,
    new_host=hosts,
    new_port=st.integers(1, 65535),
)
def test_urls_round_trip_whatever_the_credentials(
    user: str,
    password: str | None,
    host: str,
    port: int,
    database: str,
    extra: tuple[tuple[str, str], ...],
    new_host: str,
    new_port: int,
) -> None:
    # Given any user, password, database and parameters (any character, URL-special ones included)
    url = PostgresUrl.model_validate(
        {"user": user, "password": password, "host": host, "port": port, "database": database, "params": extra}
    )
    # When the URL is written, read back, and pointed at another endpoint
    text = url.to_url()
    moved = parse_postgres_url(with_endpoint(text, new_host, new_port))
    # Then reading gives the same URL, and moving changes the endpoint only
    assert parse_postgres_url(text) == url
    assert moved == url.model_copy(update={"host": moved.host, "port": new_port})
    assert endpoint_of(moved.to_url()) == (moved.host, new_port)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mysql://app:pw@db/app", "postgresql://"),
        ("postgresql://db.internal/app", "no user"),
        ("postgresql://app:pw@/app", "one host"),
        ("postgresql://app:pw@a,b/app", "one host"),
        ("postgresql://app:pw@db.internal", "database name"),
        ("postgresql://app:pw@db.internal/app/extra", "database name"),
        ("postgresql://app:pw@db.internal:99999/app", "port"),
        ("postgresql://app:pw@db.internal:port/app", "port"),
        ("postgresql://app:pw@db.internal/app?sslmode=sometimes", "sslmode"),
        ("postgresql://app:hunter#2@db.internal/app", "%23"),
        ("postgresql://app:pw@db internal/app", "host"),
    ],
)
def test_invalid_urls_are_refused_naming_the_part(text: str, says: str) -> None:
    # Given a URL that is wrong in one part, When it is parsed
    with pytest.raises(InvalidDatabaseUrl) as raised:
        parse_postgres_url(text)
    # Then the error names that part, and never repeats the password
    assert says in str(raised.value)
    assert "hunter" not in str(raised.value) and ":pw@" not in str(raised.value)


@pytest.mark.parametrize(("host", "port"), [("db internal", 5432), ("db.internal", 0), ("db.internal", 70000)])
def test_with_endpoint_refuses_a_bad_endpoint(host: str, port: int) -> None:
    with pytest.raises(InvalidDatabaseUrl):
        with_endpoint(RDS_URL, host, port)


def test_sslmode_gives_the_tls_settings() -> None:
    # Given URLs with each sslmode, When their TLS settings are derived
    def context(mode: str) -> ssl.SSLContext | bool:
        return ssl_context_for(parse_postgres_url(f"postgresql://app@db.internal/app?sslmode={mode}"))

    # Then disable is plaintext, require/prefer encrypt without verifying, verify-ca checks the chain and
    # verify-full the chain and the host name; no sslmode at all means require
    assert context("disable") is False
    for mode in ("require", "prefer", "allow"):
        tls = context(mode)
        assert isinstance(tls, ssl.SSLContext) and (tls.verify_mode, tls.check_hostname) == (ssl.CERT_NONE, False)
    ca, full = context("verify-ca"), context("verify-full")
    assert isinstance(ca, ssl.SSLContext) and (ca.verify_mode, ca.check_hostname) == (ssl.CERT_REQUIRED, False)
    assert isinstance(full, ssl.SSLContext) and (full.verify_mode, full.check_hostname) == (ssl.CERT_REQUIRED, True)
    default = ssl_context_for(parse_postgres_url("postgresql://app@db.internal/app"))
    assert isinstance(default, ssl.SSLContext)


def test_the_product_connects_with_its_password(cluster: PostgresCluster) -> None:
    # Given the cluster's URL for the product's role (its password holds @ : / %)
    assert any(c in PRODUCT_PASSWORD for c in "@:/%")
    # When the product connects
    with connect(cluster.url()) as connection:
        # Then it is that role, on that database, over TCP
        assert connection.run("SELECT current_user, current_database(), inet_server_port()") == [
            ["skillancer", "skillancer", cluster.port]
        ]


def test_a_wrong_password_is_rejected_not_retried(cluster: PostgresCluster) -> None:
    # Given the right URL with the wrong password, When connecting
    with pytest.raises(DatabaseConnectionRejected) as raised:
        connect(cluster.url(password="not the password"))
    # Then the server's refusal is a permanent error naming the SQLSTATE
    assert "28P01" in str(raised.value)
    assert not is_transient(raised.value)


def test_a_missing_database_is_rejected_not_retried(cluster: PostgresCluster) -> None:
    with pytest.raises(DatabaseConnectionRejected, match="3D000"):
        connect(cluster.url(database="no_such_database"))


def test_tls_is_required_unless_the_url_disables_it(cluster: PostgresCluster) -> None:
    # Given the local server, which has no TLS, and its URL without sslmode=disable
    plain = cluster.url().replace("?sslmode=disable", "")
    # When the product connects
    with pytest.raises(DatabaseConnectionRejected, match="SSL"):
        connect(plain)
    # Then it refused to send the password in the clear (with sslmode=disable the same URL connects)
    with connect(cluster.url()) as connection:
        assert connection.run("SELECT 1") == [[1]]


def test_a_closed_port_is_a_transient_error_at_once() -> None:
    # Given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # When connecting to it
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as raised:
        connect(f"postgresql://app:pw@127.0.0.1:{port}/app?sslmode=disable", timeout_seconds=2)
    # Then the error comes before the timeout, and the workflow retries it
    assert time.monotonic() - started < 2
    assert is_transient(raised.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("sslmode", ["disable", "require"])
def test_a_server_that_never_answers_times_out_as_a_transient_error(silent_server: int, sslmode: str) -> None:
    # Given a server that accepts the connection and then stays silent
    url = f"postgresql://app:pw@127.0.0.1:{silent_server}/app?sslmode={sslmode}"
    # When connecting with a 0.3 s read timeout
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as raised:
        connect(url, timeout_seconds=0.3, read_timeout_seconds=0.3)
    # Then the timeout is honoured (far sooner than the 60 s default) and the error is retried
    assert time.monotonic() - started < 10
    assert is_transient(raised.value)


def test_functions_that_import_the_database_modules_do_not_load_pg8000() -> None:
    # Given a new interpreter, When the database modules are imported (as a function's cold start does)
    script = (
        "import sys\n"
        "import functions.capabilities.databases.connection, functions.capabilities.databases.integrity\n"
        "print('pg8000' in sys.modules, 'scramp' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT)
    # Then pg8000 waits until a connection is opened
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"
