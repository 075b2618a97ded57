"""Does a statically fetched page need the browser? ``script_built_reason`` looks at the decoded HTML and says
why the page looks built by script (a short reason code), or ``None`` when the static copy is what a reader
sees.

Signs, in order: a ``<noscript>`` asking to enable JavaScript; ``document.write``; a body without readable text
that carries scripts (a single-page app shell); an inline script that writes into the page (``innerHTML``,
``textContent``, ``appendChild``, ...) and holds a contact cue or a phone-like number, or writes into an empty
element named like a contact block. A script that only holds a contact without writing it (a dead ad slot) is
not a reason: rendering would not show it either.
"""

from __future__ import annotations

import re

from lxml import etree

from spiders.extract import parse_html

MIN_BODY_CHARS = 60  # fewer visible characters than this (title excluded), with scripts: an app shell
_ENABLE_JS = re.compile(
    r"(enable|turn on|activate)\s+javascript|javascript\s+(is\s+)?(disabled|required)|"
    r"(启用|开启|打开|允许|支持)\s*(JavaScript|JS|脚本)|(JavaScript|JS|脚本)\s*(已被?禁用|未启用|被禁止)",
    re.IGNORECASE,
)
_DOM_WRITE = re.compile(
    r"\.(innerHTML|outerHTML|innerText|textContent)\s*[+]?=|\.(insertAdjacentHTML|appendChild|append|prepend|"
    r"replaceChildren|createTextNode)\s*\("
)
_CONTACT_CUE = re.compile(r"微信|薇信|威信|V信|vx|wx|weixin|wechat|QQ|扣扣|电话|手机|联系|客服|tel", re.IGNORECASE)
# a mobile number, also assembled from pieces ('138' + '2716' + '4093') or character codes
_PHONE_LIKE = re.compile(r"1[3-9]\d[\s'\"+,\-]*\d{4}[\s'\"+,\-]*\d{4}|fromCharCode|atob\s*\(")
_CONTACT_BLOCK = re.compile(r"contact|lianxi|kefu|phone|mobile|tel|wechat|weixin|wx|qq", re.IGNORECASE)
_JS_TYPES = ("", "text/javascript", "application/javascript", "module", "text/ecmascript")


def _inline_scripts(root: etree._Element) -> list[str]:
    out = []
    for script in root.iter("script"):
        kind = (script.get("type") or "").strip().lower()
        if kind in _JS_TYPES and not script.get("src") and script.text:
            out.append(script.text)
    return out


def _visible_chars(root: etree._Element) -> int:
    body = root.find("body")
    if body is None:
        return 0
    count = 0
    for node in body.iter():
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in ("script", "style", "noscript", "template"):
            if node.tail:
                count += len(node.tail.strip())
            continue
        if node.text and tag:
            count += len(node.text.strip())
        if node.tail:
            count += len(node.tail.strip())
    return count


def _empty_contact_block(root: etree._Element) -> bool:
    for node in root.iter("div", "span", "p", "a", "em", "strong", "b", "li", "td"):
        name = f"{node.get('id') or ''} {node.get('class') or ''}"
        if name.strip() and _CONTACT_BLOCK.search(name) and not "".join(node.itertext()).strip():
            return True
    return False


def script_built_reason(html: str) -> str | None:
    """Why the page should be rendered: ``noscript``, ``document_write``, ``empty_body`` or
    ``script_contact``; None when the static HTML shows what a reader sees."""
    root = parse_html(html)
    if root is None:
        return None
    scripts = _inline_scripts(root)
    has_scripts = bool(scripts) or bool(root.xpath("//script[@src]"))
    if not has_scripts:
        return None
    noscript = " ".join(n.text_content() for n in root.iter("noscript"))
    if _ENABLE_JS.search(noscript):
        return "noscript"
    code = "\n".join(scripts)
    if "document.write" in code:
        return "document_write"
    if _visible_chars(root) < MIN_BODY_CHARS:
        return "empty_body"
    if _DOM_WRITE.search(code) and (
        _CONTACT_CUE.search(code) or _PHONE_LIKE.search(code) or _empty_contact_block(root)
    ):
        return "script_contact"
    return None
