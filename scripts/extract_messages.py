"""Extract every user-visible word into a .pot file (used by `make i18n` and the catalogue test).

The translation keywords live in app.messages.EXTRACT_KEYWORDS, so both read the same list.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.messages import EXTRACT_KEYWORDS  # noqa: E402


def main(output: str) -> None:
    keywords = [arg for k in EXTRACT_KEYWORDS for arg in ("-k", k)]
    options = ["--no-location", "--sort-output", "-o", output]
    CommandLineInterface().run(
        ["pybabel", "extract", "-F", str(ROOT / "babel.cfg"), *keywords, *options, str(ROOT)]
    )


if __name__ == "__main__":
    main(sys.argv[1])
