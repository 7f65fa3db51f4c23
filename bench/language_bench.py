"""What writing a notice in its reader's language costs: choosing, translating, encoding.

    python bench/language_bench.py [--count N]

On SQLite in a temp dir: a list in German with ``count`` members, a third with a
member preference, a third with an address preference, a third with none.  Times,
per call: ``recipient_translator`` (the member, address and user look-ups),
``list_translator``, a catalogue look-up with placeholders, and encoding a notice's
body in the language's charset.  Prints figures only; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from posthorn.config import load_config
from posthorn.i18n import Translator, list_translator, recipient_translator, text_part
from posthorn.site import Site

LIST = "bench@example.org"


def arrange(site: Site, count: int) -> list[str]:
    site.lists.create(LIST)
    site.lists.update(LIST, preferred_language="de")
    emails = [f"m{n}@example.com" for n in range(count)]
    for n, email in enumerate(emails):
        member = site.lists.subscribe(LIST, email)
        if n % 3 == 0:
            site.lists.set_member_preferences(member.member_id, {"preferred_language": "fr"})
        elif n % 3 == 1:
            site.users.set_address_preferences(email, {"preferred_language": "en"})
    return emails


def timed(label: str, calls: list[Callable[[], object]]) -> None:
    timings = []
    for call in calls:
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    micro = sorted(t * 1e6 for t in timings)
    print(f"{label:<42} median {statistics.median(micro):8.1f} us   "
          f"p95 {micro[int(len(micro) * 0.95)]:8.1f} us   ({len(micro)} calls)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Site(load_config(None, overrides={"paths": {"var_dir": tmp}}))
        try:
            site.databases.upgrade()
            emails = arrange(site, args.count)
            mlist = site.lists.require(LIST)
            timed("recipient_translator (member/address/user)",
                  [lambda e=e: recipient_translator(site, mlist, e) for e in emails])  # fmt: skip
            timed("list_translator", [lambda: list_translator(site.config, mlist)] * args.count)
            german = Translator("de", "iso-8859-1")
            sentence = "$email is now a member of $list."
            timed("catalogue look-up with placeholders",
                  [lambda: german(sentence, email="a@b", list=LIST)] * args.count)  # fmt: skip
            body = german("Your subscription to the $display_name mailing list "
                          "($fqdn_listname) has been\n", display_name="Dev") * 20  # fmt: skip
            timed("encoding a notice body (iso-8859-1)",
                  [lambda: text_part(body, "iso-8859-1").as_bytes()] * args.count)  # fmt: skip
        finally:
            site.close()


if __name__ == "__main__":
    main()
