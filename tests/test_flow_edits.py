"""An edited message inside a guided flow (issue 23, item 3): Telegram sends the edit as an
update of its own, and it used to reach the open step as a new answer (a typo fixed in an
alert's text appended the corrected paragraph; an earlier step's answer, edited, landed in the
current one). Now an edit replaces the answer it edits while that step is open (a part of a text
of several messages, a refused answer) and is ignored after, with a word on how to change it."""

from __future__ import annotations

from typing import Any

from bot.emulator import Emulator
from tests.alert_helpers import last_alert
from tests.helpers import eventually, updates_handled


async def test_an_edit_replaces_its_answer_while_the_step_is_open(emu: Emulator,
                                                                  make_bot: Any) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    chat = emu.private_chat(coord)
    started = emu.send(coord, "/alert")
    await emu.wait_for_bot_message(chat, after=started)
    title = emu.send(coord, "Reforma fiscal")
    await emu.wait_for_bot_message(chat, after=title)
    first = emu.send(coord, "Texto con un eror.")
    added = await emu.wait_for_bot_message(chat, after=first)
    assert added.text.startswith("Added. The text now has 18 characters.")
    second = emu.send(coord, "Segundo párrafo.")
    added = await emu.wait_for_bot_message(chat, after=second)

    # the typo fixed in the first part, while the text is still open: that part is replaced
    emu.edit_message(coord, first, "Texto con un error.")
    changed = await emu.wait_for_bot_message(chat, after=added)
    assert changed.text.startswith("Changed. The text now has 37 characters.")
    assert [b.text for row in changed.buttons for b in row] == ["Done"]
    draft = await last_alert(bot)
    assert draft is not None and draft.body_es == "Texto con un error.\n\nSegundo párrafo."

    # an earlier step's answer, edited once its step is over: ignored, and the person told
    emu.edit_message(coord, title, "Otra cosa")
    note = await emu.wait_for_bot_message(chat, after=changed)
    assert "editing a message does not change your answer" in note.text
    await eventually(lambda: updates_handled(bot), what="the edits handled")
    draft = await last_alert(bot)
    assert draft is not None and draft.status == "draft"
    assert (draft.title, draft.body_es) == ("Reforma fiscal",
                                            "Texto con un error.\n\nSegundo párrafo.")

    # once Done is pressed, the text's step is over: an edit of a part changes nothing
    emu.press(coord, changed, label="Done")
    english = await emu.wait_for_bot_message(chat, after=note)
    assert "English" in english.text
    emu.edit_message(coord, second, "Otro párrafo.")
    note = await emu.wait_for_bot_message(chat, after=english)
    assert "editing a message does not change your answer" in note.text
    await eventually(lambda: updates_handled(bot), what="the edit handled")
    draft = await last_alert(bot)
    assert draft is not None and draft.body_es == "Texto con un error.\n\nSegundo párrafo."


async def test_a_refused_answer_edited_is_read_again(emu: Emulator, make_bot: Any) -> None:
    coord = emu.add_user("Coord", language_code="en")
    bot = await make_bot(coordinator_ids=(coord.id,))
    chat = emu.private_chat(coord)
    started = emu.send(coord, "/alert")
    await emu.wait_for_bot_message(chat, after=started)
    wrong = emu.send(coord, "Reforma " * 30)  # over 200 characters
    refused = await emu.wait_for_bot_message(chat, after=wrong)
    assert refused.text.startswith("That title cannot be used")
    emu.edit_message(coord, wrong, "Reforma fiscal")
    asked = await emu.wait_for_bot_message(chat, after=refused)
    assert "Send the text in Spanish" in asked.text
    draft = await last_alert(bot)
    assert draft is not None and draft.title == "Reforma fiscal"
