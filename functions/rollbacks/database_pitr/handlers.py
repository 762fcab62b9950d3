"""Lambda entry points of ``database_pitr``: its pre-checks, and the restore steps it shares with the other restore
types."""

from __future__ import annotations

from functions.capabilities.databases.restore_handlers import (
    check_integrity,
    check_restart,
    check_restore,
    prechecks,
    restart_application,
    restore_instance,
    switch_connection,
)
from functions.rollbacks.database_pitr import plan

__all__ = [
    "check_integrity",
    "check_restart",
    "check_restore",
    "restart_application",
    "restore_instance",
    "run_prechecks",
    "switch_connection",
]

run_prechecks = prechecks(plan.plan_rollback)
