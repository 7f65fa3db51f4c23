"""Password hashes: Posthorn's own (argon2), and the formats of sites moved over.

A site imported from GNU Mailman brings its users' hashes as they are
(``$6$...`` sha512-crypt, ``$pbkdf2-sha512$...`` and the other passlib formats), since
the passwords themselves are not known.  They are verified here like Posthorn's own,
and a successful check says the hash should be replaced: the caller then stores
Posthorn's hash of the password just proven, so each user moves to argon2 at their
next login or password change.  Formats that hold a password readably are never
accepted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from passlib.context import CryptContext

__all__ = ["hash_imported_passwords", "hash_password", "is_known_hash", "verify_password"]

_hasher = PasswordHasher()
# For passwords an old site kept readable (Mailman 2.1 members'), hashed by the
# hundred thousand in one import: argon2 still, with light parameters that the check
# at the first login finds too weak, so the hash is replaced by a full one then.
_import_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# The hashing schemes Mailman sites use (its passlib configuration allows these), and
# nothing that stores a password readably.
_FOREIGN = CryptContext(
    schemes=[
        "sha512_crypt",
        "sha256_crypt",
        "pbkdf2_sha512",
        "pbkdf2_sha256",
        "pbkdf2_sha1",
        "bcrypt",
        "md5_crypt",
        "ldap_salted_sha1",
    ]
)


def hash_password(password: str) -> str:
    """Posthorn's hash of a new password."""
    return _hasher.hash(password)


def hash_imported_passwords(passwords: Sequence[str]) -> list[str]:
    """Light argon2 hashes of passwords read from an old site, upgraded at first login.

    The hashing runs on every core: argon2 releases the interpreter lock while it
    works, and a 2.1 list brings one password per member.
    """
    if len(passwords) < 100:
        return [_import_hasher.hash(password) for password in passwords]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(_import_hasher.hash, passwords, chunksize=64))


def _is_argon2(stored: str) -> bool:
    return stored.startswith("$argon2")


def is_known_hash(stored: str) -> bool:
    """True if ``stored`` is a hash Posthorn can verify (its own or an imported one)."""
    if _is_argon2(stored):
        return True
    try:
        return _FOREIGN.identify(stored) is not None
    except ValueError:
        return False


def verify_password(stored: str, password: str) -> tuple[bool, bool]:
    """(matches, should be re-hashed) for ``password`` against a stored hash."""
    if _is_argon2(stored):
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False, False
        # Hashing parameters grow stronger over time.
        return True, _hasher.check_needs_rehash(stored)
    if not is_known_hash(stored):
        return False, False
    try:
        matches = bool(_FOREIGN.verify(password, stored))
    except (ValueError, TypeError):
        return False, False
    return matches, matches
