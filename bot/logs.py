"""Logging as rule Q wants it: events and internal ids, never tokens, texts or personal data.

Two libraries print secrets if allowed to: httpx logs every request URL (which holds the bot token)
at INFO, and PTB at DEBUG logs URLs, request parameters and whole updates. So their loggers are
capped whatever LOG_LEVEL says, and a log-record factory redacts the token and the webhook secret
from every record at its creation, before any handler (ours, pytest's, a library's) sees it.
"""

from __future__ import annotations

import logging
import sys
import urllib.parse
from collections.abc import Iterable

REDACTED = "[REDACTED]"
_CAPS = {"telegram": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.WARNING,
         "apscheduler": logging.WARNING, "aiosqlite": logging.INFO, "asyncio": logging.INFO}

_secrets: list[str] = []
_base_factory = logging.getLogRecordFactory()


def _forms(secret: str) -> list[str]:
    """A token can appear raw or URL-encoded (`:` as `%3A`); redact every form."""
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}
    return sorted((f for f in forms if f), key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if not _secrets:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call must not break logging
        message = str(record.msg)
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def add_secrets(secrets: Iterable[str]) -> None:
    """Register values to redact (the token, the webhook secret); safe to call more than once."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            for form in _forms(secret):
                if form not in _secrets:
                    _secrets.append(form)
    _secrets.sort(key=len, reverse=True)
    logging.setLogRecordFactory(_redacting_factory)


def cap_noisy_loggers() -> None:
    for name, level in _CAPS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once at start (`coalition-bot run`)."""
    add_secrets(secrets)
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_coalition", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
        handler._coalition = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    cap_noisy_loggers()
