"""Moving a site over from GNU Mailman 3 or Mailman 2.1.

Readers (``mailman3``, ``mailman21``) turn the old site into the neutral description
of ``description.py``, reading it only; ``apply`` makes Posthorn match that
description, changing only what differs, and counts what it did in a ``Tally``.
"""
