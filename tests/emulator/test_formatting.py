"""Telegram's HTML / MarkdownV2 / Markdown parsing (bot/emulator/formatting.py).

The emulator refuses exactly what Telegram refuses (so a bot's malformed HTML fails in tests, not in
production) and stores Telegram's plain text and entities, with offsets in UTF-16 code units.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from bot.emulator.formatting import (
    EntityParseError,
    UnsupportedParseModeError,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    plain_text,
    utf16_len,
)


def error_of(parse: Callable[[str], object], text: str) -> str:
    """The error text a parser raises for ``text``."""
    with pytest.raises(EntityParseError) as caught:
        parse(text)
    return str(caught.value)


# -- UTF-16 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("abc", 3),
        ("señal", 5),
        ("😀", 2),
        ("👍🏽", 4),
        ("🇲🇽", 4),
        ("中文", 2),
        ("a😀b", 4),
    ],
)
def test_utf16_len(text: str, length: int) -> None:
    assert utf16_len(text) == length


# -- HTML: entities ----------------------------------------------------------------------------


def test_html_plain_text_passes_unchanged() -> None:
    assert parse_html("Hola, mundo") == ("Hola, mundo", [])
    assert parse_html("") == ("", [])


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_html_simple_tags(tag: str, kind: str) -> None:
    assert parse_html(f"a <{tag}>xy</{tag}> b") == (
        "a xy b",
        [{"type": kind, "offset": 2, "length": 2}],
    )


def test_html_tag_names_are_case_insensitive() -> None:
    assert parse_html("<B>x</B>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])


def test_html_span_spoiler() -> None:
    assert parse_html('<span class="tg-spoiler">x</span>') == (
        "x",
        [{"type": "spoiler", "offset": 0, "length": 1}],
    )


def test_html_nesting() -> None:
    text, entities = parse_html("<b>neg <i>cur <u>sub</u></i></b> fin")
    assert text == "neg cur sub fin"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 11},
        {"type": "italic", "offset": 4, "length": 7},
        {"type": "underline", "offset": 8, "length": 3},
    ]


def test_html_same_span_entities_are_outer_first() -> None:
    assert parse_html("<b><i>x</i></b>")[1] == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 0, "length": 1},
    ]


def test_html_character_references() -> None:
    text, entities = parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;&#x1F600; &lt")
    assert text == '<b> & "q" AB😀 <'
    assert entities == []


def test_html_unknown_reference_and_bare_ampersand_are_kept() -> None:
    assert parse_html("a & b &nbsp; &copy; &#; &") == ("a & b &nbsp; &copy; &#; &", [])


def test_html_escape_round_trip() -> None:
    # what the bot's handlers do: html.escape() user text, Telegram gives it back unchanged
    tricky = "<script>&amp; \"quotes\" 'apostrophe' ≥ 😀 a<b c>d"
    assert parse_html(html.escape(tricky)) == (tricky, [])


def test_html_offsets_count_utf16_code_units() -> None:
    text, entities = parse_html("😀 <b>👍🏽 sí</b> <i>x</i>")
    assert text == "😀 👍🏽 sí x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 7},
        {"type": "italic", "offset": 11, "length": 1},
    ]
    bold = entities[0]
    as_utf16 = text.encode("utf-16-le")
    start, end = bold["offset"] * 2, (bold["offset"] + bold["length"]) * 2
    assert as_utf16[start:end].decode("utf-16-le") == "👍🏽 sí"


def test_html_links() -> None:
    text, entities = parse_html(
        '<a href="https://example.org">web</a> <a href="http://x.org/a?b=1">q</a> '
        '<a href="example.com">bare</a>'
    )
    assert text == "web q bare"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "https://example.org/"},
        {"type": "text_link", "offset": 4, "length": 1, "url": "http://x.org/a?b=1"},
        {"type": "text_link", "offset": 6, "length": 4, "url": "http://example.com/"},
    ]


def test_html_link_without_href_uses_its_text() -> None:
    assert parse_html("<a>https://example.org/x</a>")[1] == [
        {"type": "text_link", "offset": 0, "length": 21, "url": "https://example.org/x"}
    ]


def test_html_tg_user_link_is_a_text_mention() -> None:
    assert parse_html('<a href="tg://user?id=8589934599">Big</a>') == (
        "Big",
        [{"type": "text_mention", "offset": 0, "length": 3, "user": {"id": 8589934599}}],
    )


def test_html_link_attribute_with_entities_and_single_quotes() -> None:
    assert parse_html("<a href='https://e.org/?a=1&amp;b=2'>x</a>")[1] == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://e.org/?a=1&b=2"}
    ]


def test_html_invalid_link_is_dropped_not_refused() -> None:
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ("x", [])


def test_html_pre_with_language() -> None:
    assert parse_html('<pre><code class="language-python">print(1)</code></pre>') == (
        "print(1)",
        [{"type": "pre", "offset": 0, "length": 8, "language": "python"}],
    )


def test_html_pre_with_plain_code_is_one_pre() -> None:
    assert parse_html("<pre><code>x = 1</code></pre>")[1] == [
        {"type": "pre", "offset": 0, "length": 5}
    ]


def test_html_code_language_outside_pre_is_dropped() -> None:
    assert parse_html('<code class="language-py">x</code>')[1] == [
        {"type": "code", "offset": 0, "length": 1}
    ]


def test_html_nothing_survives_inside_code() -> None:
    assert parse_html("<code>a<b>b</b></code>")[1] == [{"type": "code", "offset": 0, "length": 2}]
    assert parse_html("<b><code>a</code></b>")[1] == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "code", "offset": 0, "length": 1},
    ]


def test_html_blockquotes() -> None:
    assert parse_html("<blockquote>a</blockquote><blockquote expandable>b</blockquote>")[1] == [
        {"type": "blockquote", "offset": 0, "length": 1},
        {"type": "expandable_blockquote", "offset": 1, "length": 1},
    ]


def test_html_custom_emoji() -> None:
    assert parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>') == (
        "👍",
        [
            {
                "type": "custom_emoji",
                "offset": 0,
                "length": 2,
                "custom_emoji_id": "5368324170671202286",
            }
        ],
    )
    assert error_of(parse_html, '<tg-emoji emoji-id="abc">👍</tg-emoji>') == (
        "can't parse entities: Invalid custom emoji identifier specified"
    )


def test_html_empty_tags_make_no_entity() -> None:
    assert parse_html("a<b></b>b<i><u></u></i>") == ("ab", [])


def test_html_other_attributes_are_ignored() -> None:
    assert parse_html('<b class="x" data-y=z>t</b>')[1] == [
        {"type": "bold", "offset": 0, "length": 1}
    ]


# -- HTML: errors ------------------------------------------------------------------------------


def test_html_unsupported_tag() -> None:
    assert error_of(parse_html, "<div>x</div>") == (
        'can\'t parse entities: Unsupported start tag "div" at byte offset 0'
    )
    # byte offsets count UTF-8 bytes: "ñ" is two
    assert error_of(parse_html, "ñ<br>") == (
        'can\'t parse entities: Unsupported start tag "br" at byte offset 2'
    )


def test_html_bare_less_than_is_refused() -> None:
    assert error_of(parse_html, "1 < 2") == (
        'can\'t parse entities: Unsupported start tag "" at byte offset 2'
    )
    assert 'Unsupported start tag "3"' in error_of(parse_html, "te <3 mucho")


def test_html_unclosed_start_tag() -> None:
    assert (
        error_of(parse_html, "x <b") == "can't parse entities: Unclosed start tag at byte offset 2"
    )
    assert error_of(parse_html, '<a href="x"') == (
        "can't parse entities: Unclosed start tag at byte offset 0"
    )


def test_html_missing_end_tag() -> None:
    assert error_of(parse_html, "<b>x") == (
        "can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert error_of(parse_html, "<b><i>x</i>") == (
        "can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )


def test_html_unmatched_end_tag() -> None:
    assert error_of(parse_html, "<i><b>x</i></b>") == (
        'can\'t parse entities: Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'
    )


def test_html_end_tag_without_start() -> None:
    assert (
        error_of(parse_html, "x</b>") == "can't parse entities: Unexpected end tag at byte offset 1"
    )
    assert error_of(parse_html, "<b>x</b") == (
        "can't parse entities: Unclosed end tag at byte offset 4"
    )


def test_html_span_needs_spoiler_class() -> None:
    assert error_of(parse_html, "<span>x</span>") == (
        'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0'
    )


def test_html_unquoted_attribute_must_be_a_name_token() -> None:
    assert error_of(parse_html, "<a href=https://e.org>x</a>") == (
        "can't parse entities: Unexpected end of name token at byte offset 8"
    )


def test_html_attribute_needs_equal_sign() -> None:
    assert error_of(parse_html, "<a href>x</a>") == (
        "can't parse entities: Expected equal sign in declaration of an attribute of the tag "
        '"a" at byte offset 0'
    )


# -- MarkdownV2 --------------------------------------------------------------------------------


def escape_v2(text: str) -> str:
    """Escape every reserved MarkdownV2 character, as a careful bot does."""
    return re.sub(r"([_*\[\]()~`>#+\-=|{}.!\\])", r"\\\1", text)


def test_markdown_v2_reserved_character_error() -> None:
    assert error_of(parse_markdown_v2, "Listo.") == (
        "can't parse entities: Character '.' is reserved and must be escaped with the "
        "preceding '\\'"
    )


@pytest.mark.parametrize("char", list("]()>#+-={}.!|"))
def test_markdown_v2_every_reserved_character_must_be_escaped(char: str) -> None:
    message = error_of(parse_markdown_v2, f"a {char} b")
    assert message.startswith(f"can't parse entities: Character '{char}' is reserved")


def test_markdown_v2_unescaped_bracket_opens_a_link() -> None:
    assert error_of(parse_markdown_v2, "a [ b") == (
        "can't parse entities: Can't find end of TextUrl entity at byte offset 2"
    )


def test_markdown_v2_escaped_text_round_trips() -> None:
    tricky = "1+1=2. (¡sí!) [x] {y} #z a-b a|b ~ ` > _ * \\ 😀"
    assert parse_markdown_v2(escape_v2(tricky)) == (tricky, [])


def test_markdown_v2_entities() -> None:
    text, entities = parse_markdown_v2("*b* _i_ __u__ ~s~ ||sp|| `c`")
    assert text == "b i u s sp c"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 1),
        ("italic", 2, 1),
        ("underline", 4, 1),
        ("strikethrough", 6, 1),
        ("spoiler", 8, 2),
        ("code", 11, 1),
    ]


def test_markdown_v2_nesting_and_utf16() -> None:
    text, entities = parse_markdown_v2("😀 *negrita _y cursiva_*")
    assert text == "😀 negrita y cursiva"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 17},
        {"type": "italic", "offset": 11, "length": 9},
    ]


def test_markdown_v2_code_needs_no_escapes_but_backtick() -> None:
    assert parse_markdown_v2("`a.b*c(d)`") == (
        "a.b*c(d)",
        [{"type": "code", "offset": 0, "length": 8}],
    )


def test_markdown_v2_pre_with_language() -> None:
    assert parse_markdown_v2("```python\nprint(1)\n```") == (
        "print(1)\n",
        [{"type": "pre", "offset": 0, "length": 9, "language": "python"}],
    )
    assert parse_markdown_v2("```\nx.y\n```")[1] == [{"type": "pre", "offset": 0, "length": 4}]


def test_markdown_v2_links_and_mentions() -> None:
    text, entities = parse_markdown_v2("[web](https://e.org/a\\)b) [Ana](tg://user?id=42)")
    assert text == "web Ana"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "https://e.org/a)b"},
        {"type": "text_mention", "offset": 4, "length": 3, "user": {"id": 42}},
    ]


def test_markdown_v2_custom_emoji() -> None:
    assert parse_markdown_v2("![👍](tg://emoji?id=5368324170671202286)")[1] == [
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
    ]


def test_markdown_v2_blockquotes() -> None:
    assert parse_markdown_v2(">cita\n>sigue\nfin") == (
        "cita\nsigue\nfin",
        [{"type": "blockquote", "offset": 0, "length": 10}],
    )
    assert parse_markdown_v2("**>larga\n>oculta||\nfin") == (
        "larga\noculta\nfin",
        [{"type": "expandable_blockquote", "offset": 0, "length": 12}],
    )


def test_markdown_v2_unclosed_entity() -> None:
    assert error_of(parse_markdown_v2, "*negrita") == (
        "can't parse entities: Can't find end of Bold entity at byte offset 0"
    )
    assert error_of(parse_markdown_v2, "un_nombre") == (
        "can't parse entities: Can't find end of Italic entity at byte offset 2"
    )


# -- legacy Markdown ---------------------------------------------------------------------------


def test_markdown_legacy_entities() -> None:
    text, entities = parse_markdown("*b* _i_ `c` [l](http://x.org) 1.5! (ok)")
    assert text == "b i c l 1.5! (ok)"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "code", "offset": 4, "length": 1},
        {"type": "text_link", "offset": 6, "length": 1, "url": "http://x.org/"},
    ]


def test_markdown_legacy_pre_and_escapes() -> None:
    assert parse_markdown("```py\nx\n```") == (
        "x\n",
        [{"type": "pre", "offset": 0, "length": 2, "language": "py"}],
    )
    assert parse_markdown("snake\\_case") == ("snake_case", [])


def test_markdown_legacy_unclosed_entity() -> None:
    assert error_of(parse_markdown, "a *b") == (
        "can't parse entities: Can't find end of the entity starting at byte offset 2"
    )


# -- dispatch ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, ""])
def test_plain_text_without_parse_mode(mode: str | None) -> None:
    assert plain_text("<b>x</b> *y*", mode) == ("<b>x</b> *y*", [])


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("HTML", "<b>x</b>"),
        ("html", "<b>x</b>"),
        ("MarkdownV2", "*x*"),
        ("markdownv2", "*x*"),
        ("Markdown", "*x*"),
        ("MARKDOWN", "*x*"),
    ],
)
def test_plain_text_dispatches_case_insensitively(mode: str, text: str) -> None:
    assert plain_text(text, mode) == ("x", [{"type": "bold", "offset": 0, "length": 1}])


def test_plain_text_unknown_parse_mode() -> None:
    with pytest.raises(UnsupportedParseModeError) as caught:
        plain_text("x", "Markdown2")
    assert str(caught.value) == "unsupported parse_mode"
    assert isinstance(caught.value, EntityParseError)
