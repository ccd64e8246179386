"""A repository held in memory, for driving `Documents` without a disk."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from kohalint.repository import classify


class MemRepo:
    def __init__(self, files: dict[str, str]) -> None:
        self.root = Path("/nonexistent-kohalint-memrepo")
        self._texts = dict(files)
        self.files = sorted(files)
        self.tracked = frozenset(files)
        self.notes: list = []
        self.is_git = False

    def __contains__(self, path: str) -> bool:
        return path in self._texts

    def exists(self, path: str) -> bool:
        return path in self._texts

    def kinds(self, path: str) -> frozenset[str]:
        return classify(path)

    def files_of_kind(self, kind: str) -> list[str]:
        return [p for p in self.files if kind in classify(p)]

    def in_dir(self, directory: str) -> list[str]:
        prefix = "" if directory in ("", ".") else directory.rstrip("/") + "/"
        return [p for p in self.files if p.startswith(prefix)]

    def read_text(self, path: str) -> Optional[str]:
        return self._texts.get(path)

    def is_tracked(self, path: str) -> bool:
        return path in self.tracked


def documents_for(files: dict[str, str]):
    from kohalint.config import Settings
    from kohalint.documents.store import Documents
    from kohalint.rules import registry

    registry.load()  # the check modules register their document parsers
    return Documents(MemRepo(files), Settings())  # type: ignore[arg-type]
