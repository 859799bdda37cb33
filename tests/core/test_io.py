"""One atomic write and the two digests (kpi_lib.core.io)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from kpi_lib.core.io import file_sha256, json_sha256, write_atomic


def test_bytes_text_and_a_writer_function_land_whole_and_readable(tmp_path):
    write_atomic(tmp_path / "a.bin", b"\x00\x01")
    write_atomic(tmp_path / "sub" / "b.txt", "café")
    write_atomic(tmp_path / "c.csv", lambda tmp: open(tmp, "w").write("x\n1\n"))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "b.txt").read_bytes() == "café".encode()
    assert (tmp_path / "c.csv").read_text() == "x\n1\n"
    assert oct(os.stat(tmp_path / "c.csv").st_mode & 0o777) == "0o644"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "kpis.csv"
    target.write_text("the last good file")

    def half_then_fail(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write("half a fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "the last good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kpis.csv"]


def test_digests_agree_with_hashlib_on_hand_made_content(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 17)  # more than one block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert json_sha256({"b": 1, "a": [2, "x"]}) == hashlib.sha256(
        json.dumps({"a": [2, "x"], "b": 1}).encode()).hexdigest()
