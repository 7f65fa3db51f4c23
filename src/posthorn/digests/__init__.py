"""Digests: the per-list mailbox, volume and issue numbers, the MIME and RFC 1153 builders.

The ``to-digest`` handler appends each post to the list's mailbox
(``mailbox.py``); ``send.py`` rotates it into a numbered pending file and sends each
digest member one copy in the format they chose.  The digest runner and
``posthorn digests --send`` are the two callers.
"""
