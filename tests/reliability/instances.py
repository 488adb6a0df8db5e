"""Two bot processes on one PostgreSQL database in webhook mode, behind a round-robin proxy (one
public webhook URL, as nginx in front of two upstreams): the emulator delivers every update to the
proxy, which hands it to instance A or B in turn, and to the other when one refuses."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import OutboxRow
from bot.delivery import outbox
from bot.emulator import Emulator
from tests.process import BotProcess
from tests.reliability.proxies import RoundRobinProxy
from tests.reliability.support import debug_env, free_port

STARTED = re.compile(rb"bot\.started instance=([0-9a-f]+)")


@dataclass
class Instance:
    name: str
    port: int
    env: dict[str, str]
    process: BotProcess
    id: str = ""

    async def started(self, timeout: float = 60) -> str:
        """Wait for this process's `bot.started` line; its instance id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = STARTED.search(self.process.stderr)
            if found:
                self.id = found.group(1).decode()
                return self.id
            proc = self.process.proc
            if proc is not None and proc.returncode is not None:
                raise AssertionError(f"instance {self.name} exited {proc.returncode}")
            await asyncio.sleep(0.1)
        raise TimeoutError(f"instance {self.name} did not start")

    @property
    def output(self) -> str:
        """Everything this instance's processes printed (each process has its own file)."""
        return "".join(p.read_text(errors="replace")
                       for p in sorted(self.process.cwd.glob("*.log")))


class Cluster:
    """Instances A and B, the proxy in front of them, and the test's own view of the database."""

    def __init__(self, emu: Emulator, database_url: str, tmp_path: Path) -> None:
        self.emu = emu
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.proxy_port = free_port()
        self.instances: list[Instance] = []
        self.proxy: RoundRobinProxy | None = None
        self.db = Database(database_url)

    async def start(self, count: int = 2) -> Cluster:
        ports = [free_port() for _ in range(count)]
        self.proxy = await RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports]).start(
            self.proxy_port)
        for index, port in enumerate(ports):
            env = debug_env(self.emu, self.database_url,
                            WEBHOOK_URL=f"http://127.0.0.1:{self.proxy_port}/tg/hook",
                            WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
            folder = self.tmp_path / "AB"[index]
            folder.mkdir(exist_ok=True)
            self.instances.append(Instance("AB"[index], port, env, BotProcess(env, folder)))
        # Started together: both migrate at once (the lock lets one do it).
        await asyncio.gather(*(i.process.start() for i in self.instances))
        await asyncio.gather(*(i.started() for i in self.instances))
        return self

    def by_id(self, instance_id: str) -> Instance:
        return next(i for i in self.instances if i.id == instance_id)

    async def kill(self, instance: Instance) -> None:
        await instance.process.kill()

    async def restart(self, instance: Instance) -> None:
        instance.process = BotProcess(instance.env, instance.process.cwd)
        await instance.process.start()
        await instance.started()

    async def lease_holder(self, timeout: float = 30) -> Instance:
        """The instance whose sender has rows claimed (only the lease holder claims)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.db.sessions() as session:
                holders = (await session.execute(
                    select(OutboxRow.claimed_by).where(OutboxRow.state == "sending",
                                                       OutboxRow.claimed_by.is_not(None))
                    .distinct())).scalars().all()
            live = [h for h in holders if h in {i.id for i in self.instances}]
            if len(live) == 1:
                return self.by_id(live[0])
            await asyncio.sleep(0.02)
        raise TimeoutError("no single sender lease holder")

    async def claimed_by(self, instance: Instance) -> int:
        async with self.db.sessions() as session:
            return int((await session.execute(
                select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.state == "sending", OutboxRow.claimed_by == instance.id)))
                .scalar_one())

    async def enqueue(self, key: str, chats: list[int], text: str) -> int:
        async with self.db.transaction() as session:
            return await outbox.enqueue(
                session, key, "test", [outbox.Outgoing(chat_id=c, text=text) for c in chats],
                datetime.fromtimestamp(self.emu.clock.now(), UTC))

    async def status(self, fanout_id: int) -> outbox.FanoutStatus:
        async with self.db.sessions() as session:
            return await outbox.status(session, fanout_id)

    async def stop(self) -> None:
        for instance in self.instances:
            proc = instance.process.proc
            if proc is not None and proc.returncode is None:
                await instance.process.terminate()
        if self.proxy is not None:
            await self.proxy.stop()
        await self.db.dispose()
