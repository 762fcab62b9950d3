"""The functions every restore type has: its own pre-checks (which restore point) and the shared restore steps
(:mod:`functions.capabilities.databases.restore_handlers`)."""

from __future__ import annotations

from functions.rollbacks.contract import SliceFunction

SHARED = "functions.capabilities.databases.restore_handlers"


def restore_functions(prechecks_handler: str, prechecks: str, restore: str) -> tuple[SliceFunction, ...]:
    """``prechecks_handler`` and what it checks, and what the restore step restores, for the functions' descriptions."""
    return (
        SliceFunction("Plan", prechecks_handler, f"Pre-checks: {prechecks}"),
        SliceFunction(
            "RestoreInstance",
            f"{SHARED}.restore_instance",
            f"Restores {restore} into a new instance with the source's settings",
            changes_the_world=True,
        ),
        SliceFunction("CheckRestore", f"{SHARED}.check_restore", "Is the restored instance available?"),
        SliceFunction(
            "CheckIntegrity",
            f"{SHARED}.check_integrity",
            "Data-integrity checks against the restored instance",
            timeout_seconds=120,
        ),
        SliceFunction(
            "SwitchConnection",
            f"{SHARED}.switch_connection",
            "Points the applications' database URL at the restored instance",
            changes_the_world=True,
        ),
        SliceFunction(
            "RestartApplication",
            f"{SHARED}.restart_application",
            "kubectl rollout restart, so the application reads the switched URL",
            changes_the_world=True,
        ),
        SliceFunction("CheckRestart", f"{SHARED}.check_restart", "kubectl rollout status of the restart"),
    )
