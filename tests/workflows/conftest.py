"""Workflow tests: the real ASL from the synthesized template, the real handlers, moto, the fake cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.pipeline import LocalPipeline
from local.synth import Synthesized


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized) as running:
        yield running
