"""How touthunt starts Chromium: the Debian browser named in ``browser.executable_path``, headless, with the
flags that keep it from calling home on a closed network, and the configured proxy.

Every piece of browser work (rendering in the crawl, evidence screenshots, take-down re-checks) takes its
launch options from here, so there is one place to change them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.config import Config
from crawler.errors import ConfigError

# No background traffic: on a closed network Chromium's own update, sync and metrics calls only fail and slow
# every start. --no-sandbox because the service usually runs as root in a container.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--mute-audio",
    # Chromium still calls Google (component updates, account checks) despite the flags above; those hosts
    # bypass the proxy (PHONE_HOME_HOSTS) and resolve to nothing, so no such request leaves the machine
    "--host-resolver-rules=MAP *.google.com ~NOTFOUND, MAP *.googleapis.com ~NOTFOUND, MAP *.gvt1.com ~NOTFOUND",
)
PHONE_HOME_HOSTS = "*.google.com,*.googleapis.com,*.gvt1.com"


def launch_options(config: Config) -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch`` (and scrapy-playwright's launch options)."""
    executable = Path(config.browser.executable_path)
    if not executable.is_file():
        raise ConfigError(
            f"browser.executable_path: {str(executable)!r} does not exist "
            "(install the Debian package: apt-get install chromium)"
        )
    options: dict[str, Any] = {
        "executable_path": str(executable),
        "headless": True,
        "args": list(CHROMIUM_ARGS),
        "timeout": config.browser.navigation_timeout_seconds * 1000,
    }
    if config.network.proxy_list:  # the browser keeps one proxy: the first of network.proxies, or network.proxy
        options["proxy"] = {"server": config.network.proxy_list[0], "bypass": PHONE_HOME_HOSTS}
    return options
