"""The way out: recipients, SMTP transactions, VERP, the wire form, delivery records."""
