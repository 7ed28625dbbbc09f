"""Text the portal accepts is valid Unicode that every database stores: no lone surrogates
(``"\\ud800"`` from a JSON escape cannot be encoded as UTF-8 and made hashing a password or
saving a name fail with a 500) and no NUL characters (PostgreSQL refuses them in text).

The API runs :func:`first_invalid_text` over every parsed JSON body (``api.text``); forms that
take text from outside the browser mix in :class:`ValidTextFormMixin`. Browser form posts
cannot carry surrogates at all: Django decodes URL-encoded and multipart bodies with
replacement characters, and its ``CharField`` already refuses NUL."""
from django import forms
from django.utils.translation import gettext as _


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None when it can."""
    if "\x00" in value:
        return _("Remove the NUL character (\\u0000): it cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("This text contains a character that is not valid Unicode (a lone surrogate such as \\ud800).")
    return None


def shown_path(name: str) -> str:
    """A field name as an error may show it: itself, or escaped if it is not valid text."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def first_invalid_text(value, path: str = "") -> tuple[str, str] | None:
    """The path (``name``, ``items[0].name``; ``""`` for the whole value) and the problem of
    the first string in a parsed JSON value, key or value, that is not valid text; None when
    every string is. Object keys are checked too: a key is echoed back in "unknown field"."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return where, problem
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                child_path = f"{where}.{shown_path(key)}" if where else shown_path(key)
                if isinstance(key, str) and text_problem(key):
                    return child_path, text_problem(key)
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}[{i}]", child) for i, child in enumerate(item)]))
    return None


class ValidTextFormMixin:
    """A form whose every text value is valid Unicode: a field holding a lone surrogate or a
    NUL gets the error instead of reaching a password hasher or the database."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(self.cleaned_data.items()):
            if isinstance(value, str) and (problem := text_problem(value)):
                self.add_error(name, forms.ValidationError(problem, code="invalid_text"))
        return cleaned
