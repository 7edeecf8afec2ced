"""tgfake: a local fake Telegram Bot API server for end-to-end tests, the demo and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (``base_url``/``base_file_url``)
and gets Telegram's answers, errors and flood limits; tests drive the users' side through the
control API. See ``tgfake.server`` for the overview.
"""

from tgfake.errors import ApiError

__all__ = ["ApiError", "FakeTelegram"]


def __getattr__(name: str):
    # FakeTelegram on first use: the server imports the api_* modules, which import this package's
    # small modules (media, errors, ...) — loading the server here as well would close a cycle.
    if name == "FakeTelegram":
        from tgfake.server import FakeTelegram
        return FakeTelegram
    raise AttributeError(f"module 'tgfake' has no attribute {name!r}")
