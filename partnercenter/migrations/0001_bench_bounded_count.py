"""``pc_bounded_count()``: the bounded count of a list page in one round trip on PostgreSQL
(issue 9; used by ``partnercenter.pagination.bounded_count``).

A list page shows how many rows match: exactly up to a limit, past it the planner's estimate.
Done from Python that is two statements (a limited COUNT, then an EXPLAIN when the limit is
reached), one query too many for the page budget; and for a filter no index serves (a
substring search, a fact of the customer) the limited COUNT has to visit every candidate row,
which costs more than the page itself. This function plans the limited count first and
  - counts exactly when the plan is cheap (at most ``max_cost``), returning the planner's
    estimate instead only when the count reaches ``exact_limit``;
  - returns the planner's estimate straight away when counting would be expensive.
``query`` is SQL compiled by the ORM with its parameters already bound, never user text.

SQLite has no planner estimates to offer and needs none at its sizes: elsewhere this
migration does nothing and bounded_count counts in Python as before.
"""
from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION pc_bounded_count(query text, exact_limit bigint, max_cost double precision)
RETURNS TABLE (total bigint, estimated boolean)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    bounded text := 'SELECT count(*) FROM (' || query || ' LIMIT ' || (exact_limit + 1) || ') AS bounded';
    plan jsonb;
    planned bigint;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || bounded INTO plan;
    -- Rows the query would return without the limit: the estimate of the Limit node's input.
    planned := ceil(coalesce(
        jsonb_path_query_first(plan, 'strict $.**?(@."Node Type" == "Limit").Plans[0]."Plan Rows"')::text::numeric,
        0));
    estimated := true;
    IF (plan -> 0 -> 'Plan' ->> 'Total Cost')::double precision > max_cost THEN
        total := planned;
        RETURN NEXT;
        RETURN;
    END IF;
    EXECUTE bounded INTO total;
    IF total > exact_limit THEN
        total := greatest(planned, exact_limit);
    ELSE
        estimated := false;
    END IF;
    RETURN NEXT;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS pc_bounded_count(text, bigint, double precision)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create, drop, elidable=False)]
