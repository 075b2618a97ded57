"""The analyst's list of approved 医疗广告审查证明: `AdCertificates`, normalised number -> institution and validity.

Built from rows (the ``ad_certificates`` table, see ``storage/adcerts.py``, or any iterable of `AdCertificate`)
and handed to `keywords.identifiers.IdentifierSignal`, which checks the numbers medical ads show against it.
Numbers are normalised with `keywords.identifiers.normalise_ad_cert_number`, so a list written
``（京）医广【2016】第07-01-0355号`` matches a page showing ``(京) 医广[2016]第07－01－0355号``. Pure: no database, no
clock (the caller says which day it is).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date

from keywords.identifiers import normalise_ad_cert_number

__all__ = ["AdCertificate", "AdCertificates"]


@dataclass(frozen=True, slots=True)
class AdCertificate:
    """One approved certificate. ``number`` is normalised; the dates are inclusive and may be unknown."""

    number: str
    institution: str = ""
    valid_from: date | None = None
    valid_until: date | None = None

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    def status(self, today: date) -> str:
        """``expired``, ``not_yet_valid`` or ``valid`` on ``today``."""
        if self.expired(today):
            return "expired"
        if self.valid_from is not None and self.valid_from > today:
            return "not_yet_valid"
        return "valid"


class AdCertificates:
    """Approved certificates by normalised number (the records it holds and yields carry the normalised number).
    Empty means no list was imported: then an unknown number cannot be judged."""

    def __init__(self, certificates: Iterable[AdCertificate] = ()) -> None:
        self._by_number: dict[str, AdCertificate] = {}
        for certificate in certificates:
            number = normalise_ad_cert_number(certificate.number) or certificate.number
            self._by_number[number] = replace(certificate, number=number)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, date | None, date | None]]) -> AdCertificates:
        """From ``(number, institution, valid_from, valid_until)`` rows; numbers in any usual spelling."""
        return cls(AdCertificate(number, institution or "", start, until) for number, institution, start, until in rows)

    def get(self, number: str) -> AdCertificate | None:
        """The certificate with this number (normalised here if it is not already), or None."""
        found = self._by_number.get(number)
        if found is None:
            normalised = normalise_ad_cert_number(number)
            found = self._by_number.get(normalised) if normalised else None
        return found

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and self.get(number) is not None

    def __len__(self) -> int:
        return len(self._by_number)

    def __iter__(self) -> Iterator[AdCertificate]:
        return iter(self._by_number.values())
