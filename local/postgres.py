"""Throwaway PostgreSQL servers on 127.0.0.1 for the tests and the drill (never deployed).

    with PostgresFarm() as farm:
        source = farm.new_cluster()       # one server per emulated RDS instance
        restored = farm.new_cluster()     # same database name, its own data
        source.url()      # postgresql://skillancer:<password>@127.0.0.1:<port>/skillancer?sslmode=disable
        source.admin()    # a pg8000 connection as the superuser (tables it creates are not the product's)

Each cluster is a real server from Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``, the
newest version installed; ``POSTGRES_BIN_DIR`` points elsewhere). Like an RDS instance it has a superuser
(``postgres``) and the product's role (``skillancer``, owner of the database ``skillancer``), both logging in with a
password (SCRAM) over TCP: the product connects with ``user:password`` exactly as it does on RDS. TLS is off, so
the product's URLs say ``sslmode=disable``.

Why it is shaped this way:

- PostgreSQL refuses to run as root, and CI runs as root: ``initdb``/``postgres``/``pg_ctl`` then run as
  ``nobody``, in a folder from ``tempfile.mkdtemp()`` under /tmp chowned to it (pytest's ``tmp_path`` sits under a
  0700 folder ``nobody`` cannot enter).
- A second server must be cheap (a test of a restore needs the source and each restored instance): ``initdb``
  and the roles are made once per process into a template data directory, and every cluster starts from a
  ``cp -a`` of it (ownership kept). WAL segments of 1 MiB keep the copy small (~35 MB).
- Speed over durability: ``initdb --no-sync``, ``fsync``, ``synchronous_commit`` and ``full_page_writes`` off,
  ``pg_ctl stop -m immediate``: the data is thrown away anyway.

Measured (PostgreSQL 15.18, the 2-core development machine), per cluster of a farm:

================================  ==========================  ===================================
                                  quiet machine (load ~1)     busy (load 6: other test runs)
================================  ==========================  ===================================
first of a process                ~1.5 s                      3.8-9.7 s
  initdb / roles / copy / start   1.15 / 0.07 / 0.15 / 0.15   2.65 / 0.38 / 0.65 / 0.15
second and later (copy + start)   0.3-0.4 s                   0.4-3 s
stop (immediate) and delete       0.1 s                       0.1-0.3 s
================================  ==========================  ===================================

The copy is ~35 MB in ~1300 files; ``initdb`` alone (no template) would cost every cluster the first row's time.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

DEBIAN_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = "apt-get update && apt-get install -y --no-install-recommends postgresql (make test does it)"
HOST = "127.0.0.1"
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "local superuser"
PRODUCT_ROLE = "skillancer"
# URL-special characters on purpose: every test that connects proves the product's URL encoding round-trips.
PRODUCT_PASSWORD = "local p@ss:w/rd%"
PRODUCT_DATABASE = "skillancer"
SERVER_USER = "nobody"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SPEED_SETTINGS = (
    "-F",  # fsync off
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c shared_buffers=16MB",
    "-c max_connections=30",
)
HBA = f"""\
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   {HOST}/32  scram-sha-256
"""
COMMAND_TIMEOUT = 60


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresFailed(RuntimeError):
    """initdb, pg_ctl or postgres failed; the message holds its output."""


def postgres_bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``/``postgres``: ``$POSTGRES_BIN_DIR``, else Debian's newest version."""
    override = os.environ.get("POSTGRES_BIN_DIR")
    if override:
        if not (Path(override) / "initdb").is_file():
            raise PostgresNotInstalled(f"POSTGRES_BIN_DIR={override} has no initdb")
        return Path(override)
    found = sorted(DEBIAN_ROOT.glob("*/bin/initdb"), key=lambda p: _version_key(p.parent.parent.name))
    if not found:
        raise PostgresNotInstalled(f"no PostgreSQL server in {DEBIAN_ROOT}/<version>/bin; install it: {INSTALL_HINT}")
    return found[-1].parent


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _server_identity() -> tuple[int, int] | None:
    """``(uid, gid)`` to run the server as: ``nobody`` when this process is root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    account = pwd.getpwnam(SERVER_USER)
    return account.pw_uid, account.pw_gid


def _hand_over(path: Path) -> None:
    identity = _server_identity()
    if identity is not None:
        os.chown(path, *identity)


def _run(args: list[str], *, stdin: str | None = None, what: str) -> str:
    identity = _server_identity()
    switch: dict[str, Any] = {}
    if identity is not None:
        switch = {"user": identity[0], "group": identity[1], "extra_groups": []}
    result = subprocess.run(
        args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"},
        timeout=COMMAND_TIMEOUT,
        check=False,
        **switch,
    )
    if result.returncode != 0:
        raise PostgresFailed(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}".strip())
    return result.stdout


class _Template:
    """The data directory every cluster of this process is copied from: initdb and the roles, once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._bin: Path | None = None

    def data_dir(self, bin_dir: Path) -> Path:
        with self._lock:
            if self._folder is None or self._bin != bin_dir:
                self._folder = self._build(bin_dir)
                self._bin = bin_dir
                atexit.register(shutil.rmtree, self._folder, True)
            return self._folder / "data"

    @staticmethod
    def _build(bin_dir: Path) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="postgres-template-"))
        _hand_over(folder)
        data = folder / "data"
        _run(
            [str(bin_dir / "initdb"), "--no-sync", "--no-instructions", "-A", "trust", "-U", SUPERUSER,
             "--no-locale", "-E", "UTF8", "--wal-segsize=1", "-D", str(data)],
            what="initdb",
        )  # fmt: skip
        (data / "pg_hba.conf").write_text(HBA)
        roles = (
            f"ALTER ROLE {SUPERUSER} PASSWORD '{SUPERUSER_PASSWORD}'\n"
            f"CREATE ROLE {PRODUCT_ROLE} LOGIN PASSWORD '{PRODUCT_PASSWORD}'\n"
            f"CREATE DATABASE {PRODUCT_DATABASE} OWNER {PRODUCT_ROLE}\n"
        )
        _run(
            [str(bin_dir / "postgres"), "--single", "-F", "-c", "exit_on_error=true", "-D", str(data), "postgres"],
            stdin=roles,
            what="creating the roles",
        )
        return folder


_TEMPLATE = _Template()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """One PostgreSQL server on 127.0.0.1 with its own data, from the process's template.

    ``start()`` (or ``with``) runs it on a free port; ``stop()`` stops it and deletes its folder."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or postgres_bin_dir()
        self._folder: Path | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the cluster is not running")
        return self._port

    @property
    def data_dir(self) -> Path:
        if self._folder is None:
            raise RuntimeError("the cluster is not running")
        return self._folder / "data"

    def start(self, attempts: int = 3) -> PostgresCluster:
        if self._folder is not None:
            return self
        template = _TEMPLATE.data_dir(self.bin_dir)
        folder = Path(tempfile.mkdtemp(prefix="postgres-"))
        _hand_over(folder)
        subprocess.run(["cp", "-a", str(template), str(folder / "data")], check=True, timeout=COMMAND_TIMEOUT)
        self._folder = folder
        _LIVE.add(self)
        for attempt in range(attempts):
            port = _free_port()
            try:
                self._pg_ctl_start(folder, port)
            except PostgresFailed:
                if attempt == attempts - 1:  # another process may have taken the port between probe and bind
                    self.stop()
                    raise
                continue
            self._port = port
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        folder, self._folder, self._port = self._folder, None, None
        _LIVE.discard(self)
        if folder is None:
            return
        if (folder / "data" / "postmaster.pid").exists():
            with contextlib.suppress(PostgresFailed, subprocess.TimeoutExpired):  # already gone: delete it anyway
                _run([str(self.bin_dir / "pg_ctl"), "stop", "-D", str(folder / "data"), "-m", "immediate", "-w"],
                     what="pg_ctl stop")  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

    def url(self, database: str = PRODUCT_DATABASE, user: str = PRODUCT_ROLE, password: str = PRODUCT_PASSWORD) -> str:
        """The server's URL as the product reads it from its secret (TLS off: ``sslmode=disable``)."""
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{self.port}/"
            f"{quote(database, safe='')}?sslmode=disable"
        )

    def admin(self, database: str = "postgres") -> Any:
        """A pg8000 native connection as the superuser (autocommit), for seeding and inspecting."""
        import pg8000.native

        return pg8000.native.Connection(
            user=SUPERUSER, password=SUPERUSER_PASSWORD, host=HOST, port=self.port, database=database,
            ssl_context=False, timeout=30,
        )  # fmt: skip

    def create_database(self, name: str, owner: str = PRODUCT_ROLE) -> None:
        if not IDENTIFIER.match(name) or not IDENTIFIER.match(owner):
            raise ValueError("database and owner names are lower-case SQL identifiers")
        with self.admin() as admin:
            admin.run(f'CREATE DATABASE "{name}" OWNER "{owner}"')

    def server_log(self) -> str:
        log = self._folder / "server.log" if self._folder else None
        return log.read_text(errors="replace") if log and log.exists() else ""

    def _pg_ctl_start(self, folder: Path, port: int) -> None:
        options = " ".join(
            (*SPEED_SETTINGS, f"-p {port}", f"-c listen_addresses={HOST}", f"-c unix_socket_directories='{folder}'")
        )
        try:
            _run(
                [str(self.bin_dir / "pg_ctl"), "start", "-w", "-t", "30", "-D", str(folder / "data"),
                 "-l", str(folder / "server.log"), "-o", options],
                what="pg_ctl start",
            )  # fmt: skip
        except PostgresFailed as error:
            raise PostgresFailed(f"{error}\n{self.server_log()[-2000:]}") from None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


class PostgresFarm:
    """Several clusters (one per emulated RDS instance), all stopped and deleted at :meth:`close`."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or postgres_bin_dir()
        self._clusters: list[PostgresCluster] = []

    def new_cluster(self) -> PostgresCluster:
        cluster = PostgresCluster(self.bin_dir).start()
        self._clusters.append(cluster)
        return cluster

    def clusters(self) -> Iterator[PostgresCluster]:
        return iter(tuple(self._clusters))

    def close(self) -> None:
        while self._clusters:
            self._clusters.pop().stop()

    def __enter__(self) -> PostgresFarm:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


# Servers outlive the process that started them: stop whatever a crashed test or drill left running at exit.
_LIVE: set[PostgresCluster] = set()


@atexit.register
def _stop_leftovers() -> None:
    for cluster in list(_LIVE):
        cluster.stop()
