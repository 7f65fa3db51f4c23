"""The way in: mail the MTA hands to the LMTP runner, up to its durable queue entry.

``session`` is one LMTP connection, ``lmtp`` the aiosmtpd handler (RCPT and DATA),
``list_addresses`` reads an LMTP recipient into a list and a sub-address, ``precheck``
and ``fields`` refuse hostile message structure before anything parses it, ``data``
reads DATA into one buffer, ``writers`` are the threads that write queue entries,
``commit`` shares directory fsyncs between sessions, and ``slots`` decides who yields a
connection slot under pressure.
"""
