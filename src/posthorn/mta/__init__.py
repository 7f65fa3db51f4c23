"""The MTA's configuration: the Postfix maps and Exim router that send lists' mail here.

``aliases`` writes them and keeps them current; what the LMTP runner does with the mail
that arrives is ``posthorn.intake``.
"""
