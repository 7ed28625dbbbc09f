"""Form widgets for the filter bars of the big lists, rendered in Python.

Django renders a ``<select>`` through one template per option, and an ``<input>`` through two
templates; the records page's event filter has dozens of options, and rendering the filter
bar's widgets took about a sixth of the page's time under the profiler (issue 9). ``Select``,
``TextInput`` and ``DateInput`` write the markup of Django's own ``select.html``,
``select_option.html``, ``input.html`` and ``attrs.html`` directly, from the same
``get_context()``, so choices, values, ``selected`` and attributes behave exactly as the stock
widgets'."""
from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe

from partnercenter.markup import text as _text


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{_text(widget["name"])}"{flatatt(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(f'  <optgroup label="{_text(group_name)}">')
            for option in group_choices:
                out.append(
                    f'  <option value="{_text(option["value"])}"{flatatt(option["attrs"])}>'
                    f'{_text(option["label"])}</option>'
                )
            if group_name:
                out.append("  </optgroup>")
        out.append("</select>")
        return mark_safe("\n".join(out))  # noqa: S308 - every value escaped above


class _InputMarkup:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
        return mark_safe(  # noqa: S308 - every value escaped
            f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{flatatt(widget["attrs"])}>'
        )


class TextInput(_InputMarkup, forms.TextInput):
    pass


class DateInput(_InputMarkup, forms.DateInput):
    pass


_FAST = {forms.Select: Select, forms.TextInput: TextInput, forms.DateInput: DateInput}


def use_fast_widgets(form: forms.Form) -> None:
    """Give every plain ``Select``, ``TextInput`` and ``DateInput`` of ``form`` its
    Python-rendered subclass. The widget is the form's own copy (Django copies a form's fields
    for each instance), so changing its class keeps its attributes, choices and format."""
    for field in form.fields.values():
        fast = _FAST.get(type(field.widget))
        if fast is not None:
            field.widget.__class__ = fast
