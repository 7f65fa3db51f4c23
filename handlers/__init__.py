"""Pipeline handlers, one per module."""
