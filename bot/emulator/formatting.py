"""Telegram's message-text parsers: HTML, MarkdownV2 and legacy Markdown.

The emulator must refuse what Telegram refuses (a bot whose HTML is malformed gets ``400 Bad
Request: can't parse entities: ...`` in production, and tests should see the same) and must store
what Telegram stores (the plain text and its entities, with offsets in UTF-16 code units, which is
what a user's client and Telegram's length limits see).

The parsers follow tdlib's own (``td/telegram/MessageEntity.cpp``) step by step: they walk the UTF-8
bytes of the text, so the byte offsets in error messages are the ones Telegram reports. Only the
entities the markup produces are returned; Telegram's later steps (trimming surrounding whitespace,
detecting URLs, mentions, hashtags and bot commands in plain text) are left to the caller.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "EntityParseError",
    "UnsupportedParseModeError",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "plain_text",
    "utf16_len",
]

Entity = dict[str, Any]

_PREFIX = "can't parse entities: "
_HTML_SPECIAL = re.compile(rb"[<&]")
_MDV2_RESERVED = b"_*[]()~`>#+-=|{}.!"
_MDV2_SPECIAL = re.compile(rb"[\\_*\[\]()~`>#+\-=|{}.!\n]")
_MDV2_CODE_SPECIAL = re.compile(rb"[\\`]")
_MD_SPECIAL = re.compile(rb"[\\_*`\[]")
_SPACES = frozenset(b" \t\r\n\v\0")
_NAME_TOKEN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# tdlib's names for entity types, as they appear in MarkdownV2 errors ("Can't find end of Bold
# entity at byte offset 0").
_TD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_LINK_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_HOST_CHARS = re.compile(r"[^\s/?#@:]+")
_MAX_USER_ID = (1 << 40) - 1
_MAX_CODE_POINT = 0x10FFFF


class EntityParseError(ValueError):
    """Markup Telegram refuses; ``str(error)`` is its text after ``Bad Request: ``."""


class UnsupportedParseModeError(EntityParseError):
    """A ``parse_mode`` Telegram does not know (``Bad Request: unsupported parse_mode``)."""


def _error(message: str) -> EntityParseError:
    return EntityParseError(_PREFIX + message)


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units: what Telegram's limits and entity offsets count.

    An emoji outside the Basic Multilingual Plane (most of them) counts 2.
    """
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_of_utf8(chunk: bytes) -> int:
    """UTF-16 length of a UTF-8 byte run that starts and ends on character boundaries."""
    return utf16_len(chunk.decode("utf-8", "surrogatepass"))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "surrogatepass")


def _append_code_point(out: bytearray, code: int) -> int:
    """Append one character as UTF-8; return its UTF-16 length."""
    out += chr(code).encode("utf-8", "surrogatepass")
    return 2 if code > 0xFFFF else 1


# -- links ---------------------------------------------------------------------------------------


def _link_user_id(url: str) -> int | None:
    """The user id of a ``tg://user?id=N`` link (a text mention), as tdlib reads it."""
    lower = url.lower()
    if not lower.startswith("tg:"):
        return None
    rest = lower[3:]
    rest = rest.removeprefix("//")
    if not rest.startswith("user"):
        return None
    rest = rest[4:].removeprefix("/")
    if not rest.startswith("?"):
        return None
    query = rest[1:].split("#", 1)[0]
    for parameter in query.split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            if not re.fullmatch(r"[0-9]{1,19}", value):
                return None
            user_id = int(value)
            return user_id if 0 < user_id <= _MAX_USER_ID else None
    return None


def _checked_link(url: str) -> str | None:
    """The URL Telegram stores for a text link, or None when it drops the link.

    http(s) links are normalised (scheme lower-cased, ``/`` after a bare host); a link without a
    scheme is taken as http; ``tg:``, ``ton:`` and ``tonsite:`` links pass; anything else
    (``javascript:``, ``mailto:``, an empty host) makes Telegram drop the entity, not fail.
    """
    url = url.strip()
    if not url:
        return None
    match = _LINK_SCHEME.fullmatch(url)
    scheme = match.group(1).lower() if match else ""
    if match and scheme in ("tg", "ton", "tonsite"):
        rest = match.group(2)
        return f"{scheme}:{rest}" if rest.strip("/") else None
    if match and scheme in ("http", "https"):
        rest = match.group(2)
        if not rest.startswith("//"):
            return None
        rest = rest[2:]
    elif match and "://" in url:
        return None
    elif match and not match.group(2)[:1].isdigit():
        # "mailto:x@y" and the like; "example.com:8080/path" (a port) falls through to http.
        return None
    else:
        scheme, rest = "http", url
    authority, sep, tail = _split_authority(rest)
    host = authority.rsplit("@", 1)[-1]
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not hostname or not _HOST_CHARS.fullmatch(hostname):
        return None
    return f"{scheme}://{authority}{sep}{tail}" if sep else f"{scheme}://{authority}/"


def _split_authority(rest: str) -> tuple[str, str, str]:
    """Split ``host[:port]/path?query`` into the authority, the separator and what follows."""
    for i, ch in enumerate(rest):
        if ch in "/?#":
            if ch == "/":
                return rest[:i], "/", rest[i + 1 :]
            return rest[:i], "/", rest[i:]
    return rest, "", ""


def _link_entity(offset: int, length: int, url: str) -> Entity | None:
    """A text_mention for ``tg://user?id=``, a text_link for a valid URL, else nothing."""
    user_id = _link_user_id(url)
    if user_id is not None:
        return {"type": "text_mention", "offset": offset, "length": length, "user": {"id": user_id}}
    checked = _checked_link(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def _custom_emoji_id(argument: str) -> str:
    """Validate a custom emoji id the way tdlib does (a positive 64-bit integer)."""
    if not re.fullmatch(r"-?[0-9]{1,19}", argument) or not 0 < int(argument) < (1 << 63):
        raise _error("Invalid custom emoji identifier specified")
    return str(int(argument))


def _unix_time(argument: str) -> int:
    """Validate the ``unix`` time of a date_time entity."""
    if not re.fullmatch(r"[0-9]{1,12}", argument):
        raise _error("Invalid Unix time specified")
    return int(argument)


# -- finishing -----------------------------------------------------------------------------------


def _finish(entities: list[tuple[int, Entity]]) -> list[Entity]:
    """Sort entities the way Telegram returns them and drop what cannot live inside code.

    Entities are ordered by offset, then longest first, then in the order their markup opened.
    Telegram keeps nothing inside ``code`` or ``pre`` (a ``<code>`` exactly wrapping a ``<pre>``'s
    text merges into the pre), so such nested entities are removed.
    """
    entities.sort(key=lambda pair: (pair[1]["offset"], -pair[1]["length"], pair[0]))
    out: list[Entity] = []
    code_end = -1
    for _, entity in entities:
        start = entity["offset"]
        end = start + entity["length"]
        if start < code_end and end <= code_end:
            continue
        if entity["type"] == "code":
            # a code entity keeps no language (tdlib clears it): only a pre carries one
            entity.pop("language", None)
        if entity["type"] in ("code", "pre"):
            code_end = max(code_end, end)
        out.append(entity)
    return out


# -- HTML ----------------------------------------------------------------------------------------


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&lt;``/``&#123;``/``&#x1F600;`` at ``pos``: (code point, end) or (0, pos).

    Unknown names (``&nbsp;``) and a bare ``&`` are not errors: Telegram keeps them literally.
    """
    n = len(data)
    end = pos + 1
    code = 0
    if end < n and data[end] == 0x23:  # '#'
        end += 1
        if end < n and data[end] in b"xX":
            end += 1
            start = end
            while end < n and chr(data[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
                if code > _MAX_CODE_POINT:
                    return 0, pos
        else:
            start = end
            while end < n and 0x30 <= data[end] <= 0x39:
                code = code * 10 + data[end] - 0x30
                end += 1
                if code > _MAX_CODE_POINT:
                    return 0, pos
        if end == start or code == 0 or 0xD800 <= code <= 0xDFFF:
            return 0, pos
    else:
        start = end
        while end < n and (0x41 <= data[end] <= 0x5A or 0x61 <= data[end] <= 0x7A):
            end += 1
        name = data[start:end]
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if code == 0:
            return 0, pos
    if end < n and data[end] == 0x3B:  # ';'
        end += 1
    return code, end


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML subset into plain text and entities (UTF-16 offsets).

    Raises :class:`EntityParseError` with Telegram's wording (``can't parse entities: Unsupported
    start tag "div" at byte offset 0``) for markup Telegram refuses.
    """
    data = _encode(text)
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    result = bytearray()
    utf16 = 0
    found: list[tuple[int, Entity]] = []
    # open tags: [tag, argument, utf16 offset, result byte offset, opening order, extra]
    stack: list[list[Any]] = []
    opened = 0
    i = 0
    while i < n:
        match = _HTML_SPECIAL.search(data, i)
        j = match.start() if match else n
        if j > i:
            chunk = data[i:j]
            result += chunk
            utf16 += _utf16_of_utf8(chunk)
            i = j
            if i >= n:
                break
        if data[i] == 0x26:  # '&'
            code, end = _decode_html_entity(data, i)
            if code:
                utf16 += _append_code_point(result, code)
                i = end
            else:
                result.append(0x26)
                utf16 += 1
                i += 1
            continue

        begin = i
        i += 1
        if at(i) != 0x2F:  # not '/': a start tag
            while at(i) not in _SPACES and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise _error(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise _error(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            extra: dict[str, str] = {}
            while at(i) != 0x3E:
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == 0x3E:
                    break
                if at(i) == 0:
                    raise _error(f"Unclosed start tag at byte offset {begin}")
                name_begin = i
                while at(i) not in _SPACES and at(i) not in (0x3D, 0x3E):
                    i += 1
                attribute = data[name_begin:i].decode("utf-8", "replace").lower()
                if not attribute:
                    raise _error(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) != 0x3D:  # '='
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                        if at(i) == 0:
                            raise _error(f"Unclosed start tag at byte offset {begin}")
                        continue
                    raise _error(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == 0:
                    raise _error(f"Unclosed start tag at byte offset {begin}")
                value = bytearray()
                quote = at(i)
                if quote not in (0x22, 0x27):
                    # a name token: letters, digits, periods and hyphens, case-insensitive
                    token_begin = i
                    while at(i) in _NAME_TOKEN:
                        i += 1
                    value += data[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != 0x3E:
                        raise _error(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    i += 1
                    while i < n and data[i] != quote:
                        if data[i] == 0x26:
                            code, end = _decode_html_entity(data, i)
                            if code:
                                _append_code_point(value, code)
                                i = end
                                continue
                        value.append(data[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise _error(f"Unclosed start tag at byte offset {begin}")
                text_value = _decode(value)
                if tag == "a" and attribute == "href":
                    argument = text_value
                elif tag == "code" and attribute == "class" and text_value.startswith("language-"):
                    argument = text_value[9:]
                elif tag == "span" and attribute == "class" and text_value.startswith("tg-"):
                    argument = text_value[3:]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = text_value
                elif tag == "tg-time" and attribute in ("unix", "format"):
                    extra[attribute] = text_value
            if tag == "span" and argument != "spoiler":
                raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append([tag, argument, utf16, len(result), opened, extra])
            opened += 1
            i += 1  # past '>'
            continue

        # an end tag
        if not stack:
            raise _error(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACES and at(i) != 0x3E:
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace")
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != 0x3E:
            raise _error(f"Unclosed end tag at byte offset {begin}")
        i += 1
        tag, argument, offset, byte_begin, order, extra = stack.pop()
        if end_tag and end_tag.lower() != tag:
            raise _error(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        length = utf16 - offset
        if length <= 0:
            continue
        entity = _html_entity(tag, argument, extra, offset, length, result[byte_begin:], found)
        if entity is not None:
            found.append((order, entity))

    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _decode(result), _finish(found)


def _html_entity(
    tag: str,
    argument: str,
    extra: dict[str, str],
    offset: int,
    length: int,
    inner: bytearray,
    found: list[tuple[int, Entity]],
) -> Entity | None:
    """The entity a closed HTML tag makes (None when Telegram drops it or merged it)."""
    simple = _SIMPLE_HTML.get(tag)
    if simple is not None:
        return {"type": simple, "offset": offset, "length": length}
    if tag == "a":
        return _link_entity(offset, length, argument or _decode(inner))
    if tag == "tg-emoji":
        return {
            "type": "custom_emoji",
            "offset": offset,
            "length": length,
            "custom_emoji_id": _custom_emoji_id(argument),
        }
    if tag == "tg-time":
        entity: Entity = {
            "type": "date_time",
            "offset": offset,
            "length": length,
            "unix_time": _unix_time(extra.get("unix", "")),
        }
        if extra.get("format"):
            entity["date_time_format"] = extra["format"]
        return entity
    if tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    last = found[-1][1] if found else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag == "pre":
        # <pre><code class="language-x">...</code></pre>: the code closed first; it becomes the pre.
        if same_span and last is not None and last["type"] == "code":
            last["type"] = "pre"
            return None
        return {"type": "pre", "offset": offset, "length": length}
    # tag == "code"
    if same_span and last is not None and last["type"] == "pre":
        if argument:
            last["language"] = argument
        return None
    entity = {"type": "code", "offset": offset, "length": length}
    if argument:
        # kept only if an enclosing <pre> turns this into a pre with a language
        entity["language"] = argument
    return entity


# -- MarkdownV2 ----------------------------------------------------------------------------------


def _reserved(char: int) -> EntityParseError:
    return _error(
        f"Character '{chr(char)}' is reserved and must be escaped with the preceding '\\'"
    )


def _read_url(data: bytes, i: int) -> tuple[str, int]:
    """Read a ``(url)`` body from ``i`` (just past ``(``) with ``\\`` escapes; return url, end."""
    n = len(data)
    url = bytearray()
    while i < n and data[i] != 0x29:  # ')'
        if data[i] == 0x5C and i + 1 < n and 0 < data[i + 1] <= 126:
            url.append(data[i + 1])
            i += 2
            continue
        url.append(data[i])
        i += 1
    return _decode(url), i


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities (UTF-16 offsets).

    Outside entities every one of ``_*[]()~`>#+-=|{}.!`` must be escaped with ``\\``; inside
    ``code`` and ``pre`` only `````` and ``\\``. Lines starting with ``>`` form a blockquote
    (``**>`` ... ``||`` an expandable one).
    """
    data = _encode(text)
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    result = bytearray()
    utf16 = 0
    found: list[tuple[int, Entity]] = []
    # open entities: [type, argument, utf16 offset, source byte offset, result byte offset, order]
    stack: list[list[Any]] = []
    opened = 0
    quote: list[Any] | None = None  # [utf16 offset, expandable, order] of the open blockquote
    i = 0

    def close_quote(end_utf16: int) -> None:
        nonlocal quote
        assert quote is not None
        start, expandable, order = quote
        if end_utf16 > start:
            kind = "expandable_blockquote" if expandable else "blockquote"
            found.append((order, {"type": kind, "offset": start, "length": end_utf16 - start}))
        quote = None

    while i < n:
        in_code = bool(stack) and stack[-1][0] in ("code", "pre", "pre_code")
        if not in_code and (i == 0 or data[i - 1] == 0x0A):
            # the start of a line: blockquote markers
            if data.startswith(b"**>", i) and quote is None:
                quote = [utf16, True, opened]
                opened += 1
                i += 3
                continue
            if data[i] == 0x3E:  # '>'
                if quote is None:
                    quote = [utf16, False, opened]
                    opened += 1
                i += 1
                continue
            if quote is not None:
                close_quote(utf16 - 1)
        if (
            quote is not None
            and not in_code
            and data.startswith(b"||", i)
            and at(i + 2) in (0, 0x0A)
            and not (stack and stack[-1][0] == "spoiler")
        ):
            quote[1] = True
            i += 2
            continue

        pattern = _MDV2_CODE_SPECIAL if in_code else _MDV2_SPECIAL
        match = pattern.search(data, i)
        j = match.start() if match else n
        if j > i:
            chunk = data[i:j]
            result += chunk
            utf16 += _utf16_of_utf8(chunk)
            i = j
            continue  # the special character may end a blockquote: re-run the checks above
        c = data[i]
        if c == 0x0A:
            result.append(c)
            utf16 += 1
            i += 1
            continue
        if c == 0x5C:  # backslash
            if 0 < at(i + 1) <= 126:
                result.append(data[i + 1])
                utf16 += 1
                i += 2
            else:
                result.append(c)
                utf16 += 1
                i += 1
            continue
        if c not in _MDV2_RESERVED or (in_code and c != 0x60):
            result.append(c)
            utf16 += 1
            i += 1
            continue

        top = stack[-1][0] if stack else None
        is_end = (
            (top == "bold" and c == 0x2A)
            or (top == "italic" and c == 0x5F and at(i + 1) != 0x5F)
            or (top == "code" and c == 0x60)
            or (top in ("pre", "pre_code") and data.startswith(b"```", i))
            or (top in ("text_link", "custom_emoji") and c == 0x5D)
            or (top == "underline" and data.startswith(b"__", i))
            or (top == "strikethrough" and c == 0x7E)
            or (top == "spoiler" and data.startswith(b"||", i))
        )
        if not is_end:
            kind, argument, source_begin = "", "", i
            if c == 0x5F:  # '_'
                if at(i + 1) == 0x5F:
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == 0x2A:
                kind = "bold"
            elif c == 0x7E:
                kind = "strikethrough"
            elif c == 0x7C:  # '|'
                if at(i + 1) != 0x7C:
                    raise _reserved(c)
                kind = "spoiler"
                i += 1
            elif c == 0x5B:  # '['
                kind = "text_link"
            elif c == 0x60:  # '`'
                if data.startswith(b"```", i):
                    i += 3
                    kind = "pre"
                    language_end = i
                    while at(language_end) not in _SPACES and at(language_end) != 0x60:
                        language_end += 1
                    if i != language_end and language_end < n and data[language_end] != 0x60:
                        kind = "pre_code"
                        argument = _decode(data[i:language_end])
                        i = language_end
                    # one newline right after the opening fence is not part of the text
                    if at(i) in (0x0A, 0x0D):
                        if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif c == 0x21 and at(i + 1) == 0x5B:  # '!['
                kind = "custom_emoji"
                i += 1
            else:
                raise _reserved(c)
            stack.append([kind, argument, utf16, source_begin, len(result), opened])
            opened += 1
            i += 1
            continue

        kind, argument, offset, source_begin, byte_begin, order = stack.pop()
        skip = utf16 == offset
        entity: Entity | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            if at(i + 1) != 0x28:  # '('
                url = _decode(result[byte_begin:])
            else:
                url_begin = i + 2
                url, i = _read_url(data, url_begin)
                if at(i) != 0x29:
                    raise _error(f"Can't find end of a URL at byte offset {url_begin}")
            if not skip:
                entity = _link_entity(offset, utf16 - offset, url)
            skip = True
        elif kind == "custom_emoji":
            if at(i + 1) != 0x28:
                raise _error("Custom emoji entity must contain a tg://emoji URL")
            url_begin = i + 2
            url, i = _read_url(data, url_begin)
            if at(i) != 0x29:
                raise _error(f"Can't find end of a custom emoji URL at byte offset {url_begin}")
            made = _emoji_or_time_entity(url, offset, utf16 - offset)
            entity = None if skip else made
            skip = True
        if not skip:
            entity = {"type": kind, "offset": offset, "length": utf16 - offset}
            if kind == "pre_code":
                entity["type"] = "pre"
                entity["language"] = argument
        if entity is not None:
            found.append((order, entity))
        i += 1

    if stack:
        kind, _, _, source_begin, _, _ = stack[-1]
        raise _error(f"Can't find end of {_TD_NAMES[kind]} entity at byte offset {source_begin}")
    if quote is not None:
        close_quote(utf16)
    return _decode(result), _finish(found)


def _emoji_or_time_entity(url: str, offset: int, length: int) -> Entity:
    """The entity of ``![text](tg://emoji?id=...)`` or ``![text](tg://time?unix=...)``."""
    lower = url.lower()
    query = url.split("?", 1)[1] if "?" in url else ""
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    if lower.startswith(("tg://time?", "tg:time?")):
        entity: Entity = {
            "type": "date_time",
            "offset": offset,
            "length": length,
            "unix_time": _unix_time(params.get("unix", "")),
        }
        if params.get("format"):
            entity["date_time_format"] = params["format"]
        return entity
    if not lower.startswith(("tg://emoji?", "tg:emoji?")):
        raise _error("Custom emoji URL must have scheme tg")
    if "id" not in params:
        raise _error("Custom emoji URL must have an emoji identifier")
    return {
        "type": "custom_emoji",
        "offset": offset,
        "length": length,
        "custom_emoji_id": _custom_emoji_id(params["id"]),
    }


# -- legacy Markdown -----------------------------------------------------------------------------


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, ```code```, ``[text](url)``, fences).

    Entities cannot nest; an entity that never ends is the only error
    (``Can't find end of the entity starting at byte offset N``).
    """
    data = _encode(text)
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    result = bytearray()
    utf16 = 0
    found: list[tuple[int, Entity]] = []
    i = 0
    while i < n:
        match = _MD_SPECIAL.search(data, i)
        j = match.start() if match else n
        if j > i:
            chunk = data[i:j]
            result += chunk
            utf16 += _utf16_of_utf8(chunk)
            i = j
            if i >= n:
                break
        c = data[i]
        if c == 0x5C:  # backslash
            if at(i + 1) in b"_*`[":
                result.append(data[i + 1])
                utf16 += 1
                i += 2
            else:
                result.append(c)
                utf16 += 1
                i += 1
            continue

        begin = i
        end_char = 0x5D if c == 0x5B else c
        is_pre = False
        language = ""
        i += 1
        if c == 0x60 and at(i) == 0x60 and at(i + 1) == 0x60:
            i += 2
            is_pre = True
            language_end = i
            while at(language_end) not in _SPACES and at(language_end) != 0x60:
                language_end += 1
            if i != language_end and language_end < n and data[language_end] != 0x60:
                language = _decode(data[i:language_end])
                i = language_end
            if at(i) in (0x0A, 0x0D):
                if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = utf16
        content_begin = i
        found_at = data.find(b"```" if is_pre else bytes([end_char]), i)
        i = n if found_at < 0 else found_at
        if i >= n:
            raise _error(f"Can't find end of the entity starting at byte offset {begin}")
        content = data[content_begin:i]
        result += content
        utf16 += _utf16_of_utf8(content)
        length = utf16 - offset
        if length > 0:
            entity: Entity | None
            if c == 0x5F:
                entity = {"type": "italic", "offset": offset, "length": length}
            elif c == 0x2A:
                entity = {"type": "bold", "offset": offset, "length": length}
            elif c == 0x5B:
                if at(i + 1) == 0x28:
                    url_begin = i + 2
                    close = data.find(b")", url_begin)
                    close = n if close < 0 else close
                    url = _decode(data[url_begin:close])
                    i = close
                else:
                    url = _decode(content)
                entity = _link_entity(offset, length, url)
            elif is_pre:
                entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
            else:
                entity = {"type": "code", "offset": offset, "length": length}
            if entity is not None:
                found.append((len(found), entity))
        if is_pre:
            i += 2
        i += 1
    return _decode(result), _finish(found)


# -- dispatch ------------------------------------------------------------------------------------


def plain_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """The text and entities Telegram stores for ``text`` sent with ``parse_mode``.

    ``None`` or ``""`` leave the text as it is; the mode names are case-insensitive, as Telegram's.
    """
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise UnsupportedParseModeError("unsupported parse_mode")
