"""Posthorn: a mailing-list server core."""

__version__ = "0.1.0"
