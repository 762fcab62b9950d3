"""The ``rollback`` command: start, follow and list rollbacks from a terminal (AWS or the local emulators)."""
