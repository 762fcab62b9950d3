"""Capabilities several rollback types share (restoring a database, checking its data, switching the connection
the applications use): never imported by the spine, never importing a slice."""
