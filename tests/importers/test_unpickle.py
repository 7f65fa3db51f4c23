"""The restricted unpickler: plain data loads, anything naming code is refused unrun."""

from __future__ import annotations

import email.message
import pickle
from pathlib import Path

import pytest

from posthorn.importers.mailman3_requests import _message
from posthorn.importers.unpickle import UnreadablePickleError, UnsafePickleError, safe_loads


class _Runs:
    """Pickles as a call to a function of our choosing, as a crafted file would."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))


def test_plain_data_loads() -> None:
    data = {"a": [1, 2.5, None, True], "b": ("x", b"y")}
    for protocol in (3, 4, 5):
        assert safe_loads(pickle.dumps(data, protocol), encoding="utf-8") == data


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_pickle_calling_a_function_is_refused(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "ran"
    crafted = pickle.dumps(_Runs(marker), protocol)
    with pytest.raises(UnsafePickleError, match="refusing to load "):
        safe_loads(crafted)
    assert not marker.exists()


def test_a_held_message_file_may_name_only_email_classes(tmp_path: Path) -> None:
    msg = email.message.Message()
    msg["Message-ID"] = "<m@example.org>"
    msg.set_payload("body\n")
    good = tmp_path / "good"
    good.write_bytes(pickle.dumps(msg, 5))
    assert b"Message-ID: <m@example.org>" in _message(good)
    bad = tmp_path / "bad"
    marker = tmp_path / "ran"
    bad.write_bytes(pickle.dumps([msg, _Runs(marker)], 5))
    with pytest.raises(UnsafePickleError):
        _message(bad)
    assert not marker.exists()
    damaged = tmp_path / "damaged"
    damaged.write_bytes(b"\x80\x05garbage")
    with pytest.raises(UnreadablePickleError):
        _message(damaged)
