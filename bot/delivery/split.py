"""Split an HTML text over Telegram's 4,096 characters into parts, at paragraph ends.

Telegram counts the text after entity parsing, so tags count nothing and `&amp;` counts one. A
cut is made at the last paragraph end that fits, else the last line end, else the last space,
else anywhere; tags open at the cut are closed at the end of the part and opened again at the
start of the next, so every part is valid HTML on its own.
"""

from __future__ import annotations

import html
import re

LIMIT = 4096
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[\ud800-\udbff][\udc00-\udfff]|.", re.DOTALL)
_BREAKS = {"\n": 2, " ": 1}  # line end, space; a paragraph end (two line ends) is 3
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9-]+)")


def _length(token: str) -> int:
    """UTF-16 code units the token adds to the parsed text (tags add none)."""
    if token.startswith("<"):
        return 0
    text = html.unescape(token) if token.startswith("&") else token
    return len(text.encode("utf-16-le")) // 2


def plain_length(text: str) -> int:
    return sum(_length(t) for t in _TOKEN.findall(text))


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    if len(text) * 2 <= limit or len(text.encode("utf-16-le")) // 2 <= limit:
        return [text]  # the raw text already fits: parsing can only make it shorter
    if plain_length(text) <= limit:
        return [text]
    tokens = _TOKEN.findall(text)
    parts: list[str] = []
    start = 0
    reopen: list[str] = []
    while start < len(tokens):
        stack = list(reopen)
        size = 0
        cut = None  # (priority, index, stack at that point)
        i = start
        while i < len(tokens):
            piece = tokens[i]
            grow = _length(piece)
            if size + grow > limit:
                break
            size += grow
            _track(stack, piece)
            i += 1
            kind = _BREAKS.get(piece, 0)
            if kind == 2 and i < len(tokens) and tokens[i] == "\n":
                cut = _better(cut, (3, i + 1, list(stack)))
            elif kind:
                cut = _better(cut, (kind, i, list(stack)))
        if i >= len(tokens):
            end, open_at_end = len(tokens), stack
        elif cut is not None and cut[1] > start:
            _, end, open_at_end = cut
        else:
            end, open_at_end = max(i, start + 1), stack
        body = "".join(reopen) + "".join(tokens[start:end])
        body += "".join(f"</{_name(tag)}>" for tag in reversed(open_at_end))
        parts.append(body.strip())
        reopen = open_at_end
        start = end
    return [p for p in parts if plain_length(p) > 0]


def _better(current: tuple[int, int, list[str]] | None,
            candidate: tuple[int, int, list[str]]) -> tuple[int, int, list[str]]:
    """Prefer the higher kind of break (paragraph > line > space); the later of equal kinds."""
    if current is None or candidate[0] >= current[0]:
        return candidate
    return current


def _name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else ""


def _track(stack: list[str], token: str) -> None:
    if not token.startswith("<") or token.endswith("/>"):
        return
    if token.startswith("</"):
        name = _name(token)
        for k in range(len(stack) - 1, -1, -1):
            if _name(stack[k]) == name:
                del stack[k]
                break
    else:
        stack.append(token)
