"""The manager's console: a Telegram Mini App (page at /app/, JSON API at /api/app/) on the bot's server."""
