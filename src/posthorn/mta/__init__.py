"""The MTA side of Posthorn: who our recipients are, what we refuse, and MTA maps.

``recipients`` reads an LMTP recipient into a list and a sub-address, ``precheck``
refuses hostile message structure before anything parses it, and ``aliases`` writes the
Postfix and Exim configuration that sends the lists' mail to the LMTP runner.
"""
