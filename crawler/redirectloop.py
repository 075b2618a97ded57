"""RedirectLoopMiddleware: fail a redirect that points back into its own chain as ``redirect_loop``.

Without it, Scrapy's duplicate filter silently drops the repeated URL and the loop leaves no trace; with
it, the URL ends with a clear reason like every other failure. Longer chains are capped by
``network.max_redirects`` (Scrapy's RedirectMiddleware), also reported as ``redirect_loop``.
"""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

from crawler.domains import canonical_url


class RedirectLoopMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = canonical_url(safe_url_string(urljoin(request.url, location.decode("latin-1"))))
        chain = {canonical_url(u) for u in (*request.meta.get("redirect_urls", ()), request.url)}
        if target in chain:
            raise IgnoreRequest(f"redirect loop: {request.url} redirects back to {target}")
        return response
