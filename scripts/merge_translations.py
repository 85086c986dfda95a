"""Merge Russian translations from JSON files ({msgid: msgstr, or [forms...] for plurals})
into app/web/translations/ru/LC_MESSAGES/messages.po; never overwrites a non-empty one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "app/web/translations/ru/LC_MESSAGES/messages.po"


def main(paths: list[str]) -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    given: dict[str, object] = {}
    for path in paths:
        given.update(json.loads(Path(path).read_text(encoding="utf-8")))
    filled = 0
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if not key or key not in given:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = tuple(given[key])  # type: ignore[arg-type]
                filled += 1
        elif not message.string:
            message.string = str(given[key])
            filled += 1
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, no_location=True, sort_output=True)
    missing = [
        m.id for m in catalog if m.id and not (all(m.string) if m.pluralizable else m.string)
    ]
    print(f"{filled} filled, {len(missing)} still without Russian")
    for m in missing[:50]:
        print("  missing:", m)


if __name__ == "__main__":
    main(sys.argv[1:])
