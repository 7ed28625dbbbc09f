"""Load the benchmark data set into a PostgreSQL database of its own (issue 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5433/pc_bench .venv/bin/python bench/generate.py [--reset]

Creates the database if needed, runs the migrations, then loads with set-based SQL
(``INSERT … SELECT … FROM generate_series``), never the ORM row by row:

- 50 partners: one distributor (``bench-dist``) holding a fifth of the customers, two
  resellers under it (``bench-res-1``, ``bench-res-2``) and 47 solution providers;
- six members per partner: ``admin`` (System Administrator), ``manager1``–``manager4``
  (Customer Manager) and ``viewer`` (Read-only); one superuser operator ``operator``;
  all with the demo password ``Demo-pass-2026!``;
- 1,000,000 customers with realistic company names, e-mails and account names, and varied
  account facts (enterprise masters and sub-accounts, frozen, arrears, postpaid…);
- 1,000,000 active associations, one per customer, of both types and every origin;
- 5,000,000 operation records over three years (1,000,000 of them the distributor's).

Secondary indexes of the three big tables are dropped before the load and rebuilt after it
(much faster than maintaining them row by row), foreign-key triggers are skipped for the
load session (the generator keeps every reference valid by construction), and the run ends
with ``VACUUM (ANALYZE)`` so index-only scans and the planner see the real data.

The run is idempotent: a loaded database is left alone unless ``--reset`` drops and
recreates it. ``--scale 0.01`` loads a hundredth of everything, for trying the scripts.
"""
import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnercenter.settings")

import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

PASSWORD = "Demo-pass-2026!"
PARTNERS = 50
MEMBERS_PER_PARTNER = 6  # admin, manager1..4, viewer
DISTRIBUTOR_ID, RESELLER_IDS = 1, (2, 3)
BIG_TABLES = ["customers_customer", "customers_association", "audit_operationrecord"]

CITIES = [
    "Hangzhou", "Shenzhen", "Beijing", "Shanghai", "Chengdu", "Wuhan", "Nanjing", "Suzhou", "Guangzhou",
    "Xiamen", "Qingdao", "Tianjin", "Singapore", "Jakarta", "Kuala Lumpur", "Bangkok", "Tokyo", "Seoul",
    "Frankfurt", "London", "Paris", "Madrid", "Dubai", "Sydney", "Toronto", "Austin", "Denver", "Lyon",
]
CORES = [
    "Blue River", "Golden Peak", "Bright Star", "Silver Cloud", "Red Maple", "Jade Harbor", "Summit",
    "Northwind", "Evergreen", "Pioneer", "Lotus", "Phoenix", "Orchid", "Granite", "Cedar", "Crescent",
    "Horizon", "Kestrel", "Lighthouse", "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Quantum", "Riverstone",
    "Sapphire", "Tidewater", "Unity", "Vertex", "Willow", "Yellow Crane", "Zenith", "Bamboo Grove", "Coral Bay",
    "Dragon Gate", "East Lake", "Four Seasons", "Great Wall", "Heron", "Iron Bridge", "Jasmine", "Kunlun",
]
INDUSTRIES = [
    "Technology", "Logistics", "Software", "Media", "Retail", "Biotech", "Education", "Games", "Finance",
    "Manufacturing", "Health", "Energy", "Travel", "Foods", "Robotics", "Analytics", "Security", "Design",
]
# Two of these make a brand ("Lianke", "Ruixin"): real company names have a long tail of
# words, which is what makes a substring search selective.
SYLLABLES = [
    "an", "bai", "bo", "cheng", "chuang", "da", "ding", "fang", "feng", "fu", "guang", "hai", "hang", "hong",
    "hua", "hui", "jia", "jian", "jin", "jing", "kai", "kang", "ke", "lan", "li", "lian", "long", "mei", "ming",
    "nuo", "peng", "qi", "qing", "rui", "sheng", "shi", "tai", "tian", "tong", "wei", "xin", "xing", "yi", "ying",
    "yong", "yu", "yuan", "yun", "ze", "zhi", "zhong", "zhuo", "ao", "bin", "chen", "de", "en", "gao", "heng",
    "jun", "lei", "lin", "mu", "ning", "pu", "quan", "ren", "song", "teng", "wen", "xiang", "yao", "zhen", "zi",
]
SUFFIXES = ["Co., Ltd.", "Inc.", "GmbH", "LLC", "Group", "Studio", "Holdings", "Pte. Ltd."]
GIVEN = [
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Jun", "Hui", "Tao", "Ying", "Hao", "Xin", "Lin",
    "Chen", "Yu", "Mei", "Bo", "Kai", "Rui", "Anna", "James", "Maria", "David", "Sofia", "Lucas", "Emma",
    "Noah", "Olivia", "Liam", "Ava", "Ethan", "Mia", "Arjun", "Priya", "Kenji", "Yuki", "Min-jun", "Ji-woo",
]
SURNAMES = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Hu", "Zhu",
    "Gao", "Lin", "He", "Guo", "Ma", "Luo", "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis",
    "Martin", "Lee", "Tan", "Lim", "Nguyen", "Kim", "Park", "Sato", "Suzuki", "Singh", "Patel", "Müller",
]
FREE_MAIL = ["gmail.com", "qq.com", "163.com", "outlook.com", "126.com", "yahoo.com", "foxmail.com"]
# (event, category, weight): the mix of a busy partner's log.
EVENTS = [
    ("association.created", "association", 14), ("customer.updated", "association", 8),
    ("customer.manager_assigned", "association", 6), ("association.switched", "association", 4),
    ("association.ended", "association", 2), ("request.submitted", "association", 6),
    ("request.confirmed", "association", 4), ("request.rejected", "association", 1),
    ("request.cancelled", "association", 1), ("request.expired", "association", 1),
    ("request.approved", "association", 1), ("request.auto_approved", "association", 1),
    ("invitation.sent", "association", 8), ("invitation.accepted", "association", 6),
    ("invitation.declined", "association", 1), ("funds.allocated", "funds", 12),
    ("funds.recovered", "funds", 4), ("funds.returned", "funds", 1), ("voucher.issued", "voucher", 10),
    ("voucher.recovered", "voucher", 2), ("api.token_exchanged", "api", 5),
    ("api.customer_registered", "api", 2),
]
REASONS = [
    "Customer asked to move to reseller billing", "Contract renewed with the customer",
    "Customer moved to another partner", "Monthly budget for the project", "Quarterly promotion",
    "Project finished, returning unused funds", "Requested by the customer's finance team",
]


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


def text_array(values) -> sql.Composable:
    return sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(sql.Literal(v) for v in values))


def pick(array: sql.Composable, n: int, expr: str, seed: int) -> sql.Composable:
    """array[1 + hash(expr, seed) % n]: a deterministic, well-spread choice."""
    return sql.SQL("({})[1 + abs(hashint8extended({}, {})) % {}]").format(
        array, sql.SQL(expr), sql.Literal(seed), sql.Literal(n)
    )


def partner_of(expr: str) -> str:
    """The partner of customer ``expr``: every fifth customer is the distributor's."""
    return f"(CASE WHEN ({expr}) % 5 = 0 THEN {DISTRIBUTOR_ID} ELSE 2 + abs(hashint8extended({expr}, 1)) % 49 END)"


def member_id(partner_expr: str, k: int | str) -> str:
    """User id of member ``k`` (1 admin, 2..5 managers, 6 viewer) of a partner; user 1 is the operator."""
    return f"(1 + (({partner_expr}) - 1) * {MEMBERS_PER_PARTNER} + ({k}))"


def display_name(uid_expr: str) -> sql.Composable:
    return sql.SQL("{} || ' ' || {}").format(
        pick(text_array(GIVEN), len(GIVEN), uid_expr, 21), pick(text_array(SURNAMES), len(SURNAMES), uid_expr, 22)
    )


def connect(url: str, dbname: str | None = None) -> psycopg.Connection:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None, dbname=dbname or db["NAME"], autocommit=True,
    )


def ensure_database(reset: bool, started: float) -> None:
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    with connect("", dbname="postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            log(f"dropping database {name}", started)
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            log(f"creating database {name}", started)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def secondary_indexes(conn, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``table`` that no constraint owns."""
    return conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname
        """,
        [table],
    ).fetchall()


def load(conn, customers: int, records: int, started: float) -> None:
    from django.contrib.auth.hashers import make_password

    password = make_password(PASSWORD)
    dist_share = customers // 5
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET max_parallel_maintenance_workers = 2")

    dropped = {}
    for table in BIG_TABLES:
        dropped[table] = secondary_indexes(conn, table)
        for name, _definition in dropped[table]:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    log(f"dropped {sum(map(len, dropped.values()))} secondary indexes for the load", started)

    with conn.transaction():
        conn.execute(sql.SQL("""
            INSERT INTO organization_partner (id, account_name, name, kind, distributor_id, frozen,
                in_migration_programme, operation_protection, balance, voucher_quota, created_at)
            SELECT p,
                   CASE WHEN p = {dist} THEN 'bench-dist' WHEN p IN {res} THEN 'bench-res-' || (p - 1)
                        ELSE 'bench-sp-' || lpad(p::text, 2, '0') END,
                   CASE WHEN p = {dist} THEN 'Great Wall Cloud Distribution'
                        ELSE {core} || ' ' || {industry} || ' ' || {suffix} END,
                   CASE WHEN p = {dist} THEN 'distributor' WHEN p IN {res} THEN 'reseller'
                        ELSE 'solution_provider' END,
                   CASE WHEN p IN {res} THEN {dist} END,
                   false, p % 7 = 0, p % 10 = 0, 100000 + p * 1000, 20000,
                   now() - interval '6 years' + p * interval '1 day'
            FROM generate_series(1, {n}) p
        """).format(
            dist=sql.Literal(DISTRIBUTOR_ID), res=sql.SQL(str(RESELLER_IDS)), n=sql.Literal(PARTNERS),
            core=pick(text_array(CORES), len(CORES), "p", 2),
            industry=pick(text_array(INDUSTRIES), len(INDUSTRIES), "p", 3),
            suffix=pick(text_array(SUFFIXES), len(SUFFIXES), "p", 4),
        ))
        conn.execute("""
            INSERT INTO organization_user (id, password, is_superuser, username, kind, member_name, display_name,
                email, mobile, language, is_partner_admin, is_active, is_staff, date_joined, partner_id)
            VALUES (1, %s, true, 'operator', 'operator', '', 'Olga Operator', 'operator@vendor.example.com', '',
                    '', false, true, true, now() - interval '6 years', NULL)
        """, [password])
        member_names = text_array(["admin", "manager1", "manager2", "manager3", "manager4", "viewer"])
        conn.execute(sql.SQL("""
            INSERT INTO organization_user (id, password, is_superuser, username, kind, member_name, display_name,
                email, mobile, language, is_partner_admin, is_active, is_staff, date_joined, partner_id)
            SELECT {uid}, {password}, false, p.account_name || ':' || ({names})[k], 'member', ({names})[k],
                   {display}, ({names})[k] || '@' || p.account_name || '.example.com', '', '', k = 1, true, false,
                   p.created_at, p.id
            FROM organization_partner p CROSS JOIN generate_series(1, {m}) k
        """).format(
            uid=sql.SQL(member_id("p.id", "k")), names=member_names, m=sql.Literal(MEMBERS_PER_PARTNER),
            display=display_name(member_id("p.id", "k")), password=sql.Literal(password),
        ))
        conn.execute(sql.SQL("""
            INSERT INTO organization_user_roles (user_id, role_id)
            SELECT u.id, r.id FROM organization_user u JOIN organization_role r
              ON r.builtin = CASE WHEN u.member_name = 'admin' THEN 'system_admin'
                                  WHEN u.member_name = 'viewer' THEN 'read_only' ELSE 'customer_manager' END
            WHERE u.kind = 'member'
        """))
    log(f"{PARTNERS} partners, {PARTNERS * MEMBERS_PER_PARTNER} members and an operator", started)

    chunk = 200_000
    for low in range(1, customers + 1, chunk):
        high = min(low + chunk - 1, customers)
        with conn.transaction():
            conn.execute(sql.SQL("""
                INSERT INTO customers_customer (id, account_name, name, email, registered_at, has_consumption,
                    enterprise_role, enterprise_master_id, financially_hosted, arrears, postpaid, invoice_owed,
                    special_contract, frozen, orders_awaiting_partner_payment, cash_balance, cash_withdraw_only,
                    allocated_balance, manager_id, user_id)
                SELECT i,
                       lower(translate({given} || {surname}, 'ü -', 'u')) || '-' || to_hex(i * 40503 + 1048576),
                       CASE WHEN i % 4 = 0 THEN {given} || ' ' || {surname}
                            WHEN i % 4 = 1 THEN {city} || ' ' || {core} || ' ' || {industry} || ' ' || {suffix}
                            ELSE {city} || ' ' || initcap({syl1} || {syl2}) || ' ' || {industry} || ' ' || {suffix}
                       END,
                       CASE WHEN i % 3 = 0
                            THEN lower(translate({given} || '.' || {surname}, 'ü -', 'u')) || (i % 1000)
                                 || '@' || {free}
                            WHEN i % 4 = 1 THEN lower(translate({given}, 'ü -', 'u')) || '@'
                                 || lower(translate({core}, ' ', '')) || '-' || lower({industry}) || '.com'
                            ELSE lower(translate({given}, 'ü -', 'u')) || '@' || {syl1} || {syl2} || '.com' END,
                       now() - ({n} - i) * interval '150 seconds' - interval '2 days',
                       i % 10 <> 0,
                       CASE WHEN i % 50 IN (1, 5) THEN 'master' WHEN i % 50 IN (2, 3, 10) THEN 'sub' ELSE 'none' END,
                       CASE WHEN i % 50 IN (2, 3, 10) THEN i - i % 50 + 1 END,
                       i % 50 = 2,
                       CASE WHEN i % 31 = 0 THEN (i % 500) + 0.5 ELSE 0 END,
                       i % 7 = 0, i % 13 = 0, i % 211 = 0, i % 97 = 0,
                       CASE WHEN i % 41 = 0 THEN 1 ELSE 0 END,
                       (abs(hashint8extended(i, 9)) % 1000000) / 100.0,
                       false,
                       CASE WHEN abs(hashint8extended(i, 5)) % 10 < 3
                            THEN (abs(hashint8extended(i, 10)) % 500000) / 100.0 ELSE 0 END,
                       CASE WHEN abs(hashint8extended(i, 8)) % 5 < 2 THEN {manager} END,
                       NULL
                FROM generate_series({low}::bigint, {high}) i
            """).format(
                given=pick(text_array(GIVEN), len(GIVEN), "i", 31),
                surname=pick(text_array(SURNAMES), len(SURNAMES), "i", 32),
                city=pick(text_array(CITIES), len(CITIES), "i", 33),
                core=pick(text_array(CORES), len(CORES), "i", 34),
                industry=pick(text_array(INDUSTRIES), len(INDUSTRIES), "i", 35),
                suffix=pick(text_array(SUFFIXES), len(SUFFIXES), "i", 36),
                free=pick(text_array(FREE_MAIL), len(FREE_MAIL), "i", 37),
                syl1=pick(text_array(SYLLABLES), len(SYLLABLES), "i", 38),
                syl2=pick(text_array(SYLLABLES), len(SYLLABLES), "i", 39),
                manager=sql.SQL(member_id(partner_of("i"), "2 + i % 4")),
                n=sql.Literal(customers), low=sql.Literal(low), high=sql.Literal(high),
            ))
        log(f"customers {high:>10,} / {customers:,}", started)

    for low in range(1, customers + 1, chunk * 2):
        high = min(low + chunk * 2 - 1, customers)
        with conn.transaction():
            # A customer's association begins a few days after its registration; type and origin
            # vary (API registrations are always reseller, R2c).
            conn.execute(sql.SQL("""
                INSERT INTO customers_association (id, partner_id, customer_id, type, status, origin, started_at,
                    ended_at, end_reason)
                SELECT i, {partner}, i,
                       CASE WHEN abs(hashint8extended(i, 5)) % 10 < 3 THEN 'reseller' ELSE 'referral' END,
                       'active',
                       CASE WHEN abs(hashint8extended(i, 5)) % 10 < 1 THEN 'api'
                            WHEN abs(hashint8extended(i, 6)) % 20 = 0 THEN 'operator'
                            WHEN abs(hashint8extended(i, 6)) % 20 < 4 THEN 'public_link'
                            ELSE 'invitation' END,
                       now() - ({n} - i) * interval '150 seconds' - interval '2 days'
                             + (abs(hashint8extended(i, 7)) % 43200) * interval '1 second',
                       NULL, ''
                FROM generate_series({low}::bigint, {high}) i
            """).format(partner=sql.SQL(partner_of("i")), n=sql.Literal(customers),
                        low=sql.Literal(low), high=sql.Literal(high)))
        log(f"associations {high:>10,} / {customers:,}", started)

    weighted = [(e, c) for e, c, w in EVENTS for _ in range(w)]
    events = text_array([e for e, _c in weighted])
    categories = text_array([c for _e, c in weighted])
    reasons = text_array(REASONS)
    quarter = dist_share  # customers per residue class of 5
    chunk = 500_000
    for low in range(1, records + 1, chunk):
        high = min(low + chunk - 1, records)
        with conn.transaction():
            # Every fifth record is the distributor's; the customer is picked first and the
            # partner follows from it, so each record names a real association of its partner.
            conn.execute(sql.SQL("""
                INSERT INTO audit_operationrecord (id, created_at, partner_id, customer_id, association_id,
                    association_request_id, category, event, actor_id, actor_kind, actor_name, ip, request_id,
                    reason, before, after)
                SELECT j, created_at, partner_id, c, c, NULL, ev[2], ev[1],
                       CASE WHEN kind = 'member' THEN actor END, kind,
                       CASE kind WHEN 'member' THEN {display} WHEN 'system' THEN 'System'
                                 ELSE 'Customer ' || c END,
                       ('10.' || (j % 250) || '.' || (j / 250 % 250) || '.' || (j / 62500 % 250 + 1))::inet,
                       md5(j::text),
                       CASE WHEN ev[1] LIKE 'request.%' OR ev[1] LIKE 'funds.%' THEN {reason} ELSE '' END,
                       CASE WHEN ev[1] = 'association.switched' THEN '{{"type": "referral"}}'::jsonb
                            WHEN ev[1] LIKE 'funds.%' THEN jsonb_build_object('allocated_balance', (j % 9000) || '.00')
                            ELSE '{{}}'::jsonb END,
                       CASE WHEN ev[1] = 'association.switched' THEN '{{"type": "reseller"}}'::jsonb
                            WHEN ev[1] LIKE 'funds.%'
                              THEN jsonb_build_object('allocated_balance', (j % 9000 + 100) || '.00',
                                                      'amount', '100.00')
                            ELSE '{{}}'::jsonb END
                FROM (
                    SELECT j, c, {partner} AS partner_id, ARRAY[{event}, {category}] AS ev,
                           {actor} AS actor,
                           CASE WHEN abs(hashint8extended(j, 14)) % 20 = 0 THEN 'system'
                                WHEN abs(hashint8extended(j, 14)) % 20 < 3 THEN 'customer' ELSE 'member' END AS kind,
                           now() - ({r} - j) * interval '18 seconds' - (j % 7) * interval '1 second' AS created_at
                    FROM (
                        SELECT j, CASE WHEN j % 5 = 0 THEN 5 * (1 + abs(hashint8extended(j, 11)) % {q})
                                       ELSE 5 * (abs(hashint8extended(j, 11)) % {q}) + 1
                                            + abs(hashint8extended(j, 12)) % 4 END AS c
                        FROM generate_series({low}::bigint, {high}) j
                    ) picked
                ) r
            """).format(
                partner=sql.SQL(partner_of("c")),
                event=pick(events, len(weighted), "j", 13), category=pick(categories, len(weighted), "j", 13),
                actor=sql.SQL(member_id(partner_of("c"), "1 + abs(hashint8extended(j, 15)) % 5")),
                display=display_name("actor"), reason=pick(reasons, len(REASONS), "j", 16),
                q=sql.Literal(quarter), r=sql.Literal(records), low=sql.Literal(low), high=sql.Literal(high),
            ))
        log(f"operation records {high:>10,} / {records:,}", started)

    for table in ["organization_partner", "organization_user", "organization_user_roles", *BIG_TABLES]:
        conn.execute(sql.SQL(
            "SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT coalesce(max(id), 1) FROM {i}))"
        ).format(t=sql.Literal(table), i=sql.Identifier(table)))
    conn.execute("SET session_replication_role = origin")

    for table in BIG_TABLES:
        for name, definition in dropped[table]:
            t0 = time.monotonic()
            conn.execute(definition)
            log(f"index {name} rebuilt ({time.monotonic() - t0:.1f}s)", started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set (default 1)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL=postgres://…/pc_bench (a database of its own: --reset drops it)")
    customers = int(1_000_000 * args.scale) // 5 * 5
    records = int(5_000_000 * args.scale) // 5 * 5

    started = time.monotonic()
    django.setup()
    from django.core.management import call_command

    ensure_database(args.reset, started)
    log("migrating", started)
    call_command("migrate", verbosity=0, interactive=False)
    with connect("") as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM customers_customer)").fetchone()[0]:
            log("data already loaded (use --reset to load it again)", started)
            return 0
        load(conn, customers, records, started)
        log("VACUUM (ANALYZE)", started)
        conn.execute("VACUUM (ANALYZE)")
        sizes = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    log(f"done: {customers:,} customers, {records:,} operation records, database {sizes}", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
