"""The zh-hans catalogue is complete, not fuzzy, its placeholders match, and the committed
.mo is what the .po says."""
import gettext
import re
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def test_every_msgid_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(PO))
    bad = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert bad == []


def test_placeholders_survive_translation():
    po = polib.pofile(str(PO))
    for entry in po:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            found = sorted(PLACEHOLDER.findall(text))
            if entry.msgid_plural:
                # One Chinese form serves singular and plural: it may use either's placeholders.
                assert set(found) <= set(wanted + PLACEHOLDER.findall(entry.msgid_plural)), entry.msgid
            else:
                assert found == wanted, entry.msgid


def test_the_compiled_catalogue_is_not_stale():
    po = polib.pofile(str(PO))
    with open(PO.with_suffix(".mo"), "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    for entry in po:
        if entry.obsolete or not entry.translated():
            continue
        key = (entry.msgctxt + "\x04" if entry.msgctxt else "") + entry.msgid
        if entry.msgid_plural:
            assert catalog.get((key, 0)) == entry.msgstr_plural[0], entry.msgid
        else:
            assert catalog.get(key) == entry.msgstr, entry.msgid
