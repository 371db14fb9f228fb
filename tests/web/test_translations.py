"""Every UI string has a Japanese translation: the catalogue holds every string the code and the
templates mark for translation, and none of its entries is empty or fuzzy."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
APPS = ["leadflow", "accounts", "leads", "scoring", "handoff", "integrations", "analytics", "web",
        "templates"]  # fmt: skip
KEYWORDS = {**DEFAULT_KEYWORDS, "gettext_lazy": None, "ngettext_lazy": (1, 2),
            "pgettext": ((1, "c"), 2), "pgettext_lazy": ((1, "c"), 2)}  # fmt: skip


def _sources() -> list[tuple[Path, str]]:
    out = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if "migrations" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py":
                out.append((path, path.read_text()))
            elif path.suffix == ".html":
                # What makemessages does with a template before xgettext reads it; the
                # leftover indentation means nothing to xgettext, but would to Python's tokenizer.
                text = templatize(path.read_text(), origin=str(path))
                out.append((path, "\n".join(line.lstrip() for line in text.splitlines())))
    return out


def marked_strings() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _path, source in _sources():
        for _line, message, _comments, _context in extract(
            "python", io.BytesIO(source.encode()), keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue() -> dict[str | tuple[str, ...], object]:
    with CATALOGUE.open("rb") as f:
        cat = read_po(f, locale="ja")
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m for m in cat if m.id}


def test_every_entry_of_the_catalogue_is_translated() -> None:
    entries = catalogue()
    assert len(entries) > 400
    empty = [
        k
        for k, m in entries.items()
        if not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]  # type: ignore[attr-defined]
    fuzzy = [k for k, m in entries.items() if m.fuzzy]  # type: ignore[attr-defined]
    assert empty == [] and fuzzy == []


def test_every_marked_string_is_in_the_catalogue() -> None:
    marked = marked_strings()
    assert "Handoff inbox" in marked and ("%(n)s day", "%(n)s days") in marked, (
        "the extraction works"
    )
    missing = sorted(str(m) for m in marked - set(catalogue()))
    assert missing == [], "run `make makemessages` and translate: " + "; ".join(missing[:20])
