"""tgfake: a local fake Telegram Bot API server for end-to-end tests, the demo and benchmarks.

The real python-telegram-bot Application talks to it over HTTP (``base_url``/``base_file_url``)
and gets Telegram's answers, errors and flood limits; tests drive the users' side through the
control API. See ``tgfake.server`` for the overview.
"""

from tgfake.errors import ApiError
from tgfake.server import FakeTelegram

__all__ = ["ApiError", "FakeTelegram"]
