"""Databases: restoring an RDS instance, checking the restored data, switching the applications to it."""
