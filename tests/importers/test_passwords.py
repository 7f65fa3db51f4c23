"""Imported password hashes: verified in their own format, replaced by Posthorn's."""

from __future__ import annotations

from passlib.hash import pbkdf2_sha512, sha512_crypt
from sqlalchemy import update

from posthorn.model.users import UserRow
from posthorn.site import Site


def _stored(site: Site, user_id: str, hashed: str) -> None:
    with site.databases.session_factory("user")() as session:
        session.execute(update(UserRow).where(UserRow.user_id == user_id).values(password=hashed))


def test_a_mailman_hash_verifies_and_gives_way_at_login(site: Site) -> None:
    for hashed in (sha512_crypt.hash("s3cret"), pbkdf2_sha512.hash("s3cret")):
        user = site.users.create_user("anne@example.org")
        _stored(site, user.user_id, hashed)
        assert site.users.check_password(user.user_id, "wrong") is False
        assert site.users.get_user(user.user_id).password == hashed  # type: ignore[union-attr]
        assert site.users.check_password(user.user_id, "s3cret") is True
        after = site.users.get_user(user.user_id)
        assert after is not None and after.password is not None
        assert after.password.startswith("$argon2")
        assert site.users.check_password(user.user_id, "s3cret") is True
        site.users.delete_user(user.user_id)


def test_a_password_change_stores_posthorns_hash(site: Site) -> None:
    user = site.users.create_user("bart@example.org")
    _stored(site, user.user_id, sha512_crypt.hash("old"))
    site.users.set_password(user.user_id, "new")
    after = site.users.get_user(user.user_id)
    assert after is not None and after.password is not None
    assert after.password.startswith("$argon2")
    assert site.users.check_password(user.user_id, "new") is True


def test_a_readable_password_is_never_accepted(site: Site) -> None:
    user = site.users.create_user("carl@example.org")
    for stored in ("s3cret", "{plaintext}s3cret", "{CLEARTEXT}s3cret"):
        _stored(site, user.user_id, stored)
        assert site.users.check_password(user.user_id, "s3cret") is False
        assert site.users.check_password(user.user_id, stored) is False
