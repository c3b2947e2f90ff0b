"""A per-process cache of keys loaded from files.

Loading a proving key is slow (seconds for a large circuit) while proving with a loaded
key is fast, so a long-running prover loads each key once. Entries are keyed by
(resolved path, mtime, size): a key file rewritten in place is loaded again, and the
stale entry for that path is dropped.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

FileId = tuple[str, int, int]


def file_id(path: str | Path) -> FileId:
    """(resolved path, mtime in ns, size) of an existing file."""
    p = Path(path).resolve()
    st = os.stat(p)
    return (str(p), st.st_mtime_ns, st.st_size)


class KeyCache(Generic[T]):
    """A small LRU of objects loaded from files, safe to share between threads."""

    def __init__(self, maxsize: int = 4) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._items: OrderedDict[FileId, T] = OrderedDict()
        self._lock = threading.Lock()
        #: How many times a loader ran (cache misses).
        self.loads = 0

    def get(self, path: str | Path, loader: Callable[[str], T]) -> T:
        """The object for the file's current content, loading it on a miss."""
        fid = file_id(path)
        with self._lock:
            if fid in self._items:
                self._items.move_to_end(fid)
                return self._items[fid]
        value = loader(fid[0])
        self.loads += 1
        self.put(path, value, fid)
        return value

    def put(self, path: str | Path, value: T, fid: FileId | None = None) -> None:
        """Record an object already in memory for the file (e.g. a key just written)."""
        fid = fid or file_id(path)
        with self._lock:
            for stale in [k for k in self._items if k[0] == fid[0] and k != fid]:
                del self._items[stale]
            self._items[fid] = value
            self._items.move_to_end(fid)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
