"""The process's jieba tokenizer, used to confirm that short ambiguous terms are whole words.

A term such as 加号 or 有号 is a scalper's offer in "医生可以加号" but only part of a word in "请加号码"
or "没有号了". Terms flagged ``boundary`` in the lexicon count only where jieba (dictionary mode, ``HMM=False``
for determinism) puts token boundaries at both ends of the match.

`TermTokenizer` owns exactly one ``jieba.Tokenizer`` per lexicon version per process (in practice one per
process): it is created lazily on first use, gets every lexicon term as a user word via ``add_word``, and keeps
jieba's dictionary cache under the system temp dir. The global ``jieba.*`` functions are never used. The
boundary check segments a small window around a match with jieba's own dictionary-mode algorithm, computed
directly as token boundaries (`TermTokenizer.boundaries`: same word graph, route and ties as ``jieba.cut``,
which a test compares it with), because ``jieba.cut``'s generators cost more than the segmentation itself.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from math import log
from typing import TYPE_CHECKING, ClassVar

import jieba

from keywords._segment import block_boundaries, nothing_crosses

if TYPE_CHECKING:
    from keywords.lexicon import Lexicon

__all__ = ["TermTokenizer"]

_CACHE_FILE = "touthunt-jieba.cache"
# jieba's own block and whitespace patterns (jieba.re_han_default, jieba.re_skip_default) and its re_eng class.
_JIEBA_BLOCK = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_JIEBA_SKIP = re.compile("(\r\n|\\s)", re.U)
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Characters of context on each side of a match that jieba sees when segmenting around it.
_WINDOW = 12


class TermTokenizer:
    """Token-boundary checks for lexicon matches, backed by one lazily built ``jieba.Tokenizer``."""

    _instances: ClassVar[dict[str, TermTokenizer]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, lexicon: Lexicon) -> None:
        self._words = tuple(term.key for term in lexicon.terms)
        self._jieba: jieba.Tokenizer | None = None
        self._prefixes: dict[str, int] = {}
        self._longest = 1
        self._reach = bytes(0x10000)
        self._lock = threading.Lock()

    @classmethod
    def for_lexicon(cls, lexicon: Lexicon) -> TermTokenizer:
        """The process-wide tokenizer for this lexicon version (created on first request)."""
        with cls._instances_lock:
            instance = cls._instances.get(lexicon.version)
            if instance is None:
                instance = cls._instances[lexicon.version] = cls(lexicon)
            return instance

    def initialize(self) -> jieba.Tokenizer:
        """Load jieba's dictionary and the lexicon's user words (once); return the jieba tokenizer."""
        with self._lock:
            if self._jieba is None:
                # jieba announces every dictionary load on stderr at DEBUG level through its own logger;
                # that is noise on an analyst's terminal, while its warnings still matter
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = tempfile.gettempdir()
                tokenizer.cache_file = _CACHE_FILE
                tokenizer.initialize()
                for word in self._words:
                    tokenizer.add_word(word)
                self._prefixes = tokenizer.FREQ
                self._longest = max(map(len, tokenizer.FREQ))
                # per BMP character: the length of the longest entry that starts with it (capped at 255)
                reach = bytearray(0x10000)
                for entry in tokenizer.FREQ:
                    code = ord(entry[0])
                    if code < 0x10000 and len(entry) > reach[code]:
                        reach[code] = min(len(entry), 255)
                self._reach = bytes(reach)
                self._jieba = tokenizer
            return self._jieba

    def _nothing_crosses(self, text: str, boundary: int) -> bool:
        """Whether no dictionary word spans ``boundary`` (a cut between ``boundary - 1`` and it). Walks the
        dictionary's prefixes exactly as jieba builds its word graph (a word is an entry with a frequency; the
        other entries are prefixes); False when ASCII characters touch across it (jieba joins runs of ASCII
        letters and digits on its own: let it decide). Compiled: `keywords._segment`."""
        return nothing_crosses(text, boundary, self._prefixes, self._longest, self._reach)  # type: ignore[no-any-return]

    def segment(self, text: str) -> list[str]:
        """Dictionary-mode segmentation of ``text`` (no HMM new-word discovery)."""
        return list(self.initialize().cut(text, HMM=False))

    def is_token_span(self, text: str, start: int, end: int) -> bool:
        """Whether jieba puts token boundaries at both ``start`` and ``end`` of ``text[start:end]``.

        Only a window of `_WINDOW` characters on each side is segmented, which keeps long pages cheap;
        segmentation effects do not reach that far in dictionary mode. Before that, a shortcut that gives the
        same answer: when no dictionary word starts before a boundary and reaches past it, jieba's word graph
        has no edge across it and every segmentation cuts there, so jieba need not run.
        """
        self.initialize()
        if self._nothing_crosses(text, start) and self._nothing_crosses(text, end):
            return True
        lo = max(0, start - _WINDOW)
        boundaries = self.boundaries(text[lo : min(len(text), end + _WINDOW)])
        return start - lo in boundaries and end - lo in boundaries

    def boundaries(self, text: str) -> set[int]:
        """The token boundaries of `segment` (0, and the end of every token), computed without its generators.

        The same algorithm as jieba's ``cut(text, HMM=False)``, step for step: text is split into blocks of
        `_JIEBA_BLOCK` characters (every other character is a token of its own); in a block, the best route
        through the word graph is found right to left with jieba's arithmetic, ties going to the longer word,
        and single ASCII letters and digits on the route are joined into one token (compiled:
        ``keywords._segment.block_boundaries``). A test compares the two.
        """
        tokenizer = self.initialize()
        freq = self._prefixes
        logtotal = log(tokenizer.total)
        found = {0}
        position = 0
        for block in _JIEBA_BLOCK.split(text):
            if not block:
                continue
            if not _JIEBA_BLOCK.match(block):
                for piece in _JIEBA_SKIP.split(block):
                    if _JIEBA_SKIP.match(piece):
                        position += len(piece)
                        found.add(position)
                    else:
                        found.update(range(position + 1, position + len(piece) + 1))
                        position += len(piece)
                continue
            found.update(position + cut for cut in block_boundaries(block, freq, logtotal))
            position += len(block)
            found.add(position)
        return found
