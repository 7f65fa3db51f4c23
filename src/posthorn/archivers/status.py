"""The archivers' status file, ``$run_dir/archivers.json``, written by the archive runner.

``posthorn archivers`` reads it to show each archiver's last success and last error
without asking the runner.  It is rewritten whole (temporary file, then rename) after
every entry, so a reader never sees half of it; it holds one small record per archiver.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["ArchiveStatus"]


class ArchiveStatus:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, results: dict[str, str | None]) -> None:
        """Record one entry's outcome per archiver: None for success, else the error."""
        if not results:
            return
        data = self.load()
        now = time.time()
        for name, error in results.items():
            entry = data.setdefault(name, {"archived": 0, "failed": 0})
            if error is None:
                entry["archived"] = int(entry.get("archived", 0)) + 1
                entry["last_success"] = now
            else:
                entry["failed"] = int(entry.get("failed", 0)) + 1
                entry["last_error"] = error
                entry["last_error_at"] = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        try:
            os.replace(temp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
