"""The local PostgreSQL farm: independent servers like separate RDS instances, cleaned up when stopped."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from functions.capabilities.databases.connection import DatabaseUnreachable, connect
from local import postgres
from local.postgres import PostgresFarm, PostgresNotInstalled


def test_two_clusters_are_separate_servers_with_the_same_database(farm: PostgresFarm) -> None:
    # Given two new clusters (a source instance and its restored copy)
    source, restored = farm.new_cluster(), farm.new_cluster()
    # When each gets its own orders in the database of the same name
    for cluster, rows in ((source, 3), (restored, 1)):
        with connect(cluster.url()) as connection:
            connection.run("CREATE TABLE orders (id int)")
            connection.run("INSERT INTO orders SELECT generate_series(1, :rows)", rows=rows)
    # Then each server holds only its own data, on its own port
    assert source.port != restored.port
    counts = []
    for cluster in (source, restored):
        with connect(cluster.url()) as connection:
            counts.append(connection.run("SELECT current_database(), count(*) FROM orders")[0])
    assert counts == [["skillancer", 3], ["skillancer", 1]]
    restored.stop()
    source.stop()


def test_a_stopped_cluster_is_gone(farm: PostgresFarm) -> None:
    # Given a running cluster
    cluster = farm.new_cluster()
    url, folder = cluster.url(), cluster.data_dir.parent
    assert folder.is_dir()
    # When it is stopped
    cluster.stop()
    # Then its server no longer answers and its folder is deleted
    with pytest.raises(DatabaseUnreachable):
        connect(url, timeout_seconds=2)
    assert not folder.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as the current user when it is not root")
def test_as_root_the_server_runs_as_nobody(farm: PostgresFarm) -> None:
    # Given a cluster started by root
    cluster = farm.new_cluster()
    # When the owner of its data and of its server process are looked at
    pid = int(cluster.data_dir.joinpath("postmaster.pid").read_text().split()[0])
    owners = {cluster.data_dir.stat().st_uid, Path(f"/proc/{pid}").stat().st_uid}
    # Then both are nobody: PostgreSQL refuses to run as root
    assert owners == {pwd.getpwnam("nobody").pw_uid}
    cluster.stop()


def test_missing_binaries_name_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given a machine without PostgreSQL in Debian's place
    monkeypatch.delenv("POSTGRES_BIN_DIR", raising=False)
    monkeypatch.setattr(postgres, "DEBIAN_ROOT", tmp_path)
    # When the binaries are looked for
    with pytest.raises(PostgresNotInstalled) as raised:
        postgres.postgres_bin_dir()
    # Then the error says how to install them
    assert "apt-get install -y --no-install-recommends postgresql" in str(raised.value)


def test_the_newest_installed_version_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given versions 9.6, 15 and 16 installed side by side
    for version in ("9.6", "15", "16"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    monkeypatch.delenv("POSTGRES_BIN_DIR", raising=False)
    monkeypatch.setattr(postgres, "DEBIAN_ROOT", tmp_path)
    # When the binaries are looked for, Then the newest version wins (numerically, not as text)
    assert postgres.postgres_bin_dir() == tmp_path / "16" / "bin"
