"""Write Mailman 2.1 ``config.pck`` files as Python 2 wrote them, for the import tests.

Mailman 2.1 cannot be installed here (it is Python 2), so its list files are made:
``python2_pickle`` emits protocol-2 opcodes the way Python 2's ``cPickle`` did, with
``str`` values as byte strings (SHORT_BINSTRING/BINSTRING) and ``unicode`` as
BINUNICODE, which Python 3's own pickler cannot produce.  ``sample_list`` is one list
with most attributes changed from 2.1's defaults; the comment on each attribute says
where 2.1 defines it and what its value means.

Sources (Mailman 2.1.x): ``Mailman/Defaults.py.in`` (defaults and numeric codes),
``Mailman/MailList.py`` ``InitVars`` (the attribute layout), ``Mailman/Gui/*.py`` (what
each code means in the admin pages), ``Mailman/OldStyleMemberships.py`` and
``Mailman/MemberAdaptor.py`` (the member dictionaries, option bits, delivery status),
``Mailman/Bouncer.py`` (the ``_BounceInfo`` record).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BounceInfo", "python2_pickle", "sample_list", "write_config_pck"]


@dataclass
class BounceInfo:
    """2.1's ``Mailman.Bouncer._BounceInfo``, an old-style class pickled with its dict."""

    state: dict[bytes, Any] = field(default_factory=dict)


def _save(value: Any, out: bytearray) -> None:
    if value is None:
        out += b"N"
    elif value is True:
        out += b"\x88"  # NEWTRUE
    elif value is False:
        out += b"\x89"  # NEWFALSE
    elif isinstance(value, int):
        if -(2**31) <= value < 2**31:
            out += b"J" + struct.pack("<i", value)  # BININT
        else:
            raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
            out += b"\x8a" + bytes([len(raw)]) + raw  # LONG1
    elif isinstance(value, float):
        out += b"G" + struct.pack(">d", value)  # BINFLOAT
    elif isinstance(value, bytes):  # a Python 2 str
        if len(value) < 256:
            out += b"U" + bytes([len(value)]) + value  # SHORT_BINSTRING
        else:
            out += b"T" + struct.pack("<i", len(value)) + value  # BINSTRING
    elif isinstance(value, str):  # a Python 2 unicode
        encoded = value.encode("utf-8")
        out += b"X" + struct.pack("<I", len(encoded)) + encoded  # BINUNICODE
    elif isinstance(value, tuple):
        out += b"("
        for item in value:
            _save(item, out)
        out += b"t"  # TUPLE
    elif isinstance(value, list):
        out += b"]("  # EMPTY_LIST, MARK
        for item in value:
            _save(item, out)
        out += b"e"  # APPENDS
    elif isinstance(value, dict):
        out += b"}("  # EMPTY_DICT, MARK
        for key, item in value.items():
            _save(key, out)
            _save(item, out)
        out += b"u"  # SETITEMS
    elif isinstance(value, BounceInfo):
        # Python 2's save_inst for an old-style instance: MARK, class, OBJ, state, BUILD.
        out += b"(cMailman.Bouncer\n_BounceInfo\no"
        _save(value.state, out)
        out += b"b"
    else:
        raise TypeError(f"no Python 2 pickle for {type(value).__name__}")


def python2_pickle(value: Any) -> bytes:
    out = bytearray(b"\x80\x02")  # PROTO 2, as cPickle.dump(dict, fp, 2)
    _save(value, out)
    return bytes(out + b".")


def write_config_pck(path: Path, attributes: dict[bytes, Any]) -> Path:
    path.write_bytes(python2_pickle(attributes))
    return path


def sample_list() -> dict[bytes, Any]:
    """A German list (ISO-8859-1 text) with members of every kind; keys are byte strings."""
    latin1 = "iso-8859-1"
    return {
        # MailList.InitVars: the list's name, host, language and texts.
        b"_internal_name": b"dev",
        b"real_name": b"Dev",
        b"host_name": b"example.org",
        b"preferred_language": b"de",  # Defaults LC_DESCRIPTIONS: 'de' is ISO-8859-1
        b"description": "Entwicklerliste für Änderungen".encode(latin1),
        b"info": "Über diese Liste".encode(latin1),
        b"subject_prefix": b"[%(real_name)s] ",  # Gui/General.py: %(real_name)s expands
        b"msg_footer": b"-- \n%(real_name)s mailing list\n",  # Gui/NonDigest.py
        b"msg_header": b"",
        b"created_at": 1262304000.0,  # time.time() at creation (2010-01-01)
        b"post_id": 412,  # the next post's number
        b"volume": 7,  # digest volume (Digester.py)
        b"next_digest_number": 3,
        # Gui/General.py: 0 poster, 1 this list, 2 explicit address.
        b"reply_goes_to_list": 2,
        b"reply_to_address": b"replies@example.org",
        b"first_strip_reply_to": 1,
        b"advertised": 0,
        b"emergency": 0,
        b"anonymous_list": 0,
        b"include_rfc2369_headers": 1,
        b"require_explicit_destination": 0,
        b"acceptable_aliases": b"dev-alias@example.org\nold-dev@example.org\n",
        b"max_num_recipients": 25,
        b"max_message_size": 100,  # KB, 0 for no limit
        b"administrivia": 1,
        b"admin_immed_notify": 0,
        b"admin_notify_mchanges": 1,
        b"send_welcome_msg": 0,
        b"send_goodbye_msg": 1,
        b"respond_to_post_requests": 0,
        # Gui/Privacy.py: 0 open, 1 confirm, 2 require approval, 3 confirm and approve.
        b"subscribe_policy": 3,
        b"unsubscribe_policy": 1,  # 0: no approval needed, 1: approval needed
        b"private_roster": 1,  # 0 anyone, 1 members, 2 admins only
        # Defaults.py: 0 accept, 1 hold, 2 reject, 3 discard (generic_nonmember_action).
        b"generic_nonmember_action": 2,
        b"default_member_moderation": 0,
        b"member_moderation_action": 1,  # 0 hold, 1 reject, 2 discard
        b"accept_these_nonmembers": [b"friend@example.com", b"^.*@partner\\.example$"],
        b"hold_these_nonmembers": [b"maybe@example.com"],
        b"reject_these_nonmembers": [],
        b"discard_these_nonmembers": [b"spam@example.net"],
        b"ban_list": [b"troll@example.com", b"^.*@banned\\.example$"],
        # Gui/Privacy.py header_filter_rules: (newline-separated regexes, action, empty);
        # actions from Defaults.py: 0 defer, 2 reject, 3 discard, 6 accept, 7 hold.
        b"header_filter_rules": [
            (b"^X-Spam-Flag: YES", 3, False),
            (b"^Subject: .*\\[ad\\]", 7, False),
        ],
        b"archive": 1,
        b"archive_private": 1,  # 0 public, 1 private
        b"digestable": 1,
        b"nondigestable": 1,
        b"digest_send_periodic": 0,
        b"digest_size_threshhold": 60,  # KB; 2.1 spells it with "hh"
        b"digest_volume_frequency": 3,  # 0 yearly, 1 monthly, 2 quarterly, 3 weekly, 4 daily
        b"personalize": 1,  # 0 no, 1 yes, 2 full personalization
        b"bounce_processing": 1,
        b"bounce_score_threshold": 3.0,  # a float in 2.1
        b"bounce_info_stale_after": 14 * 86400,  # seconds
        b"bounce_you_are_disabled_warnings": 2,
        b"bounce_you_are_disabled_warnings_interval": 3 * 86400,
        b"bounce_notify_owner_on_disable": 0,
        b"bounce_notify_owner_on_removal": 1,
        b"autorespond_admin": 0,
        b"autorespond_postings": 1,
        b"autoresponse_postings_text": b"Thanks for writing.",
        b"autorespond_requests": 1,  # 0 no, 1 respond and discard, 2 respond and forward
        b"autoresponse_graceperiod": 30,  # days
        b"filter_content": 1,
        b"filter_mime_types": b"image/bmp\napplication/x-msdownload\n",
        b"pass_mime_types": b"",
        b"filter_filename_extensions": b"exe\nbat\n",
        b"pass_filename_extensions": b"",
        b"collapse_alternatives": 1,
        b"convert_html_to_plaintext": 1,
        b"filter_action": 1,  # Gui/ContentFilter.py: 0 discard, 1 reject, 2 forward, 3 preserve
        b"dmarc_moderation_action": 1,  # 0 accept, 1 munge From, 2 wrap, 3 reject, 4 discard
        b"from_is_list": 0,
        # No counterpart in Posthorn: reported, not imported.
        b"topics": [(b"release", b"release|version", b"Release talk", False)],
        b"topics_enabled": 1,
        b"mod_password": b"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",  # sha1 hex
        # The rosters (OldStyleMemberships.py): lowercased address -> 0, or the address
        # as typed when its case differs.
        b"owner": [b"Owner@Example.org"],
        b"moderator": [b"mod@example.org"],
        b"members": {
            b"anne@example.org": 0,
            b"bart@example.org": b"Bart@Example.org",
            b"carl@example.org": 0,
            b"dora@example.org": 0,
        },
        b"digest_members": {b"erin@example.org": 0, b"fred@example.org": 0},
        # Option bits (Defaults.py): DisableDelivery 1, DontReceiveOwnPosts 2,
        # AcknowledgePosts 4, DisableMime 8, ConcealSubscription 16, Moderate 128,
        # DontReceiveDuplicates 256.
        b"user_options": {
            b"anne@example.org": 4 | 16,
            b"bart@example.org": 2 | 256,
            b"carl@example.org": 128,
            b"dora@example.org": 1,
            b"erin@example.org": 8,
            b"fred@example.org": 0,
        },
        # MemberAdaptor.py: ENABLED 0, UNKNOWN 1, BYUSER 2, BYADMIN 3, BYBOUNCE 4, with the
        # time it was set; only disabled members have an entry.
        b"delivery_status": {b"dora@example.org": (2, 1262304000.0)},
        b"usernames": {
            b"anne@example.org": "Anne Müller".encode(latin1),
            b"bart@example.org": b"Bart",
        },
        b"language": {b"anne@example.org": b"de", b"bart@example.org": b"en"},
        b"passwords": {b"anne@example.org": b"anne-secret", b"bart@example.org": b"bart-pw"},
        # Bouncer.py: score, the day of the last bounce, notices left, last notice, cookie.
        b"bounce_info": {
            b"carl@example.org": BounceInfo(
                {
                    b"member": b"carl@example.org",
                    b"score": 2.0,
                    b"date": (2024, 5, 17, 0, 0, 0, 4, 138, -1),
                    b"noticesleft": 2,
                    b"lastnotice": (0, 0, 0),
                    b"cookie": None,
                }
            )
        },
    }
