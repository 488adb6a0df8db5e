"""Typed settings, read once from the environment and `.env`, validated at start.

Nothing else in the project reads the environment: every part receives a `Settings`. A user's
mistake (a missing token, a malformed id, an unknown time zone) stops the start with one line that
names the setting and the fix, never a traceback.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# PTB 22.2+ warns unless retry_after and similar are timedeltas; opt in (TELEGRAM-NOTES.md).
os.environ.setdefault("PTB_TIMEDELTA", "1")

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///data/coalition.db"
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")

# One line per setting: what it is and how to fix it, shown when it is wrong.
FIXES: dict[str, str] = {
    "telegram_bot_token": "get a token from @BotFather in Telegram (/newbot) and set "
    "TELEGRAM_BOT_TOKEN=123456:ABC... in .env; or try the bot without Telegram: "
    "`coalition-bot emulator` (README, 'Trying it without Telegram')",
    "telegram_api_base_url": "use https://api.telegram.org/bot (the default) or "
    "http://HOST:PORT/bot for a self-hosted Bot API server or `coalition-bot emulator`",
    "database_url": "use sqlite+aiosqlite:///path/to/file.db or "
    "postgresql+asyncpg://user:password@host:5432/dbname",
    "coordinator_ids": "a comma-separated list of numeric Telegram user ids, e.g. 12345,67890",
    "coordination_chat_id": "a numeric Telegram chat id, e.g. -1001234567890",
    "default_language": "es or en",
    "timezone": "an IANA time zone name such as America/Mexico_City",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "webhook_url": "an https:// URL that Telegram can reach",
    "webhook_secret": "1-256 characters of A-Z, a-z, 0-9, _ and -",
    "webhook_listen": "an address to listen on, e.g. 127.0.0.1",
    "webhook_port": "a port number between 1 and 65535",
    "send_rate": "messages a second, between 1 and 30 (Telegram allows about 30)",
    "send_concurrency": "a whole number of sends in flight, between 1 and 256, e.g. 8",
    "retention_days": "a whole number of days, at least 1",
    "clock_url": "the emulator's clock URL, e.g. http://127.0.0.1:PORT/control/clock, or empty",
    "sweep_interval": "seconds between scheduler sweeps, e.g. 2",
    "poll_timeout": "seconds for each long poll, between 0 and 50",
    "two_person_rule": "true or false (a second coordinator approves each alert before it goes)",
    "escalation_lead_hours": "hours before an alert's deadline to re-send it to the silent "
    "organisations' contacts, e.g. 24 (between 1 and 720)",
}


class ConfigError(Exception):
    """A setting is missing or wrong; `str()` is the one line shown to whoever starts the bot."""


class Settings(BaseSettings):
    """Every setting the bot reads. Names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_SQLITE_URL
    coordinator_ids: Annotated[tuple[int, ...], NoDecode] = ()
    coordination_chat_id: int | None = None
    default_language: Literal["es", "en"] = "es"
    timezone: str = "America/Mexico_City"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    send_rate: float = Field(default=29.0, ge=1, le=30)
    send_concurrency: int = Field(default=8, ge=1, le=256)
    retention_days: int = Field(default=180, ge=1)
    clock_url: str | None = None
    sweep_interval: float = Field(default=2.0, gt=0, le=60)
    poll_timeout: int = Field(default=30, ge=0, le=50)
    two_person_rule: bool = False
    escalation_lead_hours: float = Field(default=24.0, ge=1, le=720)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _TOKEN_RE.match(value.strip()):
            raise ValueError("does not look like a bot token")
        return value.strip()

    @field_validator("coordinator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            return tuple(int(p) for p in parts)
        return value

    @field_validator("coordination_chat_id", "webhook_url", "webhook_secret", "clock_url",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("unsupported database driver")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("has characters Telegram does not accept")
        return value

    # Derived values, computed here so that no other module parses settings again.
    @property
    def api_file_url(self) -> str:
        """PTB's base_file_url: Telegram's is `.../file/bot`; other servers follow that shape."""
        base = self.telegram_api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.rstrip("/") + "/file/bot"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, so that its folder can be created and a migration lock put beside it."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1]
        return Path(path)

    @property
    def token(self) -> str:
        """The token, for PTB only; fails clearly when it was never set."""
        if self.telegram_bot_token is None:
            raise ConfigError(f"TELEGRAM_BOT_TOKEN is not set: {FIXES['telegram_bot_token']}")
        return self.telegram_bot_token.get_secret_value()

    def secrets(self) -> list[str]:
        """Values the log filter must redact wherever they appear."""
        found = []
        if self.telegram_bot_token is not None:
            found.append(self.telegram_bot_token.get_secret_value())
        if self.webhook_secret is not None:
            found.append(self.webhook_secret.get_secret_value())
        return found


def load_settings(require_token: bool = False, **overrides: object) -> Settings:
    """Read and validate the settings once; raise ConfigError with one line naming what is wrong."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "?"
        fix = FIXES.get(field, "see .env.example")
        # Never echo the value itself: it may be the token.
        raise ConfigError(f"{field.upper()} is invalid ({first['msg']}): {fix}") from None
    if require_token and settings.telegram_bot_token is None:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather in Telegram (/newbot) and "
            "put TELEGRAM_BOT_TOKEN=123456:ABC... in .env, or try the bot without Telegram: "
            "run `coalition-bot emulator` and point the bot at it (README, 'Trying it without "
            "Telegram')."
        )
    return settings


def no_color() -> bool:
    """The terminal asked for no colours (the NO_COLOR convention, no-color.org): read here,
    where the environment is read, for the sandbox console."""
    return "NO_COLOR" in os.environ
