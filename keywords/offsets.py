"""Offset maps: where each character of a normalised view came from in the original text.

A view (skeleton, digits, pinyin, initials; see `keywords.normalisation`) is built from the original text by
dropping characters, folding one character into another, or expanding one character into several (⑸ into
"(5)", 代 into "dai"). Storing one original index per view character would cost a Python object per character
of every page; instead `OffsetMap` stores the map as a few *segments*, each a run of view positions that maps
linearly onto original positions:

``original(i) = origin + (i - start) // width`` for ``start <= i < next start``

with ``width == 1`` for a run of characters copied one to one and ``width == k`` for a run of characters each
expanded into ``k`` view characters. Segments are built at C speed from the lengths of the pieces a view was
assembled from (`OffsetMap.from_pieces`); a lookup is a binary search, and only matches are ever looked up, so
building a view stays linear in the page and lookups cost ``O(log segments)`` each.

When numpy is available the normaliser builds its maps as integer arrays instead (`OffsetMap.from_array`):
one machine word per character, built and indexed at C speed; the interface is the same.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any, Protocol, overload

__all__ = ["OffsetMap"]

# Width of a segment whose view characters all come from one original character.
_CONSTANT = sys.maxsize


class OffsetMap(Sequence[int]):
    """An immutable ``Sequence[int]`` from view index to original index, stored as linear segments."""

    __slots__ = ("_length", "_origins", "_starts", "_widths")

    def __init__(self, length: int, starts: list[int], origins: list[int], widths: list[int]) -> None:
        self._length = length
        self._starts = starts
        self._origins = origins
        self._widths = widths

    @classmethod
    def identity(cls, length: int, offset: int = 0) -> OffsetMap:
        """View index ``i`` comes from original index ``offset + i``."""
        return cls(length, [0], [offset], [1])

    @classmethod
    def from_array(cls, array: _IntArray) -> OffsetMap:
        """A map backed by a one-dimensional integer array (numpy): ``array[i]`` is view index ``i``'s origin."""
        return _ArrayMap(array)

    @classmethod
    def from_indices(cls, indices: Iterable[int]) -> OffsetMap:
        """A map from an explicit list of original indices (slow path; used for rare irregular text)."""
        starts: list[int] = []
        origins: list[int] = []
        widths: list[int] = []
        length = 0
        previous = -2
        for i, origin in enumerate(indices):
            length = i + 1
            if starts:
                width = widths[-1]
                if width == 0 and origin in (previous, previous + 1):
                    widths[-1] = 1 if origin == previous + 1 else _CONSTANT
                    previous = origin
                    continue
                if (width == 1 and origin == previous + 1) or (width == _CONSTANT and origin == previous):
                    previous = origin
                    continue
            starts.append(i)
            origins.append(origin)
            widths.append(0)  # decided by the next index
            previous = origin
        return cls(length, starts, origins, [w or 1 for w in widths])

    @classmethod
    def from_pieces(cls, view_lengths: list[int], origins: list[int], widths: list[int]) -> OffsetMap:
        """Segments given by their view lengths, original start and width; empty segments are skipped."""
        starts = [0, *accumulate(view_lengths)]
        keep = [k for k, n in enumerate(view_lengths) if n]
        if len(keep) == len(view_lengths):
            return cls(starts[-1], starts[:-1], origins, widths)
        return cls(starts[-1], [starts[k] for k in keep], [origins[k] for k in keep], [widths[k] for k in keep])

    def _shift(self) -> int | None:
        """``k`` when this map is ``i -> i + k`` (one plain segment of width 1), else None."""
        if type(self) is OffsetMap and len(self._starts) == 1 and self._widths[0] == 1:
            return self._origins[0] - self._starts[0]
        return None

    def compose(self, inner: OffsetMap) -> OffsetMap:
        """The map ``i -> inner[self[i]]`` (``self`` maps into the view ``inner`` maps from)."""
        shift = inner._shift()
        if shift == 0:
            return self
        if shift is not None and type(self) is OffsetMap:
            return OffsetMap(self._length, self._starts, [o + shift for o in self._origins], self._widths)
        if self._shift() == 0 and len(self) == len(inner):
            return inner
        return _Composed(self, inner)

    def __len__(self) -> int:
        return self._length

    def _lookup(self, i: int) -> int:
        k = bisect_right(self._starts, i) - 1
        return self._origins[k] + (i - self._starts[k]) // self._widths[k]

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self._lookup(i) for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("offset map index out of range")
        return self._lookup(index)

    def __iter__(self) -> Iterator[int]:
        return (self._lookup(i) for i in range(self._length))

    def take(self, indices: list[int]) -> list[int]:
        """``[self[i] for i in indices]`` for indices within ``0 <= i < len(self)``, in one call (batched)."""
        return [self._lookup(i) for i in indices]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(other) == self._length and all(a == b for a, b in zip(self, other, strict=False))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OffsetMap(len={self._length}, segments={len(self._starts)})"

    @property
    def segments(self) -> int:
        """How many linear segments the map is stored as (a measure of its memory)."""
        return len(self._starts)

    @property
    def array(self) -> Any:
        """The integer array a map from `from_array` is stored as (one origin per view index); None otherwise."""
        return None


class _IntArray(Protocol):
    """The part of a numpy integer array `_ArrayMap` uses."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: Any) -> Any: ...

    def tolist(self) -> Any: ...

    def item(self, index: int) -> Any: ...


class _ArrayMap(OffsetMap):
    """A map stored as one integer per view character."""

    __slots__ = ("_array",)

    def __init__(self, array: _IntArray) -> None:
        super().__init__(len(array), [0], [0], [1])
        self._array = array

    def _lookup(self, i: int) -> int:
        return int(self._array.item(i))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._array[index].tolist()
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("offset map index out of range")
        return int(self._array.item(index))

    def __iter__(self) -> Iterator[int]:
        return iter(self._array.tolist())

    def take(self, indices: list[int]) -> list[int]:
        return self._array[indices].tolist() if indices else []  # type: ignore[no-any-return]

    @property
    def array(self) -> Any:
        return self._array

    @property
    def segments(self) -> int:
        return self._length


class _Composed(OffsetMap):
    """``outer`` followed by ``inner``; composed lazily, per lookup."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, outer: OffsetMap, inner: OffsetMap) -> None:
        super().__init__(len(outer), outer._starts, outer._origins, outer._widths)
        self._outer = outer
        self._inner = inner

    def _lookup(self, i: int) -> int:
        return self._inner._lookup(self._outer._lookup(i))

    @property
    def segments(self) -> int:
        return self._outer.segments + self._inner.segments
