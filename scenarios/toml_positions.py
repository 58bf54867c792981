"""Where each key and value of a TOML document stands (line and column), since tomllib gives no positions.

A path names a value as the parsed document does: table keys as strings, items of an array (of tables or of
values) as indices, e.g. ``("funding", "scale", 0, "factor")`` for the ``factor`` of the first
``[[funding.scale]]``. ``where(path)`` gives the position of the longest part of the path that was found (at worst
the table header's line), so every problem can name a line. The text must already parse as TOML.
"""
from __future__ import annotations

import bisect
import re
import tomllib

Path = tuple  # of str (table keys) and int (array items)

_KEY = r'''[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*\''''
_DOTTED = re.compile(rf"(?:{_KEY})(?:[ \t]*\.[ \t]*(?:{_KEY}))*")
_ONE_KEY = re.compile(_KEY)
_SPACE = re.compile(r"[ \t\r\n]*")
_SCALAR = re.compile(r"[^,\]}\s#]+")  # a number, boolean or date (a date's time part is another "item")


def _unquote(key: str) -> str:
    if key.startswith('"'):
        return tomllib.loads(f"k = {key}")["k"]
    if key.startswith("'"):
        return key[1:-1]
    return key


def _split(dotted: str) -> list[str]:
    return [_unquote(m.group()) for m in _ONE_KEY.finditer(dotted)]


class Positions:
    """The 1-based (line, column) of every key, table header and array item of a TOML text."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.found: dict[Path, tuple[int, int]] = {}
        self.array_counts: dict[Path, int] = {}
        self.depth = 0  # arrays and inline tables open around the scanner
        try:
            self._scan()
        except (ValueError, IndexError, AttributeError, tomllib.TOMLDecodeError):
            pass  # text the scanner does not follow: what was found so far still names lines

    def where(self, path: Path) -> tuple[int, int]:
        """The position of ``path``, else of its nearest recorded parent; (0, 0) for nothing found."""
        path = tuple(path)
        for end in range(len(path), 0, -1):
            if path[:end] in self.found:
                return self.found[path[:end]]
        return 0, 0

    # -- scanning ------------------------------------------------------------------------------------------

    def _position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def _record(self, path: Path, index: int) -> None:
        for end in range(1, len(path) + 1):
            self.found.setdefault(path[:end], self._position(index))

    def _scan(self) -> None:
        text, i, table = self.text, 0, ()
        while i < len(text):
            i = _SPACE.match(text, i).end()
            if i >= len(text):
                break
            if text[i] == "#":
                i = self._end_of_line(i)
            elif text[i] == "[":
                table, i = self._header(i)
            else:
                i = self._assignment(i, table)

    def _end_of_line(self, i: int) -> int:
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end + 1

    def _resolve(self, keys: list[str]) -> Path:
        """A header's dotted keys as a path: an array of tables on the way stands for its last item."""
        path: Path = ()
        for key in keys:
            path += (key,)
            if path in self.array_counts:
                path += (self.array_counts[path] - 1,)
        return path

    def _header(self, i: int) -> tuple[Path, int]:
        double = self.text.startswith("[[", i)
        start = _SPACE.match(self.text, i + (2 if double else 1)).end()
        match = _DOTTED.match(self.text, start)
        keys = _split(match.group())
        if double:
            parent = self._resolve(keys[:-1]) + (keys[-1],)
            count = self.array_counts.get(parent, 0)
            self.array_counts[parent] = count + 1
            table = parent + (count,)
        else:
            table = self._resolve(keys)
        self._record(table, i)
        return table, self._end_of_line(match.end())

    def _assignment(self, i: int, table: Path) -> int:
        match = _DOTTED.match(self.text, i)
        if not match:  # cannot happen in valid TOML; skip the line rather than loop
            return self._end_of_line(i)
        path = table + tuple(_split(match.group()))
        self._record(path, i)
        equals = self.text.index("=", match.end())
        return self._skip_value(equals + 1, path)

    def _skip_value(self, i: int, path: Path) -> int:
        text = self.text
        i = self._skip_blank(i)
        if text[i] == "[":
            i = self._array(i + 1, path)
        elif text[i] == "{":
            i = self._inline_table(i + 1, path)
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i:i + 3]
            i = self._closing(i + 3, quote)
        elif text[i] in "\"'":
            i = self._closing(i + 1, text[i])
        else:
            i = _SCALAR.match(text, i).end()
        return i if self.depth else self._end_of_line(i)

    def _skip_blank(self, i: int) -> int:
        """Skip spaces, newlines and comments (inside arrays)."""
        text = self.text
        while i < len(text):
            i = _SPACE.match(text, i).end()
            if i < len(text) and text[i] == "#":
                i = self._end_of_line(i)
            else:
                break
        return i

    def _closing(self, i: int, quote: str) -> int:
        """The index after the string's closing ``quote`` (escapes count in basic strings only)."""
        text = self.text
        while i < len(text):
            if quote[0] == '"' and text[i] == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                end = i + len(quote)
                while len(quote) == 3 and text[end:end + 1] == quote[0]:  # up to two quotes may end the text
                    end += 1
                return end
            i += 1
        return i

    def _array(self, i: int, path: Path) -> int:
        self.depth += 1
        item = 0
        while True:
            i = self._skip_blank(i)
            if self.text[i] == "]":
                break
            self._record(path + (item,), i)
            i = self._skip_blank(self._skip_value(i, path + (item,)))
            if self.text[i] == ",":
                i += 1
                item += 1
        self.depth -= 1
        return i + 1

    def _inline_table(self, i: int, path: Path) -> int:
        self.depth += 1
        while True:
            i = self._skip_blank(i)
            if self.text[i] == "}":
                break
            match = _DOTTED.match(self.text, i)
            key_path = path + tuple(_split(match.group()))
            self._record(key_path, i)
            i = self._skip_blank(self._skip_value(self.text.index("=", match.end()) + 1, key_path))
            if self.text[i] == ",":
                i += 1
        self.depth -= 1
        return i + 1
