"""Bounce messages in the formats seen in the wild, built here for the tests.

flufl.bounce 6.0's wheel ships its detectors but not its sample bounces, so these are
written to the published formats: an RFC 3464 delivery status notification (what
Postfix, Exim and Sendmail send today), a qmail QSBMF bounce
(http://cr.yp.to/proto/qsbmf.txt) and the older Postfix "Notification" bounce
(multipart/mixed, no delivery-status part).
"""

from __future__ import annotations

ORIGINAL = (
    "From: dev@example.org\nTo: dev@example.org\nSubject: [Dev] Hello\n"
    "Message-ID: <post-1@example.org>\n\nA post.\n"
)


def dsn(recipient: str, to: str = "dev-bounces@example.org") -> bytes:
    """RFC 3464: multipart/report with a message/delivery-status part."""
    return f"""\
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{recipient}@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

This is the mail system at host mx.example.net.  Your message could not be
delivered to one or more recipients.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 5 Jan 2026 10:00:00 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.com
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected

--B1
Content-Type: text/rfc822-headers

{ORIGINAL.split(chr(10) + chr(10))[0]}

--B1--
""".encode()


def qmail(recipient: str) -> bytes:
    """qmail-send bounce message format (QSBMF)."""
    return f"""\
From: MAILER-DAEMON@qmail.example.net
To: dev-bounces@example.org
Subject: failure notice
Message-ID: <qmail-{recipient}@qmail.example.net>

Hi. This is the qmail-send program at qmail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{ORIGINAL}""".encode()


def postfix(recipient: str) -> bytes:
    """The older Postfix bounce: a "Notification" part naming the address."""
    return f"""\
From: MAILER-DAEMON@pf.example.net (Mail Delivery System)
To: dev-bounces@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <pf-{recipient}@pf.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="P1"

--P1
Content-Description: Notification
Content-Type: text/plain

This is the Postfix program at host pf.example.net.

I'm sorry to have to inform you that the message returned
below could not be delivered to one or more destinations.

For further assistance, please contact <postmaster@pf.example.net>

\t\t\tThe Postfix program

<{recipient}>: host mail.example.com said: 550 User unknown (in reply to RCPT TO
    command)

--P1
Content-Description: Undelivered Message
Content-Type: message/rfc822

{ORIGINAL}
--P1--
""".encode()


def unrecognizable() -> bytes:
    """An auto-reply no detector can read: it names no failed address."""
    return b"""\
From: someone@example.net
To: dev-bounces@example.org
Subject: Re: [Dev] Hello
Message-ID: <vacation@example.net>

I am away until Monday and will read your message then.
"""
