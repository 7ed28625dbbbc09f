"""The Python-rendered ``<select>`` of the filter bars writes what Django's own template does."""
from html.parser import HTMLParser

import pytest
from django import forms
from django.utils import translation

from audit.forms import RecordFilterForm
from customers.forms import CustomerFilterForm
from partnercenter.widgets import Select


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_starttag(self, tag, attrs):
        self.parts.append(("start", tag, sorted(attrs, key=lambda a: a[0])))

    def handle_endtag(self, tag):
        self.parts.append(("end", tag))

    def handle_data(self, data):
        if data.strip():
            self.parts.append(("text", data.strip()))


def _normal(html: str) -> list:
    """The elements, attributes (in any order) and text of ``html``, whitespace aside."""
    parser = _Elements()
    parser.feed(html)
    return parser.parts


def _stock(bound_field) -> str:
    fast = bound_field.field.widget
    stock = forms.Select(attrs=fast.attrs, choices=fast.choices)
    stock.is_required = fast.is_required
    bound_field.field.widget = stock
    try:
        return str(bound_field)
    finally:
        bound_field.field.widget = fast


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "form",
    [
        lambda: RecordFilterForm({"event": "association.created", "actor_kind": "member"}),
        lambda: RecordFilterForm(),
        lambda: CustomerFilterForm({"type": "reseller", "sort": "oldest"}),
    ],
)
def test_filter_selects_match_the_stock_widget(form, language):
    with translation.override(language):
        form = form()
        form.is_valid()
        selects = [bf for bf in form if isinstance(bf.field.widget, Select)]
        assert len(selects) >= 2
        for bound_field in selects:
            assert _normal(str(bound_field)) == _normal(_stock(bound_field))


def test_labels_values_and_groups_are_escaped_and_the_choice_is_selected():
    class Form(forms.Form):
        pick = forms.ChoiceField(
            choices=[("", "Any"), ('<g "1">', [('a"&b', "<b>bold</b> & co"), ("c", "C")])],
            widget=Select(attrs={"class": "form-select", "disabled": False, "data-x": "1"}),
        )

    html = str(Form({"pick": 'a"&b'})["pick"])
    assert '<optgroup label="&lt;g &quot;1&quot;&gt;">' in html
    assert '<option value="a&quot;&amp;b" selected>&lt;b&gt;bold&lt;/b&gt; &amp; co</option>' in html
    assert "disabled" not in html and 'data-x="1"' in html
    assert _normal(html) == _normal(_stock(Form({"pick": 'a"&b'})["pick"]))
