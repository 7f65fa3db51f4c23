"""The neutral end-to-end harness with a pipelining sink (``--pipelining``).

The neutral harness (``shared/bench/e2e.py`` beside the checkout, or ``--harness PATH``)
runs an aiosmtpd sink, which reads pipelined commands but does not advertise PIPELINING
(RFC 2920) in its EHLO reply, so a client that pipelines only when offered (Posthorn's
outgoing runner, as Postfix's and Exim's clients) sends one RCPT per round trip there.
This loads the harness unchanged and, with ``--pipelining``, gives its sink a handler
that also says ``250-PIPELINING``, as Postfix and Exim do; every other option is the
harness's own.

    .venv/bin/python bench/neutral_e2e.py --pipelining [harness options]
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HARNESS = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "e2e.py"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("neutral_harness", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the neutral harness from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pipelining(harness: ModuleType) -> None:
    """Make the harness's sink advertise PIPELINING (its start_sink builds SinkHandler)."""

    class PipeliningSinkHandler(harness.SinkHandler):  # type: ignore[name-defined,misc]
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

    harness.SinkHandler = PipeliningSinkHandler


def main(argv: list[str]) -> int:
    path = HARNESS
    if "--harness" in argv:
        at = argv.index("--harness")
        path = Path(argv[at + 1])
        del argv[at : at + 2]
    harness = load(path)
    if "--pipelining" in argv:
        argv.remove("--pipelining")
        pipelining(harness)
    return int(harness.main(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
