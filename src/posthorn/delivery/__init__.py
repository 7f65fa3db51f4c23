"""Delivery to the MTA: recipients, SMTP transactions, VERP, notices, progress."""
