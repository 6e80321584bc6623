"""Telegram bots through the Bot API (https://core.telegram.org/bots/api).

Channel credentials: `bot_token` (from @BotFather) and `webhook_secret` (the `secret_token` given to
`setWebhook`, sent back by Telegram in the `X-Telegram-Bot-Api-Secret-Token` header of every update).
Channel settings: `api_base` (default https://api.telegram.org, e.g. a local Bot API server), `receive`
("webhook", the default, or "polling" through getUpdates) and `poll_timeout` (getUpdates long-poll seconds,
default 0). Telegram allows either a webhook or getUpdates for one bot, never both.
"""
