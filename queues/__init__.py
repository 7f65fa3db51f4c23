"""Filesystem queues (Switchboard): standard library only, never imports the core."""
