"""Strict request checking against api.json (bot/emulator/spec.py).

The fixtures of the whole suite assert that the emulator recorded no violations, so a false positive
here breaks every test and a false negative hides a real bug: both directions are pinned. Request
bodies are built by the real python-telegram-bot where possible, so they have exactly the shape the
emulator's server receives.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

from bot.emulator.spec import ApiSpec, InputFileValue, Violation

SPEC = ApiSpec.load()


class _CapturingRequest(BaseRequest):
    """A PTB transport that records what would be sent and answers 400 (no network)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        params: dict[str, Any] = {}
        if request_data is not None:
            params.update(request_data.json_parameters)
            if request_data.contains_files:
                # multipart: file parts are (filename, bytes, mime type), as the server unwraps them
                for name, part in request_data.multipart_data.items():
                    if isinstance(part, tuple):
                        params[name] = InputFileValue(part[1], part[0], part[2])
        self.sent.append((url.rsplit("/", 1)[1], params))
        return 400, b'{"ok": false, "error_code": 400, "description": "Bad Request: captured"}'


def ptb_requests(*calls: Callable[[Bot], Awaitable[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Run PTB Bot calls against the capturing transport; return (method, params) per call."""
    transport = _CapturingRequest()

    async def run() -> None:
        bot = Bot("123456:TEST-TOKEN", request=transport, get_updates_request=transport)
        for call in calls:
            with pytest.raises(TelegramError):
                await call(bot)

    asyncio.run(run())
    return transport.sent


def problems(method: str, params: dict[str, Any]) -> dict[str, str]:
    """Violations as {field path: problem}, for readable asserts."""
    return {v.field: v.problem for v in SPEC.check(method, params)}


KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Español", callback_data="v1:lang:es")],
        [InlineKeyboardButton("Web", url="https://example.org")],
    ]
)


# -- loading and look-ups ----------------------------------------------------------------------


def test_load_is_cached_and_knows_the_version() -> None:
    assert ApiSpec.load() is SPEC
    assert SPEC.version == "Bot API 10.1"
    assert "sendMessage" in SPEC.method_names


def test_method_name_is_case_insensitive() -> None:
    assert SPEC.method_name("sendMessage") == "sendMessage"
    assert SPEC.method_name("sendmessage") == "sendMessage"
    assert SPEC.method_name("SENDMESSAGE") == "sendMessage"
    assert SPEC.method_name("sendMesage") is None


def test_returns() -> None:
    assert SPEC.returns("sendMessage") == ["Message"]
    assert SPEC.returns("getme") == ["User"]
    assert SPEC.returns("setMyCommands") == ["Boolean"]
    assert SPEC.returns("noSuchMethod") == []


def test_fields_lists_allowed_types() -> None:
    fields = SPEC.fields("sendMessage")
    assert fields["chat_id"] == ("Integer", "String")
    assert "ForceReply" in fields["reply_markup"]


# -- real PTB bodies are clean -----------------------------------------------------------------


def test_ptb_send_message_form_body_has_no_violations() -> None:
    [(method, params)] = ptb_requests(
        lambda bot: bot.send_message(
            -1001234567890,
            "<b>Alerta</b> 😀",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
            disable_notification=True,
            protect_content=True,
            reply_parameters=ReplyParameters(5, allow_sending_without_reply=True),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    )
    assert method == "sendMessage"
    # the shape the server sees: every value a string, nested values JSON text
    assert params["chat_id"] == "-1001234567890"
    assert params["disable_notification"] == "true"
    assert json.loads(params["reply_markup"])["inline_keyboard"][0][0]["text"] == "Español"
    assert SPEC.check(method, params) == []


def test_ptb_bodies_of_other_methods_have_no_violations() -> None:
    sent = ptb_requests(
        lambda bot: bot.send_message(1, "¿Responder?", reply_markup=ForceReply(selective=True)),
        lambda bot: bot.send_poll(
            1, "¿Cuándo?", ["Lunes", "Martes"], is_anonymous=False, allows_multiple_answers=True
        ),
        lambda bot: bot.set_my_commands(
            [BotCommand("start", "Empezar")], scope=BotCommandScopeChat(-100123), language_code="es"
        ),
        lambda bot: bot.get_updates(
            offset=5, timeout=10, allowed_updates=["message", "poll_answer"]
        ),
        lambda bot: bot.answer_callback_query("42", text="Listo", show_alert=True),
        lambda bot: bot.edit_message_text("nuevo", chat_id=1, message_id=7, reply_markup=KEYBOARD),
        lambda bot: bot.delete_message(1, 7),
        lambda bot: bot.send_document(1, b"%PDF-1.4", filename="informe.pdf", caption="Informe"),
        lambda bot: bot.send_media_group(
            1, [InputMediaPhoto(b"\x89PNG"), InputMediaPhoto(b"\x89PNG", caption="dos")]
        ),
        lambda bot: bot.send_media_group(1, [InputMediaDocument(b"a"), InputMediaDocument(b"b")]),
    )
    assert [m for m, _ in sent] == [
        "sendMessage",
        "sendPoll",
        "setMyCommands",
        "getUpdates",
        "answerCallbackQuery",
        "editMessageText",
        "deleteMessage",
        "sendDocument",
        "sendMediaGroup",
        "sendMediaGroup",
    ]
    for method, params in sent:
        assert SPEC.check(method, params) == [], method
    assert isinstance(sent[7][1]["document"], InputFileValue)


def test_json_body_with_typed_values_has_no_violations() -> None:
    params = {
        "chat_id": 2**33 + 7,
        "text": "hola",
        "disable_notification": False,
        "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]},
        "entities": [{"type": "bold", "offset": 0, "length": 4}],
    }
    assert SPEC.check("sendMessage", params) == []


# -- the four kinds of violation ---------------------------------------------------------------


def test_unknown_method() -> None:
    assert SPEC.check("sendMesage", {"chat_id": "1"}) == [
        Violation("sendMesage", "", "unknown method")
    ]


def test_lower_case_method_is_checked_under_its_canonical_name() -> None:
    assert SPEC.check("sendmessage", {"chat_id": "1", "text": "x"}) == []
    assert SPEC.check("sendmessage", {"chat_id": "1"}) == [
        Violation("sendMessage", "text", "missing required field")
    ]


def test_unknown_top_level_field() -> None:
    assert problems("sendMessage", {"chat_id": "1", "text": "x", "reply_to": "3"}) == {
        "reply_to": "unknown field"
    }


def test_unknown_field_inside_inline_keyboard_button() -> None:
    markup = {
        "inline_keyboard": [[{"text": "a", "callback_data": "x"}, {"text": "b", "data": "y"}]]
    }
    params = {"chat_id": "1", "text": "x", "reply_markup": json.dumps(markup)}
    assert problems("sendMessage", params) == {
        "reply_markup.inline_keyboard[0][1].data": "unknown field"
    }


def test_button_without_text_is_a_violation() -> None:
    markup = {"inline_keyboard": [[{"callback_data": "x"}]]}
    params = {"chat_id": "1", "text": "x", "reply_markup": json.dumps(markup)}
    assert problems("sendMessage", params) == {
        "reply_markup.inline_keyboard[0][0].text": "missing required field"
    }


def test_unknown_key_at_the_top_of_reply_markup() -> None:
    params = {"chat_id": "1", "text": "x", "reply_markup": '{"inline_keyboard": [], "color": 1}'}
    assert problems("sendMessage", params) == {"reply_markup.color": "unknown field"}


def test_bad_buttons_are_reported_against_the_inline_keyboard() -> None:
    # several bad buttons must not make ForceReply (with fewer complaints) the "closest" type
    row = [{"text": "a", "x": 1}, {"text": "b", "y": 2}, {"text": "c", "z": 3}]
    params = {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [row]}}
    assert set(problems("sendMessage", params)) == {
        "reply_markup.inline_keyboard[0][0].x",
        "reply_markup.inline_keyboard[0][1].y",
        "reply_markup.inline_keyboard[0][2].z",
    }


def test_missing_required_field() -> None:
    assert problems("sendMessage", {"text": "x"}) == {"chat_id": "missing required field"}
    assert problems("sendMessage", {"chat_id": "1", "text": None}) == {
        "text": "missing required field"
    }


def test_chat_id_abc_is_valid_but_message_id_abc_is_not() -> None:
    # chat_id is "Integer or String" (an @username); message_id is an Integer
    assert SPEC.check("sendMessage", {"chat_id": "abc", "text": "x"}) == []
    assert problems("editMessageText", {"chat_id": "abc", "message_id": "abc", "text": "x"}) == {
        "message_id": "expected Integer, got 'abc'"
    }


# -- Telegram's coercions ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["123", "-1001234567890", 123, 2**40])
def test_integer_accepts_digit_strings_and_ints(value: Any) -> None:
    assert SPEC.check("deleteMessage", {"chat_id": "1", "message_id": value}) == []


@pytest.mark.parametrize("value", ["abc", "1.5", "", "12a", True, 1.5, {"a": 1}])
def test_integer_rejects_other_values(value: Any) -> None:
    assert "message_id" in problems("deleteMessage", {"chat_id": "1", "message_id": value})


@pytest.mark.parametrize("value", ["true", "false", "True", "1", "0", True, False])
def test_boolean_accepts_form_strings_and_bools(value: Any) -> None:
    assert SPEC.check("sendMessage", {"chat_id": "1", "text": "x", "protect_content": value}) == []


@pytest.mark.parametrize("value", ["yes", "maybe", "", 1])
def test_boolean_rejects_other_values(value: Any) -> None:
    params = {"chat_id": "1", "text": "x", "protect_content": value}
    assert "protect_content" in problems("sendMessage", params)


def test_nested_boolean_must_be_a_json_boolean() -> None:
    params = {"chat_id": "1", "text": "x", "reply_markup": '{"force_reply": "true"}'}
    assert problems("sendMessage", params) == {
        "reply_markup.force_reply": "expected Boolean, got 'true'"
    }


@pytest.mark.parametrize(
    ("lat", "ok"),
    [
        ("1.5", True),
        ("-20", True),
        (19.4, True),
        (2, True),
        ("1e3", True),
        ("north", False),
        (True, False),
    ],
)
def test_float_coercion(lat: Any, ok: bool) -> None:
    params = {"chat_id": "1", "latitude": lat, "longitude": "-99.1"}
    assert (SPEC.check("sendLocation", params) == []) is ok


def test_string_accepts_numbers_as_telegram_does_but_not_objects() -> None:
    assert SPEC.check("sendMessage", {"chat_id": 1, "text": 42}) == []
    assert problems("sendMessage", {"chat_id": 1, "text": {"a": 1}}) == {
        "text": "expected String, got an object"
    }


def test_object_field_with_invalid_json() -> None:
    params = {"chat_id": "1", "text": "x", "reply_markup": "{inline_keyboard: []}"}
    [violation] = SPEC.check("sendMessage", params)
    assert violation.field == "reply_markup"
    assert "not valid JSON" in violation.problem


def test_union_mismatch_names_all_alternatives() -> None:
    params = {"chat_id": "1", "text": "x", "reply_markup": "[1, 2]"}
    assert problems("sendMessage", params) == {
        "reply_markup": "expected InlineKeyboardMarkup or ReplyKeyboardMarkup or "
        "ReplyKeyboardRemove or ForceReply, got an array"
    }


def test_array_of_array_shape_is_checked() -> None:
    params = {"chat_id": "1", "text": "x", "reply_markup": '{"inline_keyboard": [{"text": "a"}]}'}
    assert problems("sendMessage", params) == {
        "reply_markup.inline_keyboard[0]": "expected Array of InlineKeyboardButton, got an object"
    }


# -- abstract types ----------------------------------------------------------------------------


def test_set_my_commands_with_scope_and_language_code() -> None:
    params = {
        "commands": '[{"command": "start", "description": "Empezar"}]',
        "scope": '{"type": "chat_administrators", "chat_id": -1001234}',
        "language_code": "es",
    }
    assert SPEC.check("setMyCommands", params) == []
    assert SPEC.check("setMyCommands", {**params, "scope": '{"type": "default"}'}) == []


def test_scope_is_picked_by_its_type_discriminator() -> None:
    base = {"commands": '[{"command": "a", "description": "b"}]'}
    # "chat" needs chat_id; "default" has no chat_id
    assert problems("setMyCommands", {**base, "scope": '{"type": "chat"}'}) == {
        "scope.chat_id": "missing required field"
    }
    assert problems("setMyCommands", {**base, "scope": '{"type": "default", "chat_id": 1}'}) == {
        "scope.chat_id": "unknown field"
    }
    unknown = problems("setMyCommands", {**base, "scope": '{"type": "everyone"}'})
    assert list(unknown) == ["scope.type"]
    assert "everyone" in unknown["scope.type"]
    assert problems("setMyCommands", {**base, "scope": '{"chat_id": 1}'}) == {
        "scope.type": "missing required field"
    }


def test_bot_command_missing_description() -> None:
    assert problems("setMyCommands", {"commands": '[{"command": "start"}]'}) == {
        "commands[0].description": "missing required field"
    }


def test_send_poll_options_are_input_poll_options() -> None:
    base = {"chat_id": "1", "question": "¿Cuándo?"}
    options = json.dumps([{"text": "Lunes"}, {"text": "Martes", "text_parse_mode": "HTML"}])
    assert SPEC.check("sendPoll", {**base, "options": options}) == []
    # plain strings were the pre-7.3 shape: no longer valid
    assert problems("sendPoll", {**base, "options": '["Lunes", "Martes"]'}) == {
        "options[0]": "expected InputPollOption, got 'Lunes'",
        "options[1]": "expected InputPollOption, got 'Martes'",
    }
    assert problems("sendPoll", {**base, "options": '[{"text": "a"}, {"label": "b"}]'}) == {
        "options[1].label": "unknown field",
        "options[1].text": "missing required field",
    }


def test_abstract_type_without_discriminator_accepts_the_first_matching_subtype() -> None:
    # InputMessageContent has no "type": a text content and a location content both fit
    article = {"type": "article", "id": "1", "title": "t"}
    text = [{**article, "input_message_content": {"message_text": "hola"}}]
    place = [{**article, "input_message_content": {"latitude": 19.4, "longitude": -99.1}}]
    bad = [{**article, "input_message_content": {"message_text": "hola", "zzz": 1}}]
    assert SPEC.check("answerInlineQuery", {"inline_query_id": "1", "results": text}) == []
    assert SPEC.check("answerInlineQuery", {"inline_query_id": "1", "results": place}) == []
    assert problems("answerInlineQuery", {"inline_query_id": "1", "results": bad}) == {
        "results[0].input_message_content.zzz": "unknown field"
    }


def test_media_group_union_uses_each_items_type() -> None:
    photo = [{"type": "photo", "media": "file-id", "has_spoiler": True}]
    audio_with_photo_field = [{"type": "audio", "media": "file-id", "has_spoiler": True}]
    assert SPEC.check("sendMediaGroup", {"chat_id": 1, "media": photo}) == []
    assert problems("sendMediaGroup", {"chat_id": 1, "media": audio_with_photo_field}) == {
        "media[0].has_spoiler": "unknown field"
    }


# -- uploads -----------------------------------------------------------------------------------


def test_input_file_or_string() -> None:
    upload = InputFileValue(b"%PDF", "informe.pdf", "application/pdf")
    assert SPEC.check("sendDocument", {"chat_id": "1", "document": upload}) == []
    assert SPEC.check("sendDocument", {"chat_id": "1", "document": "BQACAgIAAxkBAAIB"}) == []
    assert problems("sendMessage", {"chat_id": "1", "text": upload}) == {
        "text": "expected String, got an uploaded file"
    }


def test_attached_uploads_are_not_unknown_fields() -> None:
    media = '[{"type": "document", "media": "attach://f0"}]'
    params = {
        "chat_id": "1",
        "media": media,
        "f0": InputFileValue(b"a"),
        "f1": InputFileValue(b"b"),
    }
    assert problems("sendMediaGroup", params) == {"f1": "unknown field"}


# -- speed -------------------------------------------------------------------------------------


def test_check_is_fast_enough_for_thousands_of_requests_a_second() -> None:
    [(method, params)] = ptb_requests(
        lambda bot: bot.send_message(1, "hola", parse_mode="HTML", reply_markup=KEYBOARD)
    )
    start = time.perf_counter()
    for _ in range(2000):
        SPEC.check(method, params)
    assert time.perf_counter() - start < 1.0
