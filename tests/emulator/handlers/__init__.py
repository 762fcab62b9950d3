"""Tiny Lambda handlers for the emulator's own tests, dispatched in-process by ``local/aws/patches.py``.

The folder is also the ``Code.from_asset`` of the test stack's functions; their ``Handler`` strings point here
(``tests.emulator.handlers.worker.handler``, ``tests/emulator/handlers/approval.handler``).
"""
