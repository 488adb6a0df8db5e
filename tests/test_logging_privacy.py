"""Rule Q: the token, the webhook secret and message texts appear in no log line, at any level."""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path

import pytest

from bot.cli import EX_CONFIG
from bot.emulator import Emulator
from bot.logs import add_secrets
from tests.conftest import TOKEN
from tests.process import BotProcess, bot_env

SECRET_TEXT = "la-reunion-es-en-la-casa-de-rosa"


def assert_clean(output: str, token: str) -> None:
    for form in (token, urllib.parse.quote(token, safe=""), token.split(":", 1)[1]):
        assert form not in output, "a form of the token was logged"


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING"])
async def test_no_token_or_message_text_in_logs(emu: Emulator, empty_database_url: str,
                                                tmp_path: Path, level: str) -> None:
    secret = "webhook_secret_value_123"
    # A first start on an empty database: the migrations' lines are in the log too.
    env = bot_env(emu, empty_database_url, TOKEN, LOG_LEVEL=level, WEBHOOK_SECRET=secret)
    process = await BotProcess(env, tmp_path).start()
    ana = emu.add_user("Ana", username="ana_oaxaca", language_code="es")
    sent = emu.send(ana, "/start")
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=30)
    sent = emu.send(ana, SECRET_TEXT)
    await emu.wait_for_bot_message(emu.private_chat(ana), after=sent, timeout=30)
    assert await process.terminate() == 0
    output = process.stderr.decode()
    if level == "DEBUG":
        assert "DEBUG" in output  # the level really was DEBUG
    assert_clean(output, TOKEN)
    assert secret not in output
    assert SECRET_TEXT not in output and "ana_oaxaca" not in output
    assert str(ana.id) not in output


async def test_a_refused_token_is_not_logged(emu: Emulator, tmp_path: Path) -> None:
    wrong = "987654321:AAWrongTokenThatTelegramRefuses_xyz"
    env = bot_env(emu, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", wrong, LOG_LEVEL="DEBUG")
    process = await BotProcess(env, tmp_path).start()
    assert await process.wait() == EX_CONFIG
    output = process.stderr.decode()
    assert_clean(output, wrong)
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("coalition-bot: Telegram refused")


@pytest.mark.expects_errors  # it logs an ERROR record to show it redacted
def test_in_process_records_are_redacted_for_every_handler(
        caplog: pytest.LogCaptureFixture) -> None:
    add_secrets([TOKEN])
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("anything").warning("url https://x/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"bad {urllib.parse.quote(TOKEN, safe='')}")
        except RuntimeError:
            logging.getLogger("anything").exception("failed")
    assert_clean(caplog.text, TOKEN)
    assert "[REDACTED]" in caplog.text
