"""Helpers for messages, used on every side: notices, header text, folding, flattening.

``notices`` writes and recognises the messages Posthorn sends itself, ``oneline`` keeps
decoded header text on one line, ``charsets`` decodes text whose charset may lie,
``folding`` and ``flattening`` make serialising a message cheap, and ``html2text`` turns
HTML into plain text.
"""
