"""The one list helper (partnercenter.pagination.list_page): rows, cursors and the count as
data, with no template; a cursor only for the list, filters and sort it came from; empty
filters are the unfiltered list; a bad cursor restarts or raises, as the caller chooses."""
import pytest
from django.test import RequestFactory

from audit.models import OperationRecord
from partnercenter import factories as f
from partnercenter.pagination import InvalidCursor, filters_scope, list_page


@pytest.fixture
def records(partner, settings):
    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 3}
    return [r.pk for r in f.OperationRecordFactory.create_batch(5, partner=partner)]


def _page(cursor=None, **kwargs):
    qs = OperationRecord.objects.all()
    return list_page(None, queryset=qs, ordering=["-id"], scope="test", cursor=cursor, **kwargs)


def test_it_returns_rows_cursors_and_the_count_as_data(records):
    first = _page()
    assert [r.pk for r in first.rows] == sorted(records, reverse=True)[:3]
    assert first.prev_cursor is None and first.next_cursor
    assert (first.total, first.total_is_estimate) == (5, False)
    second = _page(first.next_cursor)
    assert [r.pk for r in second.rows] == sorted(records, reverse=True)[3:]
    assert second.next_cursor is None and second.prev_cursor


def test_a_cursor_serves_only_its_own_filters_and_ordering(records):
    cursor = _page(filters={"event": "association.created"}).next_cursor
    assert _page(cursor, filters={"event": "association.created"}).rows
    with pytest.raises(InvalidCursor):
        _page(cursor, filters={"event": "member.created"}, restart_on_invalid_cursor=False)
    with pytest.raises(InvalidCursor):
        list_page(
            None, queryset=OperationRecord.objects.all(), ordering=["-created_at", "-id"], scope="test",
            cursor=cursor, filters={"event": "association.created"}, restart_on_invalid_cursor=False,
        )


def test_empty_filter_values_are_the_unfiltered_list():
    assert filters_scope({}) == filters_scope({"q": "", "status": None, "pending": False, "roles": []}) == ""
    assert filters_scope({"q": "acme"}) != filters_scope({"q": "acme", "status": "frozen"})
    assert filters_scope(None) == "invalid"


def test_a_bad_cursor_restarts_at_page_one_with_a_message(records, admin_member):
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().get("/", {"cursor": "forged", "q": "x"})
    request.user, request.session = admin_member, {}
    request._messages = FallbackStorage(request)
    listed = list_page(request, queryset=OperationRecord.objects.all(), ordering=["-id"], scope="test")
    assert listed.cursor_rejected and [r.pk for r in listed.rows] == sorted(records, reverse=True)[:3]
    assert [str(m) for m in request._messages] == ["That page link is no longer valid; showing the first page."]
    assert listed.base_query == "q=x"
    assert set(listed.context()) == {"form", "page", "total", "total_is_estimate", "base_query"}


def test_without_a_count_no_count_is_made(records, django_assert_num_queries):
    with django_assert_num_queries(1):
        listed = _page(count=False)
    assert listed.total is None and len(listed.rows) == 3


@pytest.mark.parametrize("descending", [True, False])
def test_pages_walk_rows_sharing_their_first_sort_value_in_both_directions(partner, settings, descending):
    """The cursor is one row-value comparison on (created_at, id): rows that share the
    moment are neither skipped nor repeated, forward and back, newest or oldest first."""
    from django.utils import timezone

    settings.PARTNER_CENTER = {**settings.PARTNER_CENTER, "PAGE_SIZE": 2}
    moments = [timezone.now().replace(microsecond=0) - timezone.timedelta(minutes=m) for m in (0, 0, 0, 5, 5, 9, 9)]
    for moment in moments:
        f.OperationRecordFactory(partner=partner, created_at=moment)
    ordering = ["-created_at", "-id"] if descending else ["created_at", "id"]
    expected = list(OperationRecord.objects.order_by(*ordering).values_list("pk", flat=True))

    def page(cursor=None):
        return list_page(None, queryset=OperationRecord.objects.all(), ordering=ordering, scope="t", cursor=cursor)

    pages, cursor = [], None
    while True:
        listed = page(cursor)
        pages.append(listed)
        cursor = listed.next_cursor
        if cursor is None:
            break
    assert [r.pk for p in pages for r in p.rows] == expected
    back = page(pages[-1].prev_cursor)
    assert [r.pk for r in back.rows] == [r.pk for r in pages[-2].rows]
