"""Alerts benchmark: an alert to 2,000 organisations, from Send to the last delivery, and the
coordinators' status view of it.

The emulator runs in its own process (``python -m bot.emulator``, strict checking on, real time),
with rate limits on (Telegram's: about 29 sends a second, so 2,000 chats take about 70 s) or off
(``--no-limits``: the bot's own speed). The audience is made with the emulator's ``populate``
control verb: half the organisations have a member group the bot is in, the other half no group
and one contact whose private chat with the bot is open (rule T then reaches the contact). The
organisations, contacts and member chats are written straight to the database (as registration
and /link would). The bot runs in this process (``BotService`` on a fresh SQLite file, or
``--database-url``).

Send is the Send button's own code path (``alerts.send`` with the outbox copy the button uses):
rule T over every organisation, one target row and one outbox row per chat, in one transaction.
Timed: that transaction; from before it to the last recorded answer from Telegram; and the status
view (``alerts.status`` plus its rendering in Spanish) once every copy is answered, with half the
organisations having answered, and ``alerts.recent`` (the /alerts list).

    .venv/bin/python bench/alerts.py                 # 2,000 orgs, limits on (about 75 s)
    .venv/bin/python bench/alerts.py --no-limits     # the bot's own speed
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "123456789:AAEmulatorTestTokenForCoalitionBot01"
BODY = ("La comisión de gobernación discute hoy la reforma a la ley de organizaciones de la "
        "sociedad civil: registro de donantes extranjeros y nuevas obligaciones fiscales. "
        "Pedimos a cada organización que confirme si le afecta y si puede sumarse al "
        "posicionamiento conjunto antes de las 18 horas.")


class EmulatorProcess:
    def __init__(self, rate_limits: bool) -> None:
        argv = [sys.executable, "-m", "bot.emulator", "--port", "0", "--token", TOKEN]
        if not rate_limits:
            argv.append("--no-rate-limits")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        urls: dict[str, str] = {}
        while len(urls) < 2:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the emulator exited before printing its URLs")
            key, _, value = line.partition(":")
            if key in ("base URL", "control URL"):
                urls[key] = value.strip()
        self.base_url, self.control_url = urls["base URL"], urls["control URL"]
        self.http = httpx.Client(timeout=120)

    def post(self, verb: str, body: dict[str, Any]) -> Any:
        r = self.http.post(f"{self.control_url}/{verb}", json=body)
        data = r.json()
        if r.status_code != 200:
            raise RuntimeError(f"{verb}: {data}")
        return data["result"]

    def get(self, what: str) -> Any:
        r = self.http.get(f"{self.control_url}/{what}")
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def populate_orgs(service: Any, groups: list[int], contacts: list[int],
                        group_admin: int) -> None:
    """One organisation per group (its contact not reachable), one per reachable contact."""
    from bot.db.models import Chat, Contact, MemberChat, Organisation, Person

    now = service.clock.now()
    states = ["MX-JAL", "MX-OAX", "MX-CMX", "MX-CHP"]
    orgs, people, member_chats, chat_rows, contact_rows = [], [], [], [], []
    n = 0
    for chat_id in groups:
        n += 1
        orgs.append(dict(id=n, name=f"Org {n}", kind="cso", tier="member" if n % 3 else "ally",
                         scope="state", areas=[states[n % 4]], topics=["tax"], capacities=[],
                         language="es" if n % 4 else "en", only_contacts_answer=False,
                         low_profile=n % 50 == 0, status="active", created_at=now,
                         updated_at=now))
        contact_rows.append(dict(user_id=10**12 + n, org_id=n, added_at=now))
        chat_rows.append(dict(id=chat_id, type="group", language=None, active=True,
                              created_at=now, updated_at=now))
        member_chats.append(dict(chat_id=chat_id, org_id=n, active=True, public=False,
                                 linked_by=group_admin, linked_at=now))
    for user_id in contacts:
        n += 1
        orgs.append(dict(id=n, name=f"Org {n}", kind="activist", tier="member", scope="state",
                         areas=[states[n % 4]], topics=["tax"], capacities=["legal"],
                         language="es", only_contacts_answer=False, low_profile=False,
                         status="active", created_at=now, updated_at=now))
        contact_rows.append(dict(user_id=user_id, org_id=n, added_at=now))
        people.append(dict(id=user_id, language_code="es" if n % 2 else "en", reachable=True,
                           started_at=now, updated_at=now))
    async with service.db.transaction() as session:
        for table, rows in ((Organisation, orgs), (Person, people), (Chat, chat_rows),
                            (Contact, contact_rows), (MemberChat, member_chats)):
            for start in range(0, len(rows), 500):
                await session.execute(table.__table__.insert(), rows[start:start + 500])


async def run(args: argparse.Namespace) -> None:
    from sqlalchemy import func, select

    from bot.app import BotService
    from bot.config import Settings
    from bot.db.models import AlertAnswer, AlertTarget, OutboxRow
    from bot.i18n import render
    from bot.services.alerts import alerts
    from handlers.alerts.copies import alert_copy
    from handlers.alerts.followup import status_text

    emu = EmulatorProcess(rate_limits=not args.no_limits)
    tmp = tempfile.TemporaryDirectory(prefix="bench-alerts-")
    try:
        made = emu.post("populate", {"private": args.orgs // 2 + 1,
                                     "groups": args.orgs - args.orgs // 2})
        coordinator, contacts = made["private"][0], made["private"][1:]
        groups, admin = made["groups"], made["admin"]
        url = args.database_url or f"sqlite+aiosqlite:///{tmp.name}/bench.db"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=TOKEN, telegram_api_base_url=emu.base_url, database_url=url,
            coordinator_ids=(coordinator,), default_language="es",
            timezone="America/Mexico_City", log_level="WARNING", sweep_interval=2.0,
            poll_timeout=10, clock_url=emu.control_url + "/clock")
        service = BotService(settings)
        await service.start()
        if args.no_limits:
            service.pacer.rate = 100_000
        try:
            await populate_orgs(service, groups, contacts, admin)
            now = service.clock.now()
            async with service.db.transaction() as session:
                draft = await alerts.new_draft(session, coordinator, now, title="Reforma",
                                               body_es=BODY, regions=["MX"])
                draft.topics, draft.asks = ["tax"], list(alerts.ASKS[:3])
                alert_id = draft.id
            await asyncio.sleep(1.0)  # start-up requests settle
            t0 = time.perf_counter()
            async with service.db.transaction() as session:
                sent = await alerts.send(session, alert_id, coordinator, service.clock.now(),
                                         alert_copy(settings.timezone), "es",
                                         report_chat_id=coordinator)
            send_tx = time.perf_counter() - t0
            assert sent is not None
            service.sender.wake()
            pending = select(func.count()).where(OutboxRow.fanout_id == sent.fanout_id,
                                                 OutboxRow.state.in_(("queued", "sending")))
            while True:
                async with service.db.sessions() as session:
                    if (await session.execute(pending)).scalar_one() == 0:
                        break
                await asyncio.sleep(0.05)
            wall = time.perf_counter() - t0
            async with service.db.sessions() as session:
                states = dict((await session.execute(
                    select(OutboxRow.state, func.count()).where(
                        OutboxRow.fanout_id == sent.fanout_id)
                    .group_by(OutboxRow.state))).all())
                targets = (await session.execute(select(AlertTarget.org_id, AlertTarget.chat_id)
                                                 .where(AlertTarget.alert_id == alert_id))
                           ).all()
            answered_orgs = sorted({o for o, _ in targets})[::2]
            async with service.db.transaction() as session:
                await session.execute(AlertAnswer.__table__.insert(), [
                    dict(alert_id=alert_id, org_id=o, answer=alerts.ASKS[o % 3],
                         answered_by=None, answered_at=now) for o in answered_orgs])
            views = []
            for _ in range(5):
                t1 = time.perf_counter()
                async with service.db.reader() as session:
                    found = await alerts.status(session, alert_id)
                assert found is not None
                text = render("es", settings.timezone, lambda t, found=found: status_text(t, found))
                views.append(time.perf_counter() - t1)
            t2 = time.perf_counter()
            async with service.db.reader() as session:
                await alerts.recent(session, 10)
            recent_s = time.perf_counter() - t2
        finally:
            await service.stop()
        metrics = emu.get("metrics")
    finally:
        emu.stop()
        tmp.cleanup()
    per_chat = metrics["sends_per_chat"]
    missing = sum(1 for c in [*groups, *contacts] if per_chat.get(str(c), 0) == 0)
    print(f"alerts bench {time.strftime('%Y-%m-%d')} · {platform.python_version()} · "
          f"{'PostgreSQL' if args.database_url else 'SQLite'} · rate limits "
          f"{'off' if args.no_limits else 'on'}")
    print(f"organisations reached: {sent.orgs:,}; chats: {sent.chats:,} "
          f"({len(groups):,} groups, {len(contacts):,} private); states: {states}; "
          f"missing: {missing}; 429s: {metrics['too_many_requests']}; "
          f"duplicates: {metrics['duplicates']}")
    print(f"Send transaction (rule T + targets + outbox): {send_tx:.2f} s")
    print(f"Send to last delivery: {wall:.1f} s ({sent.chats / wall:.1f} chats a second)")
    print(f"status view ({len(answered_orgs):,} answers, {len(found.silent):,} silent; "
          f"{len(text):,} characters): median {sorted(views)[2] * 1000:.0f} ms, "
          f"first {views[0] * 1000:.0f} ms; /alerts list: {recent_s * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=2000)
    parser.add_argument("--no-limits", action="store_true",
                        help="emulator rate limits off and the pacer unbounded")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL database to use (default: a fresh SQLite file)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
