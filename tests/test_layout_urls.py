"""``{% fixed_url %}`` writes what ``{% url %}`` writes for an address without arguments, under
the script prefix in force, though it reverses each name only once."""
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from partnercenter.templatetags import layout

TEMPLATE = Template("{% load layout %}{% fixed_url 'customers:batch' %}|{% url 'customers:batch' %}|"
                    "{% fixed_url 'logout' as out %}{{ out }}")


def test_it_writes_what_the_url_tag_writes_under_each_script_prefix():
    try:
        for prefix in ("/", "/portal/", "/a&b/"):
            set_script_prefix(prefix)
            fixed, plain, out = TEMPLATE.render(Context({})).split("|")
            assert fixed == plain and fixed.startswith(prefix.replace("&", "&amp;"))
            assert out == reverse("logout").replace("&", "&amp;")
        assert len([key for key in layout._URLS if key[0] == "customers:batch"]) >= 3
    finally:
        set_script_prefix("/")
