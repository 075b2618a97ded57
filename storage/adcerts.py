"""Queries for the ``ad_certificates`` table: the analyst's imported list of approved 医疗广告审查证明.

Numbers are stored normalised (`keywords.identifiers.normalise_ad_cert_number`), one row per number; importing
a number again updates its row. `load_certificates` gives the crawl the list as `keywords.adcerts.AdCertificates`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keywords.adcerts import AdCertificate, AdCertificates
from storage.models import AdCertificate as AdCertificateRow
from storage.models import utcnow

__all__ = ["ImportCounts", "count_certificates", "list_certificates", "load_certificates", "upsert_certificates"]


@dataclass(frozen=True, slots=True)
class ImportCounts:
    inserted: int
    updated: int


def upsert_certificates(
    session: Session, certificates: Iterable[AdCertificate], *, source_file: str = "", at: datetime | None = None
) -> ImportCounts:
    """Insert or update one row per certificate (``number`` already normalised); the last of two with the same
    number wins. Flushes; the caller commits."""
    wanted = {c.number: c for c in certificates}
    if not wanted:
        return ImportCounts(0, 0)
    at = at or utcnow()
    existing = {
        row.number: row
        for row in session.scalars(select(AdCertificateRow).where(AdCertificateRow.number.in_(list(wanted))))
    }
    inserted = updated = 0
    for number, certificate in wanted.items():
        row = existing.get(number)
        if row is None:
            row = AdCertificateRow(number=number)
            session.add(row)
            inserted += 1
        else:
            updated += 1
        row.institution = certificate.institution
        row.valid_from = certificate.valid_from
        row.valid_until = certificate.valid_until
        row.imported_at = at
        row.source_file = source_file
    session.flush()
    return ImportCounts(inserted, updated)


def list_certificates(session: Session) -> Sequence[AdCertificateRow]:
    """Every imported certificate, by number."""
    return session.scalars(select(AdCertificateRow).order_by(AdCertificateRow.number)).all()


def count_certificates(session: Session) -> int:
    return int(session.scalar(select(func.count(AdCertificateRow.id))) or 0)


def load_certificates(session: Session) -> AdCertificates:
    """The imported list for `keywords.identifiers.IdentifierSignal` (empty when nothing was imported)."""
    rows = session.execute(
        select(
            AdCertificateRow.number,
            AdCertificateRow.institution,
            AdCertificateRow.valid_from,
            AdCertificateRow.valid_until,
        )
    ).all()
    return AdCertificates(
        AdCertificate(number, institution or "", start, until) for number, institution, start, until in rows
    )
