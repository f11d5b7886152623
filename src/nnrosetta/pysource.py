"""Python source text for the code backends generate: line wrapping inside brackets and
docstring-safe text (shared by backend-pytorch and backend-tf)."""

from __future__ import annotations

from typing import Any

LINE_LENGTH = 100


def split_top(s: str) -> list[str]:
    """Split on commas at bracket depth 0 (outside string literals)."""
    out, depth, cur, quote = [], 0, [], ""
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    tail = "".join(cur).strip()
    if tail:
        out.append(tail)
    return out


def wrap(text: str, indent: str) -> list[str]:
    """Lines of ``indent + text`` no longer than LINE_LENGTH, breaking inside brackets."""
    if len(indent) + len(text) <= LINE_LENGTH:
        return [indent + text]
    start, quote = -1, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            start = i
            break
    if start < 0:
        return [indent + text]
    depth, end, quote = 0, -1, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                end = i
                break
    if end < 0 or end == start + 1:
        return [indent + text]
    head, inner, tail = text[:start + 1], text[start + 1:end], text[end:]
    items = split_top(inner)
    # A trailing comma is harmless in a call or a literal, but turns a bare grouping
    # "(a - b)" into a tuple and "x[i]" into "x[(i,)]": keep single items as they are there.
    after_name = start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_)]")
    grouping = (text[start] == "(" and not after_name) or (text[start] == "[" and after_name)
    comma = "" if grouping and len(items) == 1 else ","
    lines = [indent + head]
    for item in items:
        lines.extend(wrap(item + comma, indent + "    "))
    lines.append(indent + tail)
    return lines


def doc(s: Any) -> str:
    """``s`` as text that is safe inside a triple-quoted docstring, on one line."""
    s = str(s).replace("\\", "/").replace('"""', "'''").replace("\r", " ").replace("\n", " ")
    return "".join(ch if ch.isprintable() else " " for ch in s)


def trunc(s: str, n: int = LINE_LENGTH) -> str:
    """``s`` cut to ``n`` characters (ending in "...") when longer."""
    s = s.rstrip()
    return s if len(s) <= n else s[: n - 3] + "..."
