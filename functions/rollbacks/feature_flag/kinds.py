"""The kind of change a ``feature_flag`` rollback plans: what its ASL part routes on and what its revert reads."""

KIND = "feature_flag.set"
