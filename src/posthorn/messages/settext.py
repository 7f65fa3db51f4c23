"""Give a single-part message a new text body: ``Message.set_payload(text, charset)``, cheaper.

``set_payload`` with a charset runs ``set_charset``, which asks whether MIME-Version,
Content-Type and Content-Transfer-Encoding are present, parses the Content-Type
parameters three times over (``set_param``: ``get_param``, ``get_params``, ``get``) and
decodes the body again to choose 7bit or 8bit: a dozen walks of the header list, the
better part of decorating a post.  ``set_text`` writes the same fields in the same
order with the same values, looking each up once; the new Content-Type value is a pure
function of the old one and the charset, so it is worked out by the email package
itself once per distinct value and remembered.

It covers a compat32 message whose Content-Type is a plain string and a charset the
body is written in as it is (its output charset is its input charset); anything else
goes to ``set_payload``.  ``tests/messages/test_settext.py`` holds the two to the same
bytes.
"""

from __future__ import annotations

from email.charset import Charset
from email.message import Message
from email.policy import Compat32
from functools import lru_cache

__all__ = ["set_text"]


@lru_cache(maxsize=512)
def _content_type(value: str | None, charset: str) -> str:
    """What ``set_charset`` makes of a Content-Type field ``value`` (None: absent)."""
    scratch = Message()
    if value is None:
        scratch.add_header("Content-Type", "text/plain", charset=charset)
    else:
        scratch["Content-Type"] = value
        scratch.set_param("charset", charset)
    return str(scratch["Content-Type"])


def set_text(msg: Message, text: str, charset: Charset) -> None:
    """``msg.set_payload(text, charset)``, with the same result."""
    ctype = msg.get("content-type")
    output = charset.get_output_charset()
    if (
        not isinstance(msg.policy, Compat32)
        or output != charset.input_charset
        or not (ctype is None or type(ctype) is str)
    ):
        msg.set_payload(text, charset)
        return
    encoded = text.encode(output)
    state = vars(msg)
    state["_payload"] = encoded.decode("ascii", "surrogateescape")
    state["_charset"] = charset
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    changed = _content_type(ctype, output)
    if changed != ctype:
        del msg["Content-Type"]
        msg["Content-Type"] = changed
    if "Content-Transfer-Encoding" in msg:
        return
    cte = charset.get_body_encoding()
    if callable(cte):  # 7bit or 8bit (encoders.encode_7or8bit), as the bytes are
        msg["Content-Transfer-Encoding"] = "7bit" if encoded.isascii() else "8bit"
        return
    state["_payload"] = charset.body_encode(encoded) if encoded else state["_payload"]
    msg["Content-Transfer-Encoding"] = cte
