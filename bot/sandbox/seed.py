"""A small sample coalition for the sandbox: a dozen organisations, both tiers, a few states,
two member groups, a coordinator and a stranger.

Why through the services and the emulator, not fixtures in SQL: the sandbox must show the real
bot, so the sample is made the way real use makes it (people who pressed /start, groups the bot
was added to and linked), and it stays right as the schema changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.app import BotService
from bot.emulator import Emulator
from bot.services.membership import membership

# name, contact, kind, tier, scope, areas, topics, capacities, language
ORGS: list[tuple[str, str, str, str, str, list[str], list[str], list[str], str]] = [
    ("Red Jalisco por la Transparencia", "Ana", "cso", "member", "state", ["MX-JAL"],
     ["transparency", "association-law"], ["legal"], "es"),
    ("Colectivo Oaxaca Digna", "Beto", "activist", "member", "state", ["MX-OAX"],
     ["protest"], ["communications"], "es"),
    ("Fundación Ciudad Abierta", "Carla", "foundation", "member", "state", ["MX-CMX"],
     ["foreign-funding", "tax"], ["funding"], "es"),
    ("Observatorio Chiapas", "Dario", "academic", "member", "state", ["MX-CHP"],
     ["surveillance"], ["research"], "es"),
    ("Defensoras del Norte", "Elena", "cso", "member", "state", ["MX-NLE"],
     ["protest", "surveillance"], ["psychosocial"], "es"),
    ("Litigio Estratégico MX", "Fer", "cso", "member", "national", ["MX"],
     ["association-law", "aml"], ["legal"], "es"),
    ("Datos Seguros AC", "Gabi", "cso", "member", "national", ["MX"],
     ["surveillance"], ["digital-security"], "es"),
    ("Voces de Veracruz", "Hugo", "activist", "member", "local", ["MX-VER"],
     ["protest"], [], "es"),
    ("Centro Yucateco de Derechos", "Irene", "cso", "member", "state", ["MX-YUC"],
     ["tax", "transparency"], ["research"], "es"),
    ("Open Society Office Mexico", "Jack", "international", "ally", "national", ["MX"],
     ["foreign-funding"], ["funding"], "en"),
    ("Digital Rights Lab", "Kim", "international", "ally", "regional", ["MX", "GT"],
     ["surveillance"], ["digital-security"], "en"),
    ("Red Guatemalteca de ONG", "Luis", "cso", "ally", "regional", ["GT"],
     ["association-law"], ["legal"], "es"),
]
GROUPS = {"Red Jalisco (grupo)": 0, "Oaxaca Digna (grupo)": 1}
COORDINATOR, STRANGER = "Coco", "Sam"


@dataclass
class Sample:
    """Who and where, by the names the console shows."""

    people: dict[str, Any] = field(default_factory=dict)
    chats: dict[str, Any] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)


def people_first(emu: Emulator) -> Sample:
    """The people and groups in the emulator (before the bot starts: the coordinator's id is a
    setting)."""
    sample = Sample()
    sample.people[COORDINATOR] = emu.add_user(COORDINATOR, username="coco_coord",
                                              language_code="es")
    for _, contact, *_rest, language in ORGS:
        sample.people[contact] = emu.add_user(contact, language_code=language)
    sample.people[STRANGER] = emu.add_user(STRANGER, language_code="es")
    for title, index in GROUPS.items():
        contact = sample.people[ORGS[index][1]]
        sample.chats[title] = emu.add_group(title, members=[contact], admins=[contact])
    return sample


async def seed(emu: Emulator, service: BotService, sample: Sample) -> None:
    """Active organisations with their contacts, people who opened the bot, linked groups."""
    now = service.clock.now()
    coordinator = sample.people[COORDINATOR]
    for person in sample.people.values():
        emu.send(person, "/start")
    await emu.wait_for(lambda: all(emu.bot_messages(emu.private_chat(p))
                                   for p in sample.people.values()),
                       timeout=30, what="everyone's /start answered")
    async with service.db.transaction() as session:
        for name, contact, kind, tier, scope, areas, topics, capacities, lang in ORGS:
            org = await membership.register(session, membership.Draft(
                name=name, kind=kind, tier=tier, scope=scope, areas=areas, topics=topics,
                capacities=capacities, language=lang, only_contacts_answer=False),
                sample.people[contact].id, now, approved_by=coordinator.id)
            sample.orgs[name] = int(org.id)
    for title, index in GROUPS.items():
        group = sample.chats[title]
        contact = sample.people[ORGS[index][1]]
        emu.add_bot(group, by=contact)
        async with service.db.transaction() as session:
            org = await membership.org_of(session, contact.id)
            assert org is not None
            await membership.link_chat(session, org, group.id, contact.id, public=False,
                                       member_count=2, now=now)
