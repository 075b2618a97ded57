"""``python -m replayweb``: run the replay-web proxy in the foreground until interrupted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from replayweb.server import ReplayWeb
from replayweb.site import WebError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m replayweb",
        description="Serve the recorded web as an HTTP proxy on loopback (plain http:// only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8899, help="port to bind; 0 picks a free one (default: 8899)")
    parser.add_argument("--web-dir", default=None, help="recorded web directory (default: the packaged web)")
    args = parser.parse_args(argv)
    try:
        web = ReplayWeb(web_dir=args.web_dir, host=args.host, port=args.port)
    except WebError as exc:
        print(f"replayweb: {exc}", file=sys.stderr)
        return 2
    try:
        web.start()
    except OSError as exc:
        print(f"replayweb: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"replayweb: {len(web.web.sites)} hosts from {web.web.directory}", flush=True)
    print(f"replayweb: proxy {web.proxy_url}  (e.g. curl -x {web.proxy_url} http://HOST/)", flush=True)
    try:
        web.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
