"""PostgreSQL URLs and connections, as the applications' connection secret holds them.

A URL is ``postgresql://user:password@host:port/database?sslmode=...`` (``postgres://`` too), with special
characters in the user and password percent-encoded. :func:`with_endpoint` keeps everything but the host and
port: it points the checks at a restored instance, and it is the URL the switched secret receives.

Connections use pg8000 (pure Python, no native library in the function bundle), imported inside :func:`connect`
so the functions that never open a database do not pay for it at cold start. TLS is required unless the URL says
``sslmode=disable``: RDS always offers it, and a credential must not cross the network in the clear because a URL
left the mode out.

Errors are split the way the workflow retries: :class:`DatabaseUnreachable` (no route, refused, timed out, dropped)
is a :class:`ConnectionError`, which the step wrapper turns into ``TransientError`` and the workflow retries (a
restored instance may still be starting). :class:`DatabaseConnectionRejected` (bad password, no such database, TLS
refused or unverifiable) is a ``RollbackError`` and fails the step at once: retrying will not change the answer.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import socket
import ssl
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from functions.errors import RollbackError

if TYPE_CHECKING:
    from pg8000.native import Connection

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: tuple[SslMode, ...] = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SCHEMES = ("postgresql", "postgres")
DEFAULT_PORT = 5432
LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")
# PostgreSQL's names (roles, databases) are at most 63 bytes; a longer value is a mistake, not a name.
MAX_NAME = 63
MAX_PASSWORD = 1024
APPLICATION_NAME = "rollback-pipeline"
# SQLSTATE classes and codes that mean "try again later": connection exceptions, "the server is starting up or
# shutting down" (a restored instance's first minutes), too many connections.
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "53400"})


class InvalidDatabaseUrl(ValueError):
    """The text is not a usable PostgreSQL URL. The message names the part, never the password."""


class DatabaseUnreachable(ConnectionError):
    """The database did not answer: retried by the workflow as a transient error."""


class DatabaseConnectionRejected(RollbackError):
    """The database answered and refused the session (credentials, database name, TLS): not worth a retry."""


class PostgresUrl(BaseModel):
    """A parsed PostgreSQL URL. The password is a ``SecretStr``: it stays out of reprs and logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["postgresql", "postgres"] = "postgresql"
    user: str = Field(min_length=1, max_length=MAX_NAME)
    password: SecretStr | None = Field(default=None, max_length=MAX_PASSWORD)
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=MAX_NAME)
    params: tuple[tuple[str, str], ...] = ()

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        return _valid_host(host)

    @field_validator("params")
    @classmethod
    def _known_sslmode(cls, params: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        mode = dict(params).get("sslmode", "require")
        if mode not in SSL_MODES:
            raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}")
        return params

    @property
    def sslmode(self) -> SslMode:
        """The URL's ``sslmode``; ``require`` when it has none."""
        return cast(SslMode, dict(self.params).get("sslmode", "require"))

    @property
    def sslrootcert(self) -> str | None:
        """A CA bundle file to verify the server with (``verify-ca``/``verify-full``), e.g. RDS's global bundle."""
        return dict(self.params).get("sslrootcert")

    def to_url(self) -> str:
        password = None if self.password is None else self.password.get_secret_value()
        return self._render(password)

    def redacted(self) -> str:
        """The URL with the password masked, for logs and approval pages."""
        return self._render(None if self.password is None else "***", encode_password=False)

    def with_endpoint(self, host: str, port: int) -> PostgresUrl:
        return _build({**dict(self), "host": host, "port": _valid_port(port)})

    def _render(self, password: str | None, *, encode_password: bool = True) -> str:
        credentials = quote(self.user, safe="")
        if password is not None:
            credentials += ":" + (quote(password, safe="") if encode_password else password)
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?{urlencode(self.params, quote_via=quote)}" if self.params else ""
        return f"{self.scheme}://{credentials}@{host}:{self.port}/{quote(self.database, safe='')}{query}"


def parse_postgres_url(url: str) -> PostgresUrl:
    """Parses ``url``; raises :class:`InvalidDatabaseUrl` naming what is wrong (never echoing the password)."""
    if not isinstance(url, str) or len(url) > 4096:
        raise InvalidDatabaseUrl("a PostgreSQL URL is text of at most 4096 characters")
    text = url.strip()
    if "#" in text:
        raise InvalidDatabaseUrl("the URL has a '#': percent-encode it in the password as %23")
    try:
        parts = urlsplit(text)
        port = parts.port
        params = tuple(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)))
    except ValueError:
        raise InvalidDatabaseUrl("the URL's port or parameters cannot be read") from None
    if parts.scheme not in SCHEMES:
        raise InvalidDatabaseUrl("a PostgreSQL URL starts with postgresql:// or postgres://")
    if not parts.username:
        raise InvalidDatabaseUrl("the URL names no user")
    if not parts.hostname or "," in parts.netloc.rpartition("@")[2]:
        raise InvalidDatabaseUrl("the URL must name one host (Unix sockets and host lists are not supported)")
    if not parts.path.startswith("/") or not parts.path[1:] or "/" in parts.path[1:]:
        raise InvalidDatabaseUrl("the URL's path must be one database name, as in postgresql://user@host/dbname")
    return _build(
        {
            "scheme": parts.scheme,
            "user": unquote(parts.username),
            "password": None if parts.password is None else SecretStr(unquote(parts.password)),
            "host": parts.hostname,
            "port": DEFAULT_PORT if port is None else port,
            "database": unquote(parts.path[1:]),
            "params": params,
        }
    )


def with_endpoint(url: str, host: str, port: int) -> str:
    """``url`` with ``host:port`` in place of its endpoint: same credentials, database and parameters."""
    return parse_postgres_url(url).with_endpoint(host, port).to_url()


def endpoint_of(url: str) -> tuple[str, int]:
    """``(host, port)`` of ``url``: the instance it points at."""
    parsed = parse_postgres_url(url)
    return parsed.host, parsed.port


def ssl_context_for(url: PostgresUrl) -> ssl.SSLContext | Literal[False]:
    """pg8000's ``ssl_context`` for the URL's ``sslmode``. ``allow``/``prefer`` (plaintext when the server has no
    TLS) are treated as ``require``: RDS always has it, and a silent downgrade is what they would permit."""
    mode = url.sslmode
    if mode == "disable":
        return False
    if mode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context(cafile=url.sslrootcert)
        context.check_hostname = mode == "verify-full"
        return context
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def connect(url: str | PostgresUrl, timeout_seconds: float = 5.0, *, read_timeout_seconds: float = 60.0) -> Connection:
    """A pg8000 native connection to ``url`` (a context manager; autocommit until a transaction is started).
    Reaching the server is bounded by ``timeout_seconds`` (an instance that does not answer fails fast, as a
    transient error); every later read by ``read_timeout_seconds``, a backstop behind the statement timeouts the
    caller sets, for a network that goes silent."""
    from pg8000.exceptions import DatabaseError, InterfaceError

    target = url if isinstance(url, PostgresUrl) else parse_postgres_url(url)
    tls = ssl_context_for(target)
    where = f"{target.host}:{target.port}"
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout_seconds)
    except OSError as error:
        raise DatabaseUnreachable(f"cannot reach the database at {where}: {error}") from error
    sock.settimeout(read_timeout_seconds)
    try:
        return _connection_class()(
            user=target.user,
            password=target.password.get_secret_value() if target.password else None,
            host=target.host,
            port=target.port,
            database=target.database,
            sock=sock,
            ssl_context=tls,
            application_name=APPLICATION_NAME,
        )
    except ssl.SSLCertVerificationError as error:
        sock.close()
        raise DatabaseConnectionRejected(f"the database at {where} has a certificate that does not verify") from error
    except (OSError, InterfaceError) as error:
        sock.close()
        if isinstance(error, OSError) or isinstance(error.__cause__, OSError):
            raise DatabaseUnreachable(f"the database at {where} stopped answering: {error}") from error
        raise DatabaseConnectionRejected(f"the database at {where} refused the session: {error}") from error
    except DatabaseError as error:
        sock.close()
        code, message = sqlstate_of(error)
        if code in TRANSIENT_SQLSTATES or code.startswith("08"):
            raise DatabaseUnreachable(f"the database at {where} is not ready ({code}): {message}") from error
        raise DatabaseConnectionRejected(f"the database at {where} refused the session ({code}): {message}") from error


@functools.cache
def _connection_class() -> type[Connection]:
    """pg8000's native connection, except that closing one whose session is already gone is quiet: otherwise
    leaving ``with connect(...)`` after a lost session replaces :class:`DatabaseUnreachable`, which the workflow
    retries, with pg8000's ``InterfaceError``, which it does not."""
    from pg8000.exceptions import InterfaceError
    from pg8000.native import Connection

    class QuietlyClosingConnection(Connection):
        def close(self) -> None:
            with contextlib.suppress(InterfaceError, OSError):
                super().close()

    return QuietlyClosingConnection


def sqlstate_of(error: BaseException) -> tuple[str, str]:
    """``(SQLSTATE, message)`` of a pg8000 ``DatabaseError`` (its first argument is the server's error fields)."""
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(fields.get("C", "")), str(fields.get("M", error))


def _build(fields: dict[str, Any]) -> PostgresUrl:
    try:
        return PostgresUrl.model_validate(fields)
    except ValidationError as error:  # its text would hold the input values: name the field and the reason only
        first = error.errors()[0]
        raise InvalidDatabaseUrl(f"the URL's {first['loc'][0]} is not valid: {first['msg']}") from None


def _valid_host(host: str) -> str:
    candidate = host.strip("[]")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    if not HOSTNAME.match(candidate):
        raise InvalidDatabaseUrl(f"{candidate[:253]!r} is not a host name or an IP address")
    return candidate.lower()


def _valid_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidDatabaseUrl(f"{port!r} is not a TCP port")
    return port
