"""Per-field caps: each shape is accepted at its limit and refused one past it.

The counting follows RFC 5322 quoting: separators and parentheses inside a quoted
string, an escape or angle brackets count for nothing.
"""

from __future__ import annotations

import pytest

from posthorn.intake.precheck import Limits, StructureError, check_structure

DEFAULTS = Limits()


def message(*fields: str) -> bytes:
    head = "".join(f"{field}\r\n" for field in fields)
    return f"From: a@example.org\r\n{head}\r\nbody\r\n".encode()


def refusal(*fields: str) -> str | None:
    try:
        check_structure(message(*fields), DEFAULTS)
    except StructureError as error:
        return error.reply
    return None


def addresses(count: int) -> str:
    return ", ".join(f"u{i}@example.com" for i in range(count))


@pytest.mark.parametrize(
    ("at_limit", "over", "reply"),
    [
        ("To: " + "(" * 20 + ")" * 20 + " a@b", "To: " + "(" * 21 + ")" * 21 + " a@b",
         "Comments nested too deep in to (limit 20)"),
        ("Subject: " + "=?utf-8?q?a?= " * 200, "Subject: " + "=?utf-8?q?a?= " * 201,
         "Too many encoded words in subject (limit 200)"),
        ("Content-Type: text/plain" + "; a=b" * 100, "Content-Type: text/plain" + "; a=b" * 101,
         "Too many MIME parameters in content-type (limit 100)"),
        ("Cc: " + addresses(200), "Cc: " + addresses(201), "Too many addresses in cc (limit 200)"),
        ("Cc: " + "a " * 497 + "<a@b>", "Cc: " + "a " * 498 + "<a@b>",
         "Address too long in cc (limit 1000 bytes)"),
        ("References: <" + "r" * 898 + ">", "References: <" + "r" * 899 + ">",
         "Word too long in references header (limit 900 bytes)"),
        ("X-" + "n" * 897 + ": w", "X-" + "n" * 898 + ": w",
         "Word too long in x-" + "n" * 38 + " header (limit 900 bytes)"),
        ("To: g: a@b;", "To: g: h: a@b;;", "Nested address groups in to"),
    ],
)  # fmt: skip
def test_limit_and_one_past(at_limit: str, over: str, reply: str) -> None:
    assert refusal(at_limit) is None
    assert refusal(over) == f"554 5.6.0 {reply}"


def test_quoting_escapes_and_brackets_count_for_nothing() -> None:
    # 300 commas and 30 parentheses, all inside one quoted name: one address.
    assert refusal("To: " + '"' + "a, " * 300 + "(" * 30 + '" <a@b>') is None
    assert refusal('To: "x" <@r1,@r2:a@b>, ' + "\\(" * 50 + "c@d") is None
    assert refusal("Subject: " + "(" * 500) is None


def test_limits_apply_to_part_headers_too() -> None:
    part = "Content-Type: text/plain" + "; a=b" * 101
    data = (
        b'From: a@b\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        + part.encode() + b"\r\n\r\nx\r\n--b--\r\n"
    )  # fmt: skip
    with pytest.raises(StructureError, match="Too many MIME parameters"):
        check_structure(data, DEFAULTS)
