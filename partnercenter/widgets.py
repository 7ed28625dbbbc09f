"""Form widgets for the filter bars of the big lists, rendered in Python.

Django renders a ``<select>`` through one template per option, and an ``<input>`` through two
templates; the records page's event filter has dozens of options, and rendering the filter
bar's widgets took about a sixth of the page's time under the profiler (issue 9). ``Select``,
``TextInput`` and ``DateInput`` write the markup of Django's own ``select.html``,
``select_option.html``, ``input.html`` and ``attrs.html`` directly, with the same attributes,
values and choice of ``selected`` as the stock widgets (``tests/test_widgets.py`` compares
them); ``Select`` follows ``optgroups()`` without building a dictionary per option."""
from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


def _text(value) -> str:
    """``value`` as HTML-escaped text: ``django.utils.html.escape`` (both are ``html.escape``
    of ``str(value)``) without its lazy-string wrapper, which costs more than the escaping."""
    return escape(str(value))


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        # What get_context() and optgroups() work out, without building a dict per option.
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        chosen = self.format_value(value)
        has_selected = False
        out = [f'<select name="{_text(name)}"{flatatt(final_attrs)}>']
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            grouped = isinstance(option_label, (list, tuple))
            if grouped and option_value:
                out.append(f'  <optgroup label="{_text(option_value)}">')
            for sub_value, sub_label in option_label if grouped else [(option_value, option_label)]:
                selected = (not has_selected or self.allow_multiple_selected) and str(sub_value) in chosen
                has_selected |= selected
                out.append(
                    f'  <option value="{_text(sub_value)}"{" selected" if selected else ""}>{_text(sub_label)}</option>'
                )
            if grouped and option_value:
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
# Bootstrap's class for each kind of filter widget, so a select looks like the inputs beside it.
_BOOTSTRAP_CLASS = {forms.Select: "form-select", forms.TextInput: "form-control", forms.DateInput: "form-control"}


def use_fast_widgets(form: forms.Form) -> None:
    """Give every plain ``Select``, ``TextInput`` and ``DateInput`` of ``form`` its
    Python-rendered subclass and Bootstrap's class. The widget is the form's own copy (Django
    copies a form's fields for each instance), so changing its class keeps its attributes,
    choices and format."""
    for field in form.fields.values():
        kind = type(field.widget)
        fast = _FAST.get(kind)
        if fast is not None:
            classes = field.widget.attrs.get("class", "").split()
            if _BOOTSTRAP_CLASS[kind] not in classes:
                field.widget.attrs["class"] = " ".join([*classes, _BOOTSTRAP_CLASS[kind]])
            field.widget.__class__ = fast
