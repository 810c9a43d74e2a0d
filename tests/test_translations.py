"""The French catalogue is complete, compiled, and covers every string in the code."""

import ast
import gettext
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import needs

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def parse_po(path: Path) -> list[dict]:
    """A small .po reader: entries with msgctxt, msgid, msgid_plural, msgstr / msgstr[n] and flags."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
        else:
            word, _, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if word.startswith("msgstr"):
                key = int(word[7:-1]) if "[" in word else 0
                entry["msgstr"][key] = value
            else:
                key = word
                entry[key] = value
    if entry:
        entries.append(entry)
    return [e for e in entries if e.get("msgid")]


def test_every_french_entry_is_translated_and_not_fuzzy():
    entries = parse_po(PO)
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    stale = []
    for e in parse_po(PO):
        if "msgid_plural" in e:
            got = catalogue.ngettext(e["msgid"], e["msgid_plural"], 1)
        elif "msgctxt" in e:
            got = catalogue.pgettext(e["msgctxt"], e["msgid"])
        else:
            got = catalogue.gettext(e["msgid"])
        if got != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert stale == [], "run `make messages` to recompile locale/fr/LC_MESSAGES/django.mo"


def test_makemessages_finds_no_new_string(tmp_path):
    needs(bool(shutil.which("xgettext")), "GNU gettext (xgettext) is not installed; the catalogue's coverage is checked in CI")
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "bench", "*.sqlite3", "node_modules"))
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--ignore=.venv"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    before = {(e.get("msgctxt"), e["msgid"]) for e in parse_po(PO)}
    after_entries = parse_po(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    new = sorted(str(msgid) for ctx, msgid in {(e.get("msgctxt"), e["msgid"]) for e in after_entries} - before)
    assert new == [], "untranslated strings in the code: run `make messages` and translate them"
    assert [e["msgid"] for e in after_entries if not all(e["msgstr"].values()) or "fuzzy" in e["flags"]] == []
