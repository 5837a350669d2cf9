"""Read a JSON bundle item by item: memory follows the text and the rows kept, not the items.

The document's frame (the object of sections, each an array) is scanned here; each item is
decoded on its own with the standard decoder, so a section of millions of items is never
built as one list, nesting too deep for the decoder is a located rejection, and a key given
twice in an object is reported instead of silently keeping the last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from laborgraph.graph.errors import BundleIssue
from laborgraph.ingest.limits import Budget, ReadingStopped
from laborgraph.ingest.quote import cut, quote
from laborgraph.ingest.raw import SECTIONS, Note, Part, RawRow, RawSection

SPACE = re.compile(r"[ \t\n\r]*")


def json_parts(content: bytes, name: str, budget: Budget) -> Iterator[Part]:
    budget.declared(len(content))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield BundleIssue(file=name, message=f"not UTF-8 text (byte {exc.start:,})")
        return
    yield from _Document(text, name).parts(budget)


class _Document:
    """One pass over the text: ``pos`` moves forward as sections and items are read."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name, self.pos = text, name, 0
        self.repeated: str | None = None  # a key the item just decoded gives twice
        self.decoder = json.JSONDecoder(object_pairs_hook=self._object)

    def parts(self, budget: Budget) -> Iterator[Part]:
        if not self._take("{"):
            yield BundleIssue(file=self.name, message="expected a JSON object with one array per section")
            return
        seen: set[str] = set()
        while not self._take("}"):
            if seen and not self._take(","):
                self._stop("expected ',' or '}' after a section")
            key = self._key()
            if key not in SECTIONS:
                message = f"section {quote(key)} is not part of the bundle format; ignored"
                yield Note(BundleIssue(file=self.name, message=message))
                self._skip()
            elif key in seen:
                yield BundleIssue(file=self.name, column=key, message="the section is given twice; keep one")
                self._skip()
            elif not self._at("["):
                yield BundleIssue(file=self.name, column=key, message="section must be an array of objects")
                self._skip()
            else:
                rows = self._rows(f"{self.name} {key}", budget)
                yield RawSection(key, f"{self.name} {key}", None, rows)
                for _ in rows:  # what the reader of the section left, to reach the next section
                    pass
            seen.add(key)
        if SPACE.match(self.text, self.pos).end() != len(self.text):  # type: ignore[union-attr]
            self._stop("text after the end of the document")
        if "organizations" not in seen:
            yield BundleIssue(file=self.name, message="the required section 'organizations' is missing")

    def _rows(self, file: str, budget: Budget) -> Iterator[RawRow | BundleIssue]:
        for index, item in enumerate(self._items(file), start=1):
            budget.row()
            if not isinstance(item, dict):
                yield BundleIssue(file=file, row=index, message="expected an object")
            elif self.repeated is not None:
                message = "the key is given twice in this object; keep one"
                yield BundleIssue(file=file, row=index, column=cut(self.repeated), message=message)
            else:
                yield RawRow(file, index, item)

    def _items(self, file: str) -> Iterator[object]:
        """Each item of the array that starts here, decoded on its own."""
        self._take("[")
        index = 0
        while not self._take("]"):
            if index and not self._take(","):
                self._stop("expected ',' or ']' after an item", file, index)
            index += 1
            yield self._value(file, index)

    def _value(self, file: str | None = None, row: int | None = None) -> object:
        self.repeated = None
        self.pos = SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
        try:
            value, self.pos = self.decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            self._stop(exc.msg, file, row, exc.pos)
        except RecursionError:
            self._stop("nested too deeply; a cell is a value or a list of values", file, row)
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            self._stop(str(exc), file, row)
        return value

    def _skip(self) -> None:
        """Read past the value here without keeping it (an array item by item)."""
        if self._at("["):
            for _ in self._items(self.name):
                pass
        else:
            self._value()

    def _key(self) -> str:
        if not self._at('"'):
            self._stop("expected a section name in double quotes")
        try:
            key, self.pos = json.decoder.scanstring(self.text, self.pos + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError as exc:
            self._stop(exc.msg, at=exc.pos)
        if not self._take(":"):
            self._stop("expected ':' after a section name")
        return key  # type: ignore[no-any-return]

    def _object(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        made = dict(pairs)
        if len(made) < len(pairs) and self.repeated is None:
            keys = [key for key, _ in pairs]
            self.repeated = next(key for n, key in enumerate(keys) if key in keys[:n])
        return made

    def _at(self, char: str) -> bool:
        self.pos = SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.text.startswith(char, self.pos)

    def _take(self, char: str) -> bool:
        if self._at(char):
            self.pos += 1
            return True
        return False

    def _stop(
        self, reason: str, file: str | None = None, row: int | None = None, at: int | None = None
    ) -> None:
        """Reading cannot go on: the issue names the item, or the line and column of the text."""
        at = self.pos if at is None else at
        line = self.text.count("\n", 0, at) + 1
        column = at - self.text.rfind("\n", 0, at)
        message = f"not valid JSON: {cut(reason)} (line {line:,}, column {column:,})"
        raise ReadingStopped(BundleIssue(file=file or self.name, row=row, message=message))
