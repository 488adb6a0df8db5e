"""Alerts' button data (decoded in handlers/shared/callback_data.py like every other) and the
copies the outbox sends: the alert and the nudge in a target chat's language, with the answer
buttons.

Kept apart from the handlers so the scheduled nudge (handlers/alerts/tasks.py) renders exactly
what the /alerts button sends.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot import i18n
from bot.db.models import Alert
from bot.delivery.outbox import Outgoing
from bot.services.alerts import alerts, corrections
from bot.services.shared import vocabulary as v
from handlers.alerts.render import (
    alert_text,
    ask_label,
    corrected_text,
    nudge_text,
    render_each,
    stale_part,
    withdrawn_text,
)
from handlers.shared.callback_data import action, encode


@action("aa")
@dataclasses.dataclass(frozen=True)
class AnswerPress:
    """An answer under an alert; the organisation comes from the chat and the presser (rule A)."""

    alert: int
    kind: str

    def valid(self) -> bool:
        return self.alert > 0 and self.kind in alerts.ASKS


@action("acap")
@dataclasses.dataclass(frozen=True)
class CapacityPress:
    """"We can help" with this capacity."""

    alert: int
    capacity: str

    def valid(self) -> bool:
        return self.alert > 0 and self.capacity in v.CAPACITIES


@action("apv")
@dataclasses.dataclass(frozen=True)
class PreviewPress:
    """An answer button under the composer's preview: shows what it will do, records nothing."""

    kind: str

    def valid(self) -> bool:
        return self.kind in alerts.ASKS


def answer_buttons(alert: Alert, choice: str, preview: bool = False) -> list[list[dict[str, Any]]]:
    """One answer per row, labelled in the chat's language (`both`: "es / en")."""
    rows = []
    for kind in alerts.ASKS:
        if kind not in (alert.asks or []):
            continue
        data = encode(PreviewPress(kind)) if preview else encode(AnswerPress(alert.id, kind))
        rows.append([{"text": i18n.label(choice, lambda t, k=kind: ask_label(t, k)),
                      "callback_data": data}])
    return rows


def capacity_buttons(alert_id: int, choice: str) -> list[list[dict[str, Any]]]:
    buttons = [{"text": i18n.label(choice, lambda t, label=label: t.tr(label)),
                "callback_data": encode(CapacityPress(alert_id, code))}
               for code, label in v.CAPACITIES.items()]
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def alert_copy(default_timezone: str) -> alerts.Render:
    """The outbox copy of an alert for one target chat."""

    def render(alert: Alert, target: alerts.Target) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=alert_text(alert, target.language,
                                        target.timezone or default_timezone),
                        buttons=answer_buttons(alert, target.language) or None,
                        protect_content=target.protect)

    return render


def nudge_copy(default_timezone: str) -> alerts.Render:
    """The outbox copy of the one reminder to a silent organisation's chat."""

    def render(alert: Alert, target: alerts.Target) -> Outgoing:
        return Outgoing(target.chat_id,
                        text=nudge_text(alert, target.language,
                                        target.timezone or default_timezone),
                        buttons=answer_buttons(alert, target.language) or None,
                        protect_content=target.protect)

    return render


def fix_copy(default_timezone: str) -> corrections.Render:
    """A chat's copy after a correction or a withdrawal: its earlier message ids edited (the
    answer buttons stay under a corrected alert, go with a withdrawn one)."""

    def render(alert: Alert, copy: corrections.Copy) -> Outgoing:
        zone = default_timezone
        if alert.withdrawn_at is not None:
            text, buttons = withdrawn_text(alert, copy.language, zone), None
        else:
            text = corrected_text(alert, copy.language, zone)
            buttons = answer_buttons(alert, copy.language) or None
        edit = None
        if copy.message_ids:
            edit = {"message_ids": list(copy.message_ids),
                    "stale": render_each(copy.language, zone, stale_part)}
        return Outgoing(copy.chat_id, text=text, buttons=buttons, protect_content=copy.protect,
                        edit=edit)

    return render
