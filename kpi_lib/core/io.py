"""Writing a file so that no reader ever sees half of it, and the digests that name content.

:func:`write_atomic` writes into a temporary file beside the target and renames it into place
(a rename within one folder is atomic), so a crash, a full disk or an interruption leaves either
the old file or the new one, never a mixture. :func:`file_sha256` and :func:`json_sha256` are the
suite's two digests: of a file's bytes, and of a JSON-able value (settings, a table of digests).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

BLOCK = 1 << 20  # bytes read at a time when hashing a file


def write_atomic(path: str | Path, content: bytes | str | Callable[[str], Any], *,
                 suffix: str = ".tmp") -> Path:
    """Write ``content`` to ``path`` atomically: bytes, text (UTF-8), or a function that writes
    the file whose name it is given (``lambda tmp: frame.to_parquet(tmp)``). The temporary file
    ends in ``suffix`` (for writers that go by the extension) and is removed on any failure; the
    file is readable by everyone, as an ordinary new file would be."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a block at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(BLOCK), b""):
            h.update(chunk)
    return h.hexdigest()


def json_sha256(value: Any) -> str:
    """The SHA-256 of a value written as JSON with sorted keys (anything else as its text)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
