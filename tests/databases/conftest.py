"""One PostgreSQL farm per test session (real servers, see local/postgres.py) and a fresh schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from functions.capabilities.databases.connection import connect
from local.postgres import PostgresCluster, PostgresFarm


@pytest.fixture(scope="session")
def farm() -> Iterator[PostgresFarm]:
    with PostgresFarm() as started:
        yield started


@pytest.fixture(scope="session")
def cluster(farm: PostgresFarm) -> PostgresCluster:
    """The session's shared server: tests keep apart by working in their own schema."""
    return farm.new_cluster()


@pytest.fixture
def product(cluster: PostgresCluster) -> Iterator[Any]:
    """A connection as the product's role, with its password over TCP, as on RDS (autocommit: seeds persist)."""
    with connect(cluster.url()) as connection:
        yield connection


@pytest.fixture
def schema(product: Any) -> str:
    """A schema of this test's own, owned by the product's role."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    product.run(f"CREATE SCHEMA {name}")
    return name
