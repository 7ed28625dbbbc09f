"""Form widgets for the filter bars of the big lists, rendered in Python.

Django renders a ``<select>`` through one template per option; the records page's event
filter has dozens of options, and rendering the filter bar's widgets took about a sixth of the
page's time under the profiler (issue 9). ``Select`` writes the markup of Django's own
``select.html`` and ``select_option.html`` directly, from the same ``get_context()``, so
choices, ``selected`` and attributes behave exactly as the stock widget's."""
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


def use_fast_selects(form: forms.Form) -> None:
    """Give every plain ``Select`` of ``form`` the Python-rendered one, keeping its attributes
    and choices."""
    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:
            fast = Select(attrs=widget.attrs, choices=widget.choices)
            fast.is_required = widget.is_required
            field.widget = fast
