"""Bounce processing: who bounced (attribution), how often (scoring), what follows (actions).

The bounce runner (``runners/bounce.py``) is the only caller; the parts are separate
so that each can be tested without a runner, and the scoring without a database.
"""
