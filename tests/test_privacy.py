"""/privacy says exactly what the bot keeps: the catalogue is held against the schema, and the
text the bot sends names every table and column that holds personal data, in both languages."""

from __future__ import annotations

import re

import pytest

from bot.db.models import Base
from bot.emulator import Emulator
from bot.services.safety import privacy
from tests.org_helpers import ask, make_org

# A column holds personal data when it can identify a person, a chat or an organisation, or holds
# text people wrote or that names them. New columns with these shapes must be in the catalogue.
PERSONAL_NAMES = {"user_id", "chat_id", "actor_id", "target_id", "name", "alias", "payload",
                  "data", "text", "message_ids", "reason", "lane", "language_code", "title",
                  "body", "statement", "comment", "note", "signature", "org_name",
                  "decision_reason", "report_chat_id", "username"}
PERSONAL_PATTERNS = (re.compile(r".*_by$"), re.compile(r".*_chat_id$"), re.compile(r"^body_"),
                     re.compile(r".*_text$"), re.compile(r".*_user_id$"),
                     re.compile(r"^statement_"), re.compile(r".*_name$"))
# Columns that match the shapes above but hold no personal data: which bot process holds a row.
NOT_PERSONAL = {"claimed_by"}
# Tables whose own `id` is a Telegram id (of a person or a chat).
TELEGRAM_KEYED = {"people", "chats"}


def personal_columns(table) -> set[str]:
    found = set()
    for column in table.columns:
        name = column.name
        if name in NOT_PERSONAL:
            continue
        if (name in PERSONAL_NAMES or any(p.match(name) for p in PERSONAL_PATTERNS)
                or (name == "id" and table.name in TELEGRAM_KEYED)):
            found.add(name)
    return found


def test_every_table_is_accounted_for() -> None:
    kept = {k.table: k for k in privacy.KEPT}
    assert len(kept) == len(privacy.KEPT), "a table is listed twice"
    for table in Base.metadata.sorted_tables:
        assert table.name in kept or table.name in privacy.NOTHING_PERSONAL, (
            f"table {table.name} is neither in privacy.KEPT nor in NOTHING_PERSONAL")
        if table.name in privacy.NOTHING_PERSONAL:
            assert not personal_columns(table) - {"name"} or table.name == "anonymous_counts", (
                f"{table.name} is said to hold nothing personal but has "
                f"{personal_columns(table)}")
            continue
        listed = set(kept[table.name].columns)
        assert listed <= {c.name for c in table.columns}, (
            f"{table.name}: the catalogue names columns that do not exist: "
            f"{listed - {c.name for c in table.columns}}")
        missing = personal_columns(table) - listed
        assert not missing, f"{table.name}: personal columns not in /privacy: {missing}"
    stale = set(kept) - {t.name for t in Base.metadata.sorted_tables}
    assert not stale, f"/privacy describes tables that do not exist: {stale}"


@pytest.mark.parametrize("language", ["es", "en"])
async def test_privacy_text_names_every_personal_column(emu: Emulator, bot, language: str
                                                        ) -> None:
    ana = emu.add_user("Ana", language_code=language)
    sent = emu.send(ana, "/privacy")
    chat = emu.private_chat(ana)
    await emu.wait_for(lambda: any("/lowprofile (" in m.text for m in emu.bot_messages(chat)
                                   if m.message_id > sent.message_id),
                       what="the end of /privacy")
    text = "\n".join(m.text for m in emu.bot_messages(chat) if m.message_id > sent.message_id)
    for kept in privacy.KEPT:
        assert f"{kept.table}: {', '.join(kept.columns)}" in text, kept.table
    if language == "es":
        assert "Qué guarda este bot" in text and "no están cifrados de extremo a extremo" in text
        assert "180 días" in text
    else:
        assert "What this bot keeps" in text and "not end-to-end encrypted" in text
        assert "180 days" in text


async def test_privacy_in_a_both_languages_group_is_split_and_whole(emu: Emulator, bot) -> None:
    ana = emu.add_user("Ana", language_code="es")
    grp = emu.add_group("Red", members=[ana], admins=[ana])
    emu.add_bot(grp, by=ana)
    await make_org(bot, ana.id, "Red Zafiro")
    await ask(emu, ana, "/language both", chat=grp)
    sent = emu.send(ana, "/privacy", chat=grp)
    await emu.wait_for(lambda: sum("/lowprofile (" in m.text for m in emu.bot_messages(grp)
                                   if m.message_id > sent.message_id) >= 2,
                       what="both languages of /privacy")
    parts = [m for m in emu.bot_messages(grp) if m.message_id > sent.message_id]
    assert len(parts) >= 2 and all(len(m.text) <= 4096 for m in parts)
    text = "\n".join(m.text for m in parts)
    assert "Qué guarda este bot" in text and "What this bot keeps" in text
