"""Shared by the poll tests: a small coalition with groups, and a poll composed through /poll."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.db.models import Organisation, Poll, PollCopy, PollVote
from bot.emulator import Emulator
from bot.services.membership import membership
from tests.helpers import eventually
from tests.org_helpers import ask, make_org, started


@dataclass
class Coalition:
    bot: Any
    coord: Any
    orgs: dict[str, int] = field(default_factory=dict)
    groups: dict[str, Any] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)


async def link(bot: Any, org_id: int, chat: Any, by: Any) -> None:
    async with bot.db.transaction() as session:
        org = await session.get(Organisation, org_id)
        await membership.link_chat(session, org, chat.id, by.id, False, None, bot.clock.now())


async def coalition(emu: Emulator, make_bot: Any, *, coord_lang: str = "es",
                    group_lang: str | None = None, **bot_options: Any) -> Coalition:
    """Three members in Jalisco, one in Oaxaca, and an ally in Oaxaca:

    - "Red Jalisco" (member, es): contacts ana, beto, caro; groups g1 (with xavi, who speaks
      for no organisation, and dani, a contact of Colectivo Sur) and g2.
    - "Colectivo Sur" (member, only its contacts answer for it): contact dani, group g3 (with
      xavi, a stranger there).
    - "Sombra" (member, LOW PROFILE, alias none): contact lola, group g4.
    - "Fundación Norte" (member, Oaxaca): contact nico, no group (reached in private).
    - "Aliada" (ally, Oaxaca): contact ali, no group.
    """
    coord = emu.add_user("Coord", language_code=coord_lang)
    bot = await make_bot(coordinator_ids=(coord.id,), **bot_options)
    names = ("ana", "beto", "caro", "dani", "lola", "nico", "ali", "xavi")
    people = {n: emu.add_user(n.capitalize(), language_code="es") for n in names}
    await started(emu, coord, *people.values())
    c = Coalition(bot, coord, people=people)
    c.orgs["red"] = await make_org(bot, people["ana"].id, "Red Jalisco", coordinator=coord.id)
    async with bot.db.transaction() as session:
        for n in ("beto", "caro"):
            await membership.add_contact(session, c.orgs["red"], people[n].id, coord.id,
                                         bot.clock.now())
    c.orgs["sur"] = await make_org(bot, people["dani"].id, "Colectivo Sur", coordinator=coord.id)
    c.orgs["sombra"] = await make_org(bot, people["lola"].id, "Sombra", coordinator=coord.id)
    async with bot.db.transaction() as session:
        org = await session.get(Organisation, c.orgs["sombra"])
        org.low_profile = True
        sur = await session.get(Organisation, c.orgs["sur"])
        sur.only_contacts_answer = True
    c.orgs["norte"] = await make_org(bot, people["nico"].id, "Fundación Norte",
                                     coordinator=coord.id, kind="foundation",
                                     areas=("MX-OAX",))
    c.orgs["aliada"] = await make_org(bot, people["ali"].id, "Aliada", coordinator=coord.id,
                                      tier="ally", areas=("MX-OAX",))
    p = people
    for key, members, org in (("g1", ("ana", "beto", "xavi", "dani"), "red"),
                              ("g2", ("caro", "beto"), "red"),
                              ("g3", ("dani", "xavi"), "sur"), ("g4", ("lola",), "sombra")):
        group = emu.add_group(f"Grupo {key}", members=[p[m] for m in members],
                              admins=[p[members[0]]])
        emu.add_bot(group, by=p[members[0]])
        c.groups[key] = group
        await link(bot, c.orgs[org], group, p[members[0]])
        if group_lang:
            await ask(emu, p[members[0]], f"/language {group_lang}", chat=group)
    return c


async def compose(emu: Emulator, coord: Any, question: str, options: list[str], *,
                  kind: str = "Single choice", counting: str = "One vote per organisation",
                  allies: str = "No", audience: str = "All organisations",
                  filters: str = "all", closes: str = "2d", send: str = "Send") -> Any:
    """Drive /poll to the preview and press Send; returns the bot's answer to Send."""
    await ask(emu, coord, "/poll")
    await ask(emu, coord, question)
    reply = await ask(emu, coord, "\n".join(options))
    for label in (kind, counting, allies, audience):
        pressed = emu.press(coord, reply, label=label)
        reply = await emu.wait_for_bot_message(emu.private_chat(coord), after=reply)
        assert pressed.answered
    await ask(emu, coord, filters)
    preview = await ask(emu, coord, closes)
    emu.press(coord, preview, label=send)
    return await emu.wait_for_bot_message(emu.private_chat(coord), after=preview)


async def last_poll(bot: Any) -> Poll:
    async with bot.db.sessions() as session:
        poll = (await session.execute(select(Poll).order_by(Poll.id.desc()))).scalars().first()
        assert poll is not None
        return poll


async def copies(bot: Any, poll_id: int) -> list[PollCopy]:
    async with bot.db.sessions() as session:
        return list((await session.execute(
            select(PollCopy).where(PollCopy.poll_id == poll_id))).scalars())


async def traced(bot: Any, poll_id: int) -> list[PollCopy]:
    """Wait until every copy of a native poll is sent and traced."""

    async def check() -> list[PollCopy] | None:
        found = await copies(bot, poll_id)
        return found if found and all(c.tg_poll_id for c in found) else None

    return await eventually(check, timeout=20, what="every copy traced")


def poll_message(emu: Emulator, chat: Any) -> Any:
    return next(m for m in reversed(emu.bot_messages(chat)) if m.poll is not None)


async def votes(bot: Any) -> list[PollVote]:
    async with bot.db.sessions() as session:
        return list((await session.execute(select(PollVote).order_by(PollVote.id))).scalars())


async def voted(bot: Any, n: int) -> list[PollVote]:
    """Wait until n vote rows exist (each person's answer on a copy is one row)."""

    async def check() -> list[PollVote] | None:
        found = await votes(bot)
        return found if len(found) >= n else None

    return await eventually(check, timeout=10, what=f"{n} vote rows")


def texts(emu: Emulator, chat: Any) -> str:
    return "\n".join((m.text or m.caption or "") for m in emu.transcript(chat))


async def closed_result(bot: Any, poll_id: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        async with bot.db.sessions() as session:
            poll = await session.get(Poll, poll_id)
            return poll.result if poll is not None and poll.status == "closed" else None

    return await eventually(check, timeout=20, what="the poll closed")
