"""Each test gets its own emulated stack (moto, fake cluster, approval gateway), so no attack can leak into
another test's record; the synthesized template is shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.pipeline import LocalPipeline
from local.synth import Synthesized
from tests.approvals.support import Rollback, start_rollback


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized) as running:
        yield running


@pytest.fixture
def waiting(pipeline: LocalPipeline) -> Rollback:
    """The default rollback (on-call + lead) waiting for approval; its three emails delivered."""
    return start_rollback(pipeline, name="under-attack")
