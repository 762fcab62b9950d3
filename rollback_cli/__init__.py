"""``rollback``: the operators' command to start, follow and list rollbacks of the deployed pipeline.

Not Lambda code: it runs on laptops and in CI, against AWS or the local emulators. Of the ``functions`` package
it imports only the shared models (:mod:`functions.models.rollback`) and the rollback types' registry
(:mod:`functions.rollbacks.registry`), which need nothing but pydantic.
"""
