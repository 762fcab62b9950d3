"""Lambda entry point of ``database_pitr``'s pre-checks; its other steps are the shared restore steps
(:mod:`functions.capabilities.databases.restore_handlers`)."""

from __future__ import annotations

from functions.capabilities.databases.restore_handlers import prechecks
from functions.rollbacks.database_pitr import plan

run_prechecks = prechecks(plan.plan_rollback)
