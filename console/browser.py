"""A real headless Chromium for the console's browser tests, the bench and the demo's screenshots.

Playwright's own browser download is not used: Debian's ``chromium-headless-shell`` (with
``fonts-wqy-microhei`` for Chinese) is launched through ``executable_path``.  ``find_chromium()``
says why there is none, so callers can skip with a clear reason.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell",
              "/usr/lib/chromium/chromium", "/usr/bin/chromium")
THEME = {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#999999", "link_color": "#2481cc",
         "button_color": "#2481cc", "button_text_color": "#ffffff", "secondary_bg_color": "#f1f1f1"}


def find_chromium() -> tuple[str | None, str]:
    """(path, '') when a usable browser and Playwright are present; else (None, why not)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None, "playwright (python) is not installed"
    wanted = os.environ.get("SALESBOT_CHROMIUM")
    for path in ([wanted] if wanted else []) + list(CANDIDATES) + [shutil.which("chromium-headless-shell") or ""]:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path, ""
    return None, ("no Chromium found (apt-get install chromium-headless-shell fonts-wqy-microhei, "
                  "or set SALESBOT_CHROMIUM): browser tests skipped")


def launch_args() -> list[str]:
    return ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def app_url(base: str, init_data: str, theme: dict | None = None) -> str:
    """The page URL as Telegram's clients open it: initData and theme in the hash."""
    params = {"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "web",
              "tgWebAppThemeParams": json.dumps(theme or THEME, separators=(",", ":"))}
    return f"{base.rstrip('/')}/app/#" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
