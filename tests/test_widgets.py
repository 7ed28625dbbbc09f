"""The Python-rendered ``<select>`` and ``<input>`` of the filter bars write what Django's own
templates do."""
from html.parser import HTMLParser

import pytest
from django import forms
from django.utils import translation

from audit.forms import RecordFilterForm
from customers.forms import CustomerFilterForm
from customers.funds.forms import VoucherFilterForm
from customers.invitations.forms import InvitationFilterForm
from customers.requests.forms import InboxFilterForm
from partnercenter.widgets import DateInput, Select, TextInput

_STOCK = {Select: forms.Select, TextInput: forms.TextInput, DateInput: forms.DateInput}


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
    """``bound_field`` as Django's own widget class renders it."""
    fast = bound_field.field.widget
    fast_class = type(fast)
    fast.__class__ = _STOCK[fast_class]
    try:
        return str(bound_field)
    finally:
        fast.__class__ = fast_class


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "form",
    [
        lambda: RecordFilterForm({"event": "association.created", "actor_kind": "member"}),
        lambda: RecordFilterForm(),
        lambda: CustomerFilterForm({"type": "reseller", "sort": "oldest"}),
    ],
)
def test_filter_widgets_match_the_stock_widget(form, language):
    with translation.override(language):
        form = form()
        form.is_valid()
        kinds = {type(bf.field.widget) for bf in form}
        assert Select in kinds and TextInput in kinds
        assert not kinds & set(_STOCK.values()), "a plain Django widget was left in the filter bar"
        for bound_field in form:
            assert _normal(str(bound_field)) == _normal(_stock(bound_field))


def test_filter_dates_match_the_stock_widget():
    form = RecordFilterForm({"date_from": "2026-11-02", "date_to": "not a date"})
    form.is_valid()
    for name in ("date_from", "date_to"):
        assert isinstance(form[name].field.widget, DateInput)
        assert _normal(str(form[name])) == _normal(_stock(form[name]))
    assert 'value="2026-11-02"' in str(form["date_from"]) and 'value="not a date"' in str(form["date_to"])
    assert 'type="date"' in str(form["date_from"])


def test_input_values_and_attributes_are_escaped():
    class Form(forms.Form):
        text = forms.CharField(widget=TextInput(attrs={"placeholder": '"<x>"', "autofocus": True, "hidden": False}))

    form = Form({"text": '"><script>&'})
    html = str(form["text"])
    assert 'value="&quot;&gt;&lt;script&gt;&amp;"' in html and 'placeholder="&quot;&lt;x&gt;&quot;"' in html
    assert " autofocus" in html and "hidden" not in html
    assert _normal(html) == _normal(_stock(form["text"]))


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


def test_only_the_first_matching_choice_is_selected_and_none_is_the_empty_value():
    class Form(forms.Form):
        pick = forms.ChoiceField(
            required=False,
            choices=[(None, "Nothing"), ("a", "First a"), ("", [("a", "Second a"), (1, "One")])],
            widget=Select,
        )

    for data in ({"pick": "a"}, {"pick": ""}, {"pick": "1"}, {}):
        html = str(Form(data)["pick"])
        assert html.count(" selected") == 1
        assert _normal(html) == _normal(_stock(Form(data)["pick"]))


@pytest.mark.parametrize(
    "form",
    [
        lambda: RecordFilterForm(),
        lambda: CustomerFilterForm(),
        lambda: VoucherFilterForm(),
        lambda: InvitationFilterForm(),
        lambda: InboxFilterForm(),
    ],
)
def test_every_filter_bar_widget_has_bootstraps_class(form):
    form = form()
    for bound_field in form:
        html = str(bound_field)
        expected = "form-select" if html.startswith("<select") else "form-control"
        assert f'class="{expected}"' in html, html
        assert _normal(html) == _normal(_stock(bound_field))
