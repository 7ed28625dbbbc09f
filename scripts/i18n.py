"""Keep the zh-hans catalogue complete.

    python scripts/i18n.py update [TRANSLATIONS.json ...]
        re-extract strings (makemessages), fill in translations from the JSON files
        ({"msgid": "译文", "plural msgid": ["译文"]}), compile the .mo, and list what is
        still untranslated. Serialised with a lock file so parallel runs do not clobber
        each other.
    python scripts/i18n.py missing
        list untranslated or fuzzy entries (exit 1 if any).
"""
import fcntl
import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
IGNORE = [".venv", "var", "tests", "bench", "node_modules", "scripts"]


def makemessages():
    args = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-e", "html,txt,py,jinja"]
    for pattern in IGNORE:
        args += ["--ignore", pattern]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)


def missing(po) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]


def update(files: list[str]) -> int:
    translations = {}
    for name in files:
        translations.update(json.loads(Path(name).read_text(encoding="utf-8")))
    PO.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "locale" / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        makemessages()
        po = polib.pofile(str(PO))
        po.metadata["Language"] = "zh_Hans"
        po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
        po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
        for entry in po:
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.msgstr = ""
                entry.msgstr_plural = {k: "" for k in entry.msgstr_plural}
                entry.previous_msgid = None
                entry.previous_msgid_plural = None
                entry.previous_msgctxt = None
            text = translations.get(entry.msgid)
            if text is None:
                continue
            if entry.msgid_plural:
                entry.msgstr_plural = {0: text[0] if isinstance(text, list) else text}
            else:
                entry.msgstr = text
        po.save(str(PO))
        po.save_as_mofile(str(MO))
    left = missing(po)
    for entry in left:
        print(f"untranslated: {entry.msgid!r}")
    print(f"{len(po)} entries, {len(left)} untranslated")
    return 1 if left else 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["missing"]
    if command == "update":
        sys.exit(update(rest))
    if command == "missing":
        entries = missing(polib.pofile(str(PO)))
        for e in entries:
            print(repr(e.msgid))
        sys.exit(1 if entries else 0)
    sys.exit(__doc__)
