"""Shared by the query-budget tests: count the statements of a request after a first one (the
first request of a session may warm up per-process things), and hold a count to its budget,
printing the statements when it is over."""
from django.db import connection
from django.test.utils import CaptureQueriesContext


def count(client, url, params=None, **headers) -> tuple[int, bytes, list[str]]:
    client.get(url, params or {}, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {}, **headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, body[:500]
    return len(captured), body, [q["sql"] for q in captured.captured_queries]


def within(budget: int, measured: tuple[int, bytes, list[str]]) -> bytes:
    queries, body, sql = measured
    assert queries <= budget, f"{queries} > {budget}:\n" + "\n".join(sql)
    return body
