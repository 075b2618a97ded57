"""Attributed edits of the scoring lexicon and the official-domain allow-list, kept in the database on top of
the lexicon's data files, and the effective lexicon they give.

Every edit is a ``LexiconChange`` row (author, time, entry, new weight and flags or removal, note), only ever
inserted: the newest row of an entry wins, and the newest row's id is the edit level. `apply_edits` turns a
lexicon loaded from files into the effective one, whose version is ``<files version>+<edit level>`` so every
hit names the exact lexicon that scored it; `crawler.scoring.build_scorer` applies the edits for every crawl.
`propose` checks an edit against the current effective lexicon before it is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keywords.lexicon import GROUPS, Lexicon, Term, check_domain, make_term
from storage import audit
from storage.models import LexiconChange, utcnow

__all__ = ["EditError", "Edits", "apply_edits", "current_edits", "edit_level", "history", "propose"]


class EditError(ValueError):
    """An edit that would make the lexicon invalid; the message says why (in Chinese, for the analyst)."""


@dataclass(frozen=True)
class Edits:
    """The effective edits: the newest change of every edited entry, and the edit level (0: none)."""

    level: int
    changes: tuple[LexiconChange, ...]


def edit_level(session: Session) -> int:
    """The id of the newest change (0 when the lexicon was never edited): cheap, to notice new edits."""
    return session.scalar(select(func.max(LexiconChange.id))) or 0


def current_edits(session: Session) -> Edits:
    newest: dict[tuple[str, str, str], LexiconChange] = {}
    for change in session.scalars(select(LexiconChange).order_by(LexiconChange.id)):
        newest[(change.kind, change.group, change.text)] = change
    level = max((c.id for c in newest.values()), default=0)
    return Edits(level=level, changes=tuple(sorted(newest.values(), key=lambda c: c.id)))


def history(session: Session, *, limit: int = 200) -> Sequence[LexiconChange]:
    """Every change, newest first."""
    return session.scalars(select(LexiconChange).order_by(LexiconChange.id.desc()).limit(limit)).all()


def apply_edits(lexicon: Lexicon, edits: Edits) -> Lexicon:
    """The lexicon with the edits applied: a set term replaces the file's term of the same group and text (or
    is added), a removed term is dropped; domains likewise on the allow-list. Raises EditError when two terms
    would fold to the same key."""
    if not edits.changes:
        return lexicon
    terms: dict[tuple[str, str], Term] = {(t.group, t.text): t for t in lexicon.terms}
    domains = list(lexicon.official_domains)
    for change in edits.changes:
        if change.kind == "term":
            key = (change.group, change.text)
            if change.action == "remove":
                terms.pop(key, None)
                continue
            try:
                terms[key] = make_term(
                    change.group, change.text, float(change.weight or 0), change.flags, source=f"db:{change.id}"
                )
            except ValueError as exc:
                raise EditError(f"词库修改 #{change.id} 无效: {exc}") from None
        else:
            domain = change.text
            if domain in domains:
                domains.remove(domain)
            if change.action == "set":
                domains.append(domain)
    by_key: dict[str, Term] = {}
    for term in terms.values():
        other = by_key.get(term.key)
        if other is not None:
            raise EditError(f"词条 {term.text!r} ({term.group}) 与 {other.text!r} ({other.group}) 归一后相同")
        by_key[term.key] = term
    # keep the files' order (groups in lexicon order), edited and added terms after their group's others
    order = {g: i for i, g in enumerate(GROUPS)}
    ordered = sorted(terms.values(), key=lambda t: (order[t.group], t.source.startswith("db:")))
    return replace(
        lexicon,
        terms=tuple(ordered),
        official_domains=tuple(domains),
        version=f"{lexicon.version}+{edits.level}",
    )


def propose(
    session: Session,
    base: Lexicon,
    *,
    author: str,
    kind: str,
    text: str,
    action: str,
    group: str = "",
    weight: float | None = None,
    flags: str = "",
    note: str = "",
) -> LexiconChange:
    """Check an edit against the effective lexicon (``base`` with every recorded edit) and record it with an
    audit event; raises EditError with the reason when it would break the lexicon. The caller commits."""
    text = text.strip()
    if kind not in ("term", "domain") or action not in ("set", "remove"):
        raise EditError("未知的修改类型")
    if not text:
        raise EditError("词条不能为空")
    if kind == "term":
        if group not in GROUPS:
            raise EditError(f"未知的词组 {group!r}")
        flags = ",".join(f.strip() for f in flags.split(",") if f.strip())
        if action == "set":
            if weight is None:
                raise EditError("新增或修改词条需要权重")
            try:
                make_term(group, text, weight, flags)
            except ValueError as exc:
                raise EditError(f"词条无效: {exc}") from None
        elif not any(t.group == group and t.text == text for t in apply_edits(base, current_edits(session)).terms):
            raise EditError(f"词组 {group} 中没有词条 {text!r}")
    else:
        group, weight, flags = "", None, ""
        try:
            text = check_domain(text)
        except ValueError:
            raise EditError(f"{text!r} 不是域名或域名后缀") from None
        if action == "remove" and text not in apply_edits(base, current_edits(session)).official_domains:
            raise EditError(f"白名单中没有 {text!r}")
    fields = dict(author=author, kind=kind, group=group, text=text[:255], action=action, weight=weight, flags=flags)
    current = current_edits(session)
    trial = LexiconChange(id=current.level + 1, **fields)  # never added: the edit as it would apply
    others = [c for c in current.changes if (c.kind, c.group, c.text) != (kind, group, trial.text)]
    apply_edits(base, Edits(level=trial.id, changes=(*others, trial)))  # raises EditError
    change = LexiconChange(at=utcnow(), note=note.strip()[:2000], **fields)
    session.add(change)
    session.flush()
    audit.record(
        session,
        author,
        "lexicon_change" if kind == "term" else "allowlist_change",
        f"lexicon:{change.id}",
        kind=kind,
        group=group,
        text=change.text,
        edit=action,
        weight=weight,
        flags=flags,
        note=change.note,
    )
    return change
