"""Uploaded and generated files on disk, outside the web root, under generated names.

No user-supplied name or path is ever used to build a path: a file is known by a random hex
reference; its original name is kept only as data.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

_REF = re.compile(r"^[0-9a-f]{32}$")


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes) -> tuple[str, str]:
        """Write the bytes durably; return (ref, sha256)."""
        ref = secrets.token_hex(16)
        path = self.path(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(path)
        return ref, hashlib.sha256(data).hexdigest()

    def path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise ValueError(f"not a file reference: {ref!r}")
        return self.root / ref[:2] / ref

    def read(self, ref: str) -> bytes:
        return self.path(ref).read_bytes()

    def delete(self, ref: str) -> None:
        self.path(ref).unlink(missing_ok=True)
