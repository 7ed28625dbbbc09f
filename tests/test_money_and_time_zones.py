"""Amounts with their currency and the language's separators; moments in the user's time zone
with UTC on hover (issue 21, build 3)."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from partnercenter import factories as f


def render(source, **context):
    return Template("{% load money moments %}" + source).render(Context(context))


def test_money_has_the_currency_two_decimals_and_thousands_separators():
    assert render("{{ v|money:'CNY' }}", v=Decimal("1234567.5")) == "CNY 1,234,567.50"
    assert render("{{ v|money }}", v=Decimal("0")) == "USD 0.00"
    assert render("{{ v|money }}", v=None) == ""


def test_money_follows_the_language_format():
    with translation.override("zh-hans"):
        assert render("{{ v|money:'USD' }}", v=Decimal("9876.5")) == "USD 9,876.50"


def test_a_partner_has_a_currency_usd_by_default(db):
    assert f.PartnerFactory().currency == "USD"


def test_a_moment_is_shown_in_the_active_time_zone_with_utc_on_hover():
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    with timezone.override(ZoneInfo("Asia/Shanghai")):
        html = render("{{ t|moment }}", t=datetime(2026, 12, 1, 16, 30, tzinfo=UTC))
    assert html == '<time datetime="2026-12-01T16:30:00Z" title="2026-12-01 16:30 UTC">2026-12-02 00:30</time>'


def test_a_moment_in_the_default_format_reads_as_djangos_date_format_writes_it():
    """``moment`` writes its default format itself; it is what ``|date:"Y-m-d H:i"`` writes,
    small years on four digits included, and another format is still Django's."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    moments = [datetime(2026, 3, 9, 7, 5, tzinfo=UTC), datetime(999, 1, 2, 3, 4, tzinfo=UTC),
               datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)]
    with timezone.override(ZoneInfo("America/St_Johns")):
        for t in moments:
            shown = render("{{ t|date:'Y-m-d H:i' }}", t=t)
            assert render("{{ t|moment }}", t=t).endswith(f">{shown}</time>")
        assert render("{{ t|moment:'j M Y' }}", t=moments[0]).endswith(">9 Mar 2026</time>")


def test_the_profile_time_zone_is_used_on_every_page(as_user, admin_member, partner, customer):
    from customers.models import Voucher

    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("5.00"), expires_at=datetime(2027, 1, 1, 20, 0, tzinfo=UTC)
    )
    client = as_user(admin_member)
    assert ">2027-01-01 20:00</time>" in client.get(reverse("customers:voucher_list")).content.decode()
    admin_member.time_zone = "Asia/Shanghai"
    admin_member.save(update_fields=["time_zone"])
    assert ">2027-01-02 04:00</time>" in client.get(reverse("customers:voucher_list")).content.decode()


def test_without_a_profile_choice_the_browsers_time_zone_cookie_is_used_and_a_bad_one_ignored(
    as_user, admin_member, partner, customer
):
    from customers.models import Voucher

    Voucher.objects.create(
        partner=partner, customer=customer, amount=Decimal("5.00"), expires_at=datetime(2027, 1, 1, 20, 0, tzinfo=UTC)
    )
    client = as_user(admin_member)
    client.cookies["pc_tz"] = "America/New_York"
    assert ">2027-01-01 15:00</time>" in client.get(reverse("customers:voucher_list")).content.decode()
    client.cookies["pc_tz"] = "Mars/Olympus"
    assert ">2027-01-01 20:00</time>" in client.get(reverse("customers:voucher_list")).content.decode()


@pytest.mark.parametrize(
    "chosen, status, kept",
    [("Europe/Berlin", 302, "Europe/Berlin"), ("Mars/Olympus", 200, "")],  # an unknown one is refused
)
def test_a_member_chooses_a_time_zone_in_the_profile(as_user, admin_member, chosen, status, kept):
    response = as_user(admin_member).post(
        reverse("organization:profile"),
        {"display_name": "Ada", "email": "ada@example.com", "mobile": "", "time_zone": chosen},
    )
    assert response.status_code == status
    admin_member.refresh_from_db()
    assert admin_member.time_zone == kept


def test_every_page_links_the_favicon_and_the_time_zone_script(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "favicon.svg" in html
    assert "js/timezone.js" in html


AMOUNTS = ["0", "-0", "0.004", "-0.004", "-0.015", "5", "999.999", "1000", "-1234567.555", "1E+3", "1E-3",
           "123456789012345678901234567890.12", "1E+250", 7, 12.5]


@pytest.mark.parametrize("language", ["en", "zh-hans", "de", "fr"])
def test_a_pages_money_format_writes_what_django_number_formatting_writes(language):
    """``MoneyFormat`` (a list's amounts, the format read once a page) writes its numbers as
    ``numberformat.format`` does, cut and not rounded, with the language's separators."""
    from django.utils import formats, numberformat

    from partnercenter.templatetags.money import MoneyFormat

    with translation.override(language):
        separator = formats.get_format("THOUSAND_SEPARATOR")
        grouping = formats.get_format("NUMBER_GROUPING")
        if not separator:
            separator, grouping = ",", 3
        as_money = MoneyFormat("CNY")
        for value in AMOUNTS:
            number = numberformat.format(Decimal(value), formats.get_format("DECIMAL_SEPARATOR"), decimal_pos=2,
                                         grouping=grouping, thousand_sep=separator, force_grouping=True)
            assert as_money(value) == f"CNY {number}" == render("{{ v|money:'CNY' }}", v=value), value
        assert as_money(Decimal("5"), "EUR") == "EUR 5" + formats.get_format("DECIMAL_SEPARATOR") + "00"
        assert as_money(None) == as_money("") == ""


@pytest.mark.parametrize("fmt", ["Y-m-d H:i", "Y-m-d H:i:s", "DATETIME_FORMAT"])
def test_a_pages_moment_format_writes_what_django_date_formatting_writes(fmt):
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    from partnercenter.templatetags.moments import MomentFormat

    aware = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")), translation.override("zh-hans"):
        as_moment = MomentFormat(fmt)
        for value in (aware, aware.replace(hour=1), aware.replace(tzinfo=None), datetime(999, 1, 2, 3, 4, tzinfo=UTC)):
            local = value.replace(tzinfo=value.tzinfo or UTC).astimezone(ZoneInfo("Europe/Berlin"))
            assert as_moment(value).endswith(f">{date_format(local, fmt)}</time>"), value
        assert as_moment(aware) == render("{{ t|moment:fmt }}", t=aware, fmt=fmt)
    assert as_moment(None) == "" and as_moment("—") == "—"
