"""Keyword queries as data: expand a search source's query sets (hospital names from a file or inline x
service terms) and free queries into the list of queries it runs, in a stable order, without duplicates.

Read in the parent process when the crawl settings are built, so a missing or unreadable names file is a
configuration error naming the key, not a crash in the crawl process.
"""

from __future__ import annotations

from pathlib import Path

from crawler.config import Config, SearchConfig
from crawler.errors import ConfigError

MAX_QUERY_CHARS = 76  # Baidu cuts queries at 38 Chinese characters (76 bytes); longer ones are shortened


def read_names(path: Path) -> list[str]:
    """Names from a text file: one per line, ``#`` starts a comment line, a tab ends the name (so a TSV whose
    first column is the name works), blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"hospitals_file: {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"hospitals_file: cannot read {str(path)!r}: {exc}") from None
    names = []
    for line in text.splitlines():
        name = line.split("\t", 1)[0].strip()
        if name and not name.startswith("#"):
            names.append(name)
    return names


def expand_queries(search: SearchConfig, config: Config, *, origin: str = "search") -> list[str]:
    """Every query of a search source: each query set's names x terms, then the free queries."""
    queries: dict[str, None] = {}
    for index, query_set in enumerate(search.query_sets):
        names = list(query_set.hospitals)
        if query_set.hospitals_file:
            try:
                names += read_names(config.resolve_path(query_set.hospitals_file))
            except ConfigError as exc:
                raise ConfigError(f"{origin}.query_sets[{index}].{exc}") from None
        for name in names:
            for term in query_set.terms:
                queries.setdefault(" ".join(f"{name} {term}".split())[:MAX_QUERY_CHARS], None)
    for query in search.queries:
        query = " ".join(query.split())[:MAX_QUERY_CHARS]
        if query:
            queries.setdefault(query, None)
    return list(queries)
