"""Lexicon edits stored in the database: the newest edit of an entry wins, the version names the edit level,
and an edit the data files no longer accept leaves crawls scoring with the files (and says so)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from crawler.scoring import inputs_from_config, make_scorer
from keywords.lexicon import load_lexicon
from storage.lexiconedits import EditError, apply_edits, current_edits, propose
from storage.models import LexiconChange


def test_newest_edit_of_an_entry_wins_and_versions_the_lexicon(sessions: Any) -> None:
    base = load_lexicon()
    with sessions.begin() as s:
        propose(s, base, author="a", kind="term", action="set", group="service", text="号源速递", weight=10)
        propose(s, base, author="b", kind="term", action="set", group="service", text="号源速递", weight=25)
        propose(s, base, author="b", kind="domain", action="set", text="HZ-Hospital.example.CN.")
    with sessions() as s:
        edits = current_edits(s)
        lexicon = apply_edits(base, edits)
    assert edits.level == 3 and lexicon.version == f"{base.version}+3"
    term = next(t for t in lexicon.terms if t.text == "号源速递")
    assert (term.weight, term.source) == (25.0, "db:2")
    assert "hz-hospital.example.cn" in lexicon.official_domains
    assert len(lexicon.terms) == len(base.terms) + 1


def test_refused_edits_leave_no_row(sessions: Any) -> None:
    base = load_lexicon()
    with sessions.begin() as s:
        with pytest.raises(EditError, match="归一后相同"):
            propose(s, base, author="a", kind="term", action="set", group="cure", text="代 挂 号", weight=5)
        with pytest.raises(EditError, match="需要权重"):
            propose(s, base, author="a", kind="term", action="set", group="cure", text="新词")
        assert s.query(LexiconChange).count() == 0


def test_an_edit_the_files_no_longer_accept_is_skipped_loudly(write_config: Any, caplog: Any) -> None:
    from storage.db import make_engine, make_sessionmaker, upgrade

    config = write_config()
    engine = make_engine(config.database_url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as s:  # as if the files gained this term after the edit was made
        s.add(LexiconChange(author="a", kind="term", group="cure", text="代挂号", action="set", weight=5.0))
    with caplog.at_level(logging.ERROR, logger="crawler.scoring"):
        scorer = make_scorer(inputs_from_config(config, with_database=True))
    assert "lexicon edits from the web app not applied" in caplog.text
    assert "+" not in scorer.lexicon_version
    engine.dispose()
