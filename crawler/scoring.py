"""The scorer a crawl or a command uses: the lexicon plus the built-in signals (links and look-alikes,
identifiers and phone numbers, images), fed from config.yaml and the database (the analyst's known-bad
list, the domains of confirmed hits, the imported ad certificates, the lexicon edits made in the web app).
Built once per process (`build_scorer`); the web app rebuilds one after a lexicon edit (`make_scorer`)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from crawler.config import Config
from keywords import Scorer
from keywords.adcerts import AdCertificates
from keywords.identifiers import IdentifierSignal, load_official_hotlines
from keywords.images import ImageSignal
from keywords.lexicon import load_lexicon
from keywords.links import KnownBad, LinkSignal, load_known_bad
from keywords.lookalike import load_hospitals
from referrals.platforms import load_platforms
from storage.adcerts import load_certificates
from storage.db import make_engine, make_sessionmaker
from storage.intel import known_bad_from_db
from storage.lexiconedits import EditError, Edits, apply_edits, current_edits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringInputs:
    """Everything a scorer is built from, as plain values (they travel in the crawl's settings)."""

    hit_threshold: int = 50
    lexicon_dir: str = ""
    known_bad_file: str = ""
    database_url: str = ""  # empty: no database facts (offline scoring of files)
    platform_domains: tuple[str, ...] = ()


def _database_facts(inputs: ScoringInputs) -> tuple[KnownBad, AdCertificates, Edits]:
    """Domains of confirmed hits, the imported ad certificates and the lexicon edits; empty without a database."""
    if not inputs.database_url:
        return KnownBad(), AdCertificates(), Edits(0, ())
    engine = make_engine(inputs.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            known_bad = known_bad_from_db(session, platforms=load_platforms(inputs.platform_domains))
            return known_bad, load_certificates(session), current_edits(session)
    except SQLAlchemyError as exc:  # a database without tables yet; scoring still works without its facts
        log.warning("database facts for scoring unavailable: %s", exc)
        return KnownBad(), AdCertificates(), Edits(0, ())
    finally:
        engine.dispose()


def inputs_from_config(config: Config, *, with_database: bool) -> ScoringInputs:
    """Scoring inputs straight from config.yaml; ``with_database`` adds the domains of confirmed hits."""
    return ScoringInputs(
        hit_threshold=config.scoring.hit_threshold,
        lexicon_dir=str(config.resolve_path(config.scoring.lexicon_dir)) if config.scoring.lexicon_dir else "",
        known_bad_file=str(config.resolve_path(config.scoring.known_bad_file)) if config.scoring.known_bad_file else "",
        database_url=config.database_url if with_database else "",
        platform_domains=config.referrals.platform_domains,
    )


def inputs_from_settings(settings: Any) -> ScoringInputs:
    """The scoring inputs a crawl process was given (see crawler/settings.py)."""
    return ScoringInputs(
        hit_threshold=settings.getint("TOUTHUNT_HIT_THRESHOLD", 50),
        lexicon_dir=settings.get("TOUTHUNT_LEXICON_DIR") or "",
        known_bad_file=settings.get("TOUTHUNT_KNOWN_BAD_FILE") or "",
        database_url=settings.get("TOUTHUNT_DATABASE_URL") or "",
        platform_domains=tuple(settings.getlist("TOUTHUNT_PLATFORM_DOMAINS")),
    )


@functools.cache
def build_scorer(inputs: ScoringInputs) -> Scorer:
    """One scorer per process and inputs: pipelines that score (images, pages) share it."""
    return make_scorer(inputs)


def make_scorer(inputs: ScoringInputs) -> Scorer:
    """A new scorer from the inputs as they are now (files and database), not cached."""
    lexicon_dir = Path(inputs.lexicon_dir) if inputs.lexicon_dir else None
    lexicon = load_lexicon(lexicon_dir)
    db_known_bad, certificates, edits = _database_facts(inputs)
    try:
        lexicon = apply_edits(lexicon, edits)
    except EditError as exc:  # the data files changed under an edit; score with the files, say so loudly
        log.error("lexicon edits from the web app not applied, scoring with the lexicon files only: %s", exc)
    known_bad = load_known_bad(Path(inputs.known_bad_file) if inputs.known_bad_file else None) | db_known_bad
    hotlines = load_official_hotlines(lexicon_dir)
    hospitals = load_hospitals()
    # a listed hospital's own domains are official: its pages get the allow-list's benefit too
    hospital_domains = tuple(d for h in hospitals.hospitals for d in h.domains)
    lexicon = replace(lexicon, official_domains=tuple(dict.fromkeys(lexicon.official_domains + hospital_domains)))
    signals = [
        LinkSignal(known_bad, hospitals, official_domains=lexicon.official_domains),
        IdentifierSignal(certificates=certificates, hotlines=hotlines),
        ImageSignal(hotlines=hotlines),
    ]
    scorer = Scorer(lexicon, hit_threshold=inputs.hit_threshold, signals=signals)
    scorer.warm_up()
    return scorer
