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
import json
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


# Chinese company names: a city, a two-character brand, an industry and a suffix, the way
# mainland companies are registered ("深圳华为科技有限公司"), and personal names for individuals.
CN_CITIES = "深圳 杭州 北京 上海 成都 武汉 南京 苏州 广州 厦门 青岛 天津 西安 重庆".split()
CN_BRAND = list("华为联科瑞信腾讯云创新达鼎方丰富光海航宏汇佳建金京凯康蓝立龙美明诺鹏启青睿盛世泰天通伟鑫星易英永宇元智中卓")  # noqa: E501
CN_INDUSTRIES = "科技 物流 软件 传媒 零售 生物 教育 游戏 金融 制造 健康 能源 旅游 食品".split()
CN_SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "工作室", "信息技术有限公司"]
CN_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
CN_GIVEN = "伟 芳 娜 敏 静 磊 洋 军 慧 涛 颖 浩 欣 琳 晨 宇 梅 波 凯 瑞 志强 建华 晓明 海燕 丽娟".split()
RESOURCES = "ecs.g7.large ecs.c7.xlarge ecs.r7.2xlarge rds.mysql.s2.large redis.master.small slb.s2.small".split()
HEAVY_CUSTOMERS = 3  # distributor customers with thousands of records, ledger rows and vouchers
HEAVY_RECORDS = (6000, 3000, 1500)
BENCH_CUSTOMER = "bench-customer"  # signs in to the Account Center as the heaviest customer
TOPPED_UP = [
    "customers_customer", "customers_association", "customers_associationrequest", "customers_ledgerentry",
    "customers_voucher", "customers_invitation", "customers_reservedinstance", "audit_operationrecord",
    "organization_user",
]
# The distributor's webhook endpoints and their delivery log, and its finished batches.
WEBHOOK_ENDPOINTS = (
    ("https://erp.great-wall-cloud.example.com/webhooks/partner-center", "ERP: every event", None),
    ("https://crm.great-wall-cloud.example.com/pc/events", "CRM: associations and funds",
     ["association.created", "association.ended", "association.switched", "funds.allocated", "funds.recovered"]),
)
DELIVERIES = 200_000  # over 30 days; the CRM endpoint gets a third of the events it wants, the ERP the rest
DELIVERY_DAYS = 30
# (action, rows, refused one in, status): the 10,000-row budget batch, two smaller done ones
# and one cancelled half-way (its other rows still pending).
BATCHES = (("budget", 10_000, 40, "done"), ("freeze", 120, 6, "done"), ("manager", 800, 0, "done"),
           ("unfreeze", 2_000, 10, "cancelled"))
WEBHOOKS_AND_BATCHES = ["webhooks_endpoint", "webhooks_delivery", "customers_batch", "customers_batchrow"]
PROJECTS_ONE_IN = 80  # the distributor registers a project for one active customer in 80 (2,500 at full scale)
PROJECTS = ["customers_projectregistration"]


def _empty(conn, table: str, where: str = "TRUE") -> bool:
    return not conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(
        sql.Identifier(table), sql.SQL(where))).fetchone()[0]


def heavy_customers(conn) -> list[int]:
    """The distributor's first reseller customers: the ones the top-up gives a long history."""
    return [r[0] for r in conn.execute(
        "SELECT customer_id FROM customers_association WHERE partner_id = %s AND status = 'active' "
        "AND type = 'reseller' ORDER BY customer_id LIMIT %s", [DISTRIBUTOR_ID, HEAVY_CUSTOMERS]).fetchall()]


def top_up(conn, customers: int, started: float) -> None:
    """Fill what the first load left empty, in one set-based statement per table; each step
    runs only while its table (or its part of it) is still empty, so running it again does
    nothing. Foreign keys stay checked: these tables are small next to the first load."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '256MB'")
    first = conn.execute("SELECT coalesce(max(id), 0) FROM customers_customer").fetchone()[0]
    cjk = customers // 20  # one customer in twenty registered under a Chinese name
    if _empty(conn, "customers_customer", "name LIKE '%公司' OR name LIKE '%工作室'"):
        with conn.transaction():
            conn.execute(sql.SQL("""
                INSERT INTO customers_customer (id, account_name, name, email, registered_at, has_consumption,
                    enterprise_role, enterprise_master_id, financially_hosted, arrears, postpaid, invoice_owed,
                    special_contract, frozen, orders_awaiting_partner_payment, cash_balance, cash_withdraw_only,
                    allocated_balance, manager_id, user_id)
                SELECT i, {syl1} || {syl2} || '-' || to_hex(i * 40503 + 1048576),
                       CASE WHEN i % 4 = 0 THEN {surname} || {given}
                            ELSE {city} || {b1} || {b2} || {industry} || {suffix} END,
                       CASE WHEN i % 2 = 0 THEN {syl1} || {syl2} || (i % 10000) || '@' || {free}
                            ELSE 'contact@' || {syl1} || {syl2} || '-' || (i % 1000) || '.cn' END,
                       now() - (i % 86400) * interval '1 minute', i % 10 <> 0, 'none', NULL, false,
                       CASE WHEN i % 31 = 0 THEN (i % 500) + 0.5 ELSE 0 END,
                       i % 7 = 0, i % 13 = 0, i % 211 = 0, i % 97 = 0, 0,
                       (abs(hashint8extended(i, 9)) % 1000000) / 100.0, false, 0,
                       CASE WHEN abs(hashint8extended(i, 8)) % 5 < 2 THEN {manager} END, NULL
                FROM generate_series({low}::bigint, {high}) i
            """).format(
                surname=pick(text_array(CN_SURNAMES), len(CN_SURNAMES), "i", 41),
                given=pick(text_array(CN_GIVEN), len(CN_GIVEN), "i", 42),
                city=pick(text_array(CN_CITIES), len(CN_CITIES), "i", 43),
                b1=pick(text_array(CN_BRAND), len(CN_BRAND), "i", 44),
                b2=pick(text_array(CN_BRAND), len(CN_BRAND), "i", 45),
                industry=pick(text_array(CN_INDUSTRIES), len(CN_INDUSTRIES), "i", 46),
                suffix=pick(text_array(CN_SUFFIXES), len(CN_SUFFIXES), "i", 47),
                syl1=pick(text_array(SYLLABLES), len(SYLLABLES), "i", 48),
                syl2=pick(text_array(SYLLABLES), len(SYLLABLES), "i", 49),
                free=pick(text_array(FREE_MAIL), len(FREE_MAIL), "i", 50),
                manager=sql.SQL(member_id(partner_of("i"), "2 + i % 4")),
                low=sql.Literal(first + 1), high=sql.Literal(first + cjk),
            ))
            conn.execute(sql.SQL("""
                INSERT INTO customers_association (partner_id, customer_id, type, status, origin, started_at,
                    ended_at, end_reason)
                SELECT {partner}, i,
                       CASE WHEN abs(hashint8extended(i, 5)) % 10 < 3 THEN 'reseller' ELSE 'referral' END,
                       'active', CASE WHEN i % 3 = 0 THEN 'public_link' ELSE 'invitation' END,
                       c.registered_at + interval '2 days', NULL, ''
                FROM generate_series({low}::bigint, {high}) i JOIN customers_customer c ON c.id = i
            """).format(partner=sql.SQL(partner_of("i")), low=sql.Literal(first + 1), high=sql.Literal(first + cjk)))
        log(f"{cjk:,} customers with Chinese names and their associations", started)

    heavy = heavy_customers(conn)
    heavy_list = sql.SQL(", ").join(sql.Literal(h) for h in heavy)
    if _empty(conn, "customers_associationrequest"):
        with conn.transaction():
            # One association in a hundred has an open request (a few already past their
            # deadline, waiting for the expiry job), each submitted at its own second of the
            # last 176 hours as people submit them (not twelve shared instants, whose ties made
            # the home's to-do statement read every partner's requests of one deadline); one in
            # twelve has closed ones.
            conn.execute(sql.SQL("""
                INSERT INTO customers_associationrequest (kind, status, target_type, reason, created_at, deadline,
                    handled_at, response_reason, failure_codes, association_id, handled_by_id, requested_by_id)
                SELECT kind, req_status, CASE WHEN kind = 'switch' THEN
                           CASE WHEN a.type = 'reseller' THEN 'referral' ELSE 'reseller' END ELSE '' END,
                       {reason}, created, created + interval '7 days',
                       CASE WHEN req_status <> 'pending' THEN created + (1 + h % 6) * interval '1 day' END,
                       '', '[]'::jsonb, a.id, NULL,
                       CASE WHEN kind <> 'dissociation' THEN {member} END
                FROM (SELECT a.*, abs(hashint8extended(a.id, 60)) AS h, n,
                             CASE WHEN n = 0 AND abs(hashint8extended(a.id, 60)) % 100 = 0 THEN 'pending'
                                  ELSE ({closed})[1 + (abs(hashint8extended(a.id, 61 + n)) % 6)] END AS req_status
                      FROM customers_association a
                      CROSS JOIN LATERAL generate_series(0, CASE WHEN a.customer_id IN ({heavy}) THEN 40 ELSE 0 END) n
                      WHERE a.status = 'active' AND (abs(hashint8extended(a.id, 60)) % 100 = 0
                            OR abs(hashint8extended(a.id, 62)) % 12 = 0 OR a.customer_id IN ({heavy}))) a
                CROSS JOIN LATERAL (SELECT ({kinds})[1 + (a.h + a.n) % 3] AS kind,
                    CASE WHEN a.req_status = 'pending'
                         THEN now() - (abs(hashint8extended(a.id, 64)) % 633600) * interval '1 second'
                         ELSE now() - (8 + (a.h + a.n * 37) % 900) * interval '1 day' END AS created) k
            """).format(
                reason=pick(text_array(REASONS), len(REASONS), "a.id", 63),
                member=sql.SQL(member_id("a.partner_id", "1 + a.h % 5")),
                closed=text_array(["confirmed", "approved", "rejected", "cancelled", "expired", "auto_approved"]),
                kinds=text_array(["switch", "unbind", "dissociation"]), heavy=heavy_list,
            ))
        log("association requests, pending and closed", started)
    # The triggers of customers migration 0010 keep Association.has_pending_request; this
    # sets it whether or not they ran (a load with session_replication_role = replica skips them).
    conn.execute("""
        UPDATE customers_association a SET has_pending_request = EXISTS (
            SELECT 1 FROM customers_associationrequest r WHERE r.association_id = a.id AND r.status = 'pending')
        WHERE a.has_pending_request IS DISTINCT FROM EXISTS (
            SELECT 1 FROM customers_associationrequest r WHERE r.association_id = a.id AND r.status = 'pending')
    """)
    # Likewise Association.customer_frozen, the customer's flag copied by the triggers of 0016.
    conn.execute("""
        UPDATE customers_association a SET customer_frozen = c.frozen FROM customers_customer c
        WHERE c.id = a.customer_id AND a.customer_frozen IS DISTINCT FROM c.frozen
    """)

    if _empty(conn, "customers_ledgerentry"):
        with conn.transaction():
            # The partners' own top-ups, monthly over three years; then allocations and recoveries
            # for reseller customers (three in ten none, most a few, the heavy ones thousands).
            conn.execute("""
                INSERT INTO customers_ledgerentry (kind, amount, actor_name, partner_balance_after,
                    customer_balance_after, idempotency_key, created_at, actor_id, customer_id, partner_id)
                SELECT 'top_up', 50000, 'Vendor billing', p.balance, NULL, NULL,
                       now() - m * interval '1 month', NULL, NULL, p.id
                FROM organization_partner p CROSS JOIN generate_series(1, 36) m
            """)
            conn.execute(sql.SQL("""
                INSERT INTO customers_ledgerentry (kind, amount, actor_name, partner_balance_after,
                    customer_balance_after, idempotency_key, created_at, actor_id, customer_id, partner_id)
                SELECT CASE WHEN n % 4 = 3 THEN 'recovery' ELSE 'allocation' END,
                       100 + abs(hashint8extended(a.id * 7 + n, 70)) % 5000, {display},
                       50000 + abs(hashint8extended(a.id + n, 71)) % 100000,
                       abs(hashint8extended(a.id + n, 72)) % 20000,
                       NULL, now() - (n + 1) * interval '7 hours' - (a.id % 86400) * interval '1 second',
                       {member}, a.customer_id, a.partner_id
                FROM customers_association a
                CROSS JOIN LATERAL generate_series(0, CASE WHEN a.customer_id IN ({heavy}) THEN 2999
                    ELSE abs(hashint8extended(a.id, 73)) % 5 - 2 END) n
                WHERE a.status = 'active' AND a.type = 'reseller'
            """).format(display=display_name(member_id("a.partner_id", "1")),
                        member=sql.SQL(member_id("a.partner_id", "1")), heavy=heavy_list))
        log("ledger entries", started)

    if _empty(conn, "customers_voucher"):
        with conn.transaction():
            conn.execute(sql.SQL("""
                INSERT INTO customers_voucher (amount, expires_at, status, issued_at, recovered_at, idempotency_key,
                    customer_id, issued_by_id, partner_id)
                SELECT 50 + abs(hashint8extended(a.id + n, 80)) % 950, issued + interval '180 days',
                       CASE WHEN issued + interval '180 days' < now() OR n % 3 = 1 THEN 'used'
                            WHEN n % 7 = 2 THEN 'recovered' ELSE 'unused' END,
                       issued, CASE WHEN issued + interval '180 days' >= now() AND n % 3 <> 1 AND n % 7 = 2
                                    THEN issued + interval '30 days' END,
                       NULL, a.customer_id, {member}, a.partner_id
                FROM customers_association a
                CROSS JOIN LATERAL generate_series(0, CASE WHEN a.customer_id IN ({heavy}) THEN 499
                    ELSE abs(hashint8extended(a.id, 81)) % 4 - 2 END) n
                CROSS JOIN LATERAL (SELECT now() - (abs(hashint8extended(a.id + n, 82)) % 700) * interval '1 day'
                                    AS issued) i
                WHERE a.status = 'active' AND a.type = 'reseller'
            """).format(member=sql.SQL(member_id("a.partner_id", "1")), heavy=heavy_list))
        log("vouchers", started)

    if _empty(conn, "customers_invitation"):
        with conn.transaction():
            # About one invitation for every fifty customers, most of them long settled.
            conn.execute(sql.SQL("""
                INSERT INTO customers_invitation (email, name, type, language, nonce, status, sent_at, expires_at,
                    handled_at, created_by_id, customer_id, partner_id, superseded_by_id)
                SELECT 'invitee' || j || '@' || {free}, {core} || ' ' || {industry},
                       CASE WHEN j % 3 = 0 THEN 'reseller' ELSE 'referral' END,
                       CASE WHEN j % 2 = 0 THEN 'zh-hans' ELSE 'en' END,
                       md5('bench-invitation-' || j), status, sent, sent + interval '14 days',
                       CASE WHEN status IN ('accepted', 'declined', 'revoked') THEN sent + interval '2 days' END,
                       {member}, NULL, p, NULL
                FROM (SELECT j, {partner} AS p,
                             now() - (abs(hashint8extended(j, 90)) % 1000) * interval '1 day'
                                 - (j % 86400) * interval '1 second' AS sent
                      FROM generate_series(1, {n}::bigint) j) s
                CROSS JOIN LATERAL (SELECT CASE WHEN s.sent > now() - interval '14 days'
                    THEN ({open})[1 + s.j % 3] ELSE ({closed})[1 + s.j % 4] END AS status) st
            """).format(
                free=pick(text_array(FREE_MAIL), len(FREE_MAIL), "j", 91),
                core=pick(text_array(CORES), len(CORES), "j", 92),
                industry=pick(text_array(INDUSTRIES), len(INDUSTRIES), "j", 93),
                member=sql.SQL(member_id("p", "1")), partner=sql.SQL(partner_of("j")), n=sql.Literal(customers // 50),
                open=text_array(["sent", "sent", "accepted"]),
                closed=text_array(["accepted", "expired", "declined", "revoked"]),
            ))
        log("invitations", started)

    if _empty(conn, "customers_reservedinstance"):
        with conn.transaction():
            # One reseller customer in twenty holds reserved instances, some still running.
            conn.execute(sql.SQL("""
                INSERT INTO customers_reservedinstance (resource, expires_at, customer_id)
                SELECT {resource}, now() + ((abs(hashint8extended(a.id + n, 101)) % 1000) - 400) * interval '1 day',
                       a.customer_id
                FROM customers_association a
                CROSS JOIN LATERAL generate_series(1, 1 + abs(hashint8extended(a.id, 102)) % 3) n
                WHERE a.status = 'active' AND a.type = 'reseller'
                  AND (abs(hashint8extended(a.id, 100)) % 20 = 0 OR a.customer_id IN ({heavy}))
            """).format(resource=pick(text_array(RESOURCES), len(RESOURCES), "a.id + n", 103), heavy=heavy_list))
        log("reserved instances", started)

    few = conn.execute("SELECT count(*) FROM audit_operationrecord WHERE customer_id = %s", [heavy[0]]).fetchone()[0]
    if few < HEAVY_RECORDS[0]:
        with conn.transaction():
            for customer, count in zip(heavy, HEAVY_RECORDS, strict=False):
                conn.execute(sql.SQL("""
                    INSERT INTO audit_operationrecord (created_at, partner_id, customer_id, association_id,
                        association_request_id, category, event, actor_id, actor_kind, actor_name, ip, request_id,
                        reason, before, after)
                    SELECT now() - j * interval '4 hours', a.partner_id, a.customer_id, a.id, NULL,
                           split_part(ev, ':', 2), split_part(ev, ':', 1), {member}, 'member', {display},
                           '10.9.9.9'::inet, md5('heavy-' || a.customer_id || '-' || j), '', '{{}}'::jsonb,
                           '{{}}'::jsonb
                    FROM customers_association a CROSS JOIN generate_series(1, {count}) j
                    CROSS JOIN LATERAL (SELECT ({events})[1 + j % 4] AS ev) e
                    WHERE a.customer_id = {customer} AND a.status = 'active'
                """).format(
                    member=sql.SQL(member_id("a.partner_id", "1")),
                    display=display_name(member_id("a.partner_id", "1")),
                    events=text_array(["funds.allocated:funds", "voucher.issued:voucher", "funds.recovered:funds",
                                       "customer.updated:association"]),
                    count=sql.Literal(count), customer=sql.Literal(customer),
                ))
        log(f"thousands of operation records for customers {heavy}", started)

    if _empty(conn, "organization_user", f"username = '{BENCH_CUSTOMER}'"):
        from django.contrib.auth.hashers import make_password

        with conn.transaction():
            uid = conn.execute("""
                INSERT INTO organization_user (password, is_superuser, username, kind, member_name, display_name,
                    email, mobile, language, is_partner_admin, is_active, is_staff, date_joined, partner_id, time_zone)
                SELECT %s, false, %s, 'customer', '', c.name, c.email, '', '', false, true, false, c.registered_at,
                       NULL, ''
                FROM customers_customer c WHERE c.id = %s RETURNING id
            """, [make_password(PASSWORD), BENCH_CUSTOMER, heavy[0]]).fetchone()[0]
            conn.execute("UPDATE customers_customer SET user_id = %s WHERE id = %s", [uid, heavy[0]])
        log(f"customer user {BENCH_CUSTOMER} for customer {heavy[0]}", started)
    for table in ["customers_customer", "customers_association", "organization_user"]:
        conn.execute(sql.SQL(
            "SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT coalesce(max(id), 1) FROM {i}))"
        ).format(t=sql.Literal(table), i=sql.Identifier(table)))
    webhooks_and_batches(conn, customers, started)
    projects(conn, started)
    log("VACUUM (ANALYZE) of the topped-up tables", started)
    for table in TOPPED_UP + WEBHOOKS_AND_BATCHES + PROJECTS:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def webhooks_and_batches(conn, customers: int, started: float) -> None:
    """The distributor's webhook endpoints with a month's delivery log (mostly delivered, some
    failed, a few still queued or being sent), and its batches (a 10,000-row monthly budget
    among them), each only while the distributor has none. Rows only: no customer is changed
    by these batches, and no worker is asked to send the deliveries (the queued ones are due
    an hour or more later, so a worker started on this database meanwhile finds little)."""
    admin = member_id(str(DISTRIBUTOR_ID), 1)
    if _empty(conn, "webhooks_endpoint", f"partner_id = {DISTRIBUTOR_ID}"):
        with conn.transaction():
            for n, (url, description, events) in enumerate(WEBHOOK_ENDPOINTS):
                conn.execute(sql.SQL("""
                    INSERT INTO webhooks_endpoint (partner_id, url, description, all_events, events, secret, is_active,
                        disabled_reason, failing_since, created_at, created_by_id, secret_rotated_at)
                    VALUES ({dist}, {url}, {description}, {all}, {events}::jsonb,
                            'whsec_' || encode(sha256({url}::bytea), 'base64'), true, '', NULL,
                            now() - interval '200 days' + {n} * interval '40 days', {admin}, NULL)
                """).format(dist=sql.Literal(DISTRIBUTOR_ID), url=sql.Literal(url),
                            description=sql.Literal(description), all=sql.Literal(events is None),
                            events=sql.Literal(json.dumps(events or [])),
                            n=sql.Literal(n), admin=sql.SQL(admin)))
        log(f"{len(WEBHOOK_ENDPOINTS)} webhook endpoints of bench-dist", started)
    ends = [r[0] for r in conn.execute(
        "SELECT id FROM webhooks_endpoint WHERE partner_id = %s ORDER BY id LIMIT 2", [DISTRIBUTOR_ID]).fetchall()]
    deliveries = max(int(DELIVERIES * customers / 1_000_000), 1000)
    where = f"endpoint_id IN ({', '.join(map(str, ends))})"
    if len(ends) == 2 and _empty(conn, "webhooks_delivery", where):
        weighted = [(e, c) for e, c, w in EVENTS for _ in range(w)]
        wanted = WEBHOOK_ENDPOINTS[1][2]
        with conn.transaction():
            # j in time order, so ids follow created_at as they do live. One event in three also
            # goes to the CRM endpoint when it wants it (two rows with one event id).
            conn.execute(sql.SQL("""
                INSERT INTO webhooks_delivery (endpoint_id, event_id, event, record_id, body, status, attempts,
                    created_at, due_at, retry_from, claimed_at, last_attempt_at, delivered_at, status_code, latency_ms,
                    last_error, task_id)
                SELECT CASE WHEN j % 3 = 0 AND ev = ANY({wanted}) THEN {crm} ELSE {erp} END,
                       'evt_' || md5('bench-delivery-' || j), ev, NULL,
                       '{{"id":"evt_' || md5('bench-delivery-' || j) || '","type":"' || ev || '","timestamp":"'
                           || to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                           || '","data":{{"id":' || (5000000 + j) || ',"created_at":"'
                           || to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                           || '","event":"' || ev || '","category":"' || category
                           || '","customer_id":' || c || ',"actor_kind":"member","actor_name":"'
                           || {display} || '","reason":"","partner_id":{dist},"association_id":' || c
                           || ',"association_request_id":null,"request_id":"' || md5(j::text)
                           || '","before":{{}},"after":{{"allocated_balance":"' || (j % 9000) || '.00"}}}}}}',
                       status, attempts, created,
                       CASE WHEN status = 'queued' THEN now() + (1 + j % 6) * interval '1 hour' END, created,
                       CASE WHEN status = 'sending' THEN now() - interval '5 seconds' END,
                       created + (attempts - 1) * interval '30 minutes' + latency * interval '1 millisecond',
                       CASE WHEN status = 'delivered' THEN created + (attempts - 1) * interval '30 minutes'
                                                         + latency * interval '1 millisecond' END,
                       CASE WHEN status = 'delivered' THEN ({ok})[1 + j % 3]
                            WHEN j % 4 = 0 THEN NULL ELSE ({bad})[1 + j % 4] END,
                       CASE WHEN status = 'failed' AND j % 4 = 0 THEN NULL ELSE latency END,
                       CASE WHEN status IN ('delivered', 'sending') THEN ''
                            WHEN j % 4 = 0 THEN 'Timed out after 10 seconds'
                            ELSE 'The endpoint answered with status ' || ({bad})[1 + j % 4] END,
                       ''
                FROM (SELECT j, {event} AS ev, {category} AS category,
                             now() - ({n} - j) * ({days} * interval '1 day' / {n}) AS created,
                             5 * (1 + abs(hashint8extended(j, 120)) % {q}) AS c,
                             20 + abs(hashint8extended(j, 121)) % 400 + CASE WHEN j % 50 = 0 THEN 2000 ELSE 0 END
                                 AS latency,
                             CASE WHEN j > {n} - 40 THEN (ARRAY['queued', 'sending'])[1 + j % 2]
                                  WHEN abs(hashint8extended(j, 122)) % 100 < 4 THEN 'failed'
                                  -- still being retried: only within the last three days
                                  WHEN abs(hashint8extended(j, 122)) % 100 < 5 AND j > {n} - {n} / 10 THEN 'queued'
                                  ELSE 'delivered' END AS status
                      FROM generate_series(1, {n}::bigint) j) d
                CROSS JOIN LATERAL (SELECT CASE d.status WHEN 'failed' THEN 8
                    WHEN 'delivered' THEN 1 + (abs(hashint8extended(j, 123)) % 10) / 8
                    ELSE 1 + j % 2 END AS attempts) a
            """).format(
                wanted=text_array(wanted), crm=sql.Literal(ends[1]), erp=sql.Literal(ends[0]),
                display=display_name(admin), dist=sql.Literal(DISTRIBUTOR_ID), ok=sql.SQL("ARRAY[200, 202, 204]"),
                bad=sql.SQL("ARRAY[500, 502, 503, 404]"),
                event=pick(text_array([e for e, _c in weighted]), len(weighted), "j", 124),
                category=pick(text_array([c for _e, c in weighted]), len(weighted), "j", 124),
                n=sql.Literal(deliveries), days=sql.Literal(DELIVERY_DAYS), q=sql.Literal(customers // 5),
            ))
        log(f"{deliveries:,} webhook deliveries over {DELIVERY_DAYS} days", started)
    if _empty(conn, "customers_batch", f"partner_id = {DISTRIBUTOR_ID}"):
        with conn.transaction():
            offset = 0
            for n, (action, rows, refused, status) in enumerate(BATCHES):
                rows = min(rows, customers // 20)
                batch = conn.execute(sql.SQL("""
                    INSERT INTO customers_batch (partner_id, created_by_id, action, reason, amount, manager_id, status,
                        total, created_at, heartbeat_at, finished_at)
                    VALUES ({dist}, {admin}, {action}, {reason}, {amount}, {manager}, {status}, {rows},
                            now() - {ago} * interval '1 day',
                            now() - {ago} * interval '1 day' + {rows} * interval '50 ms',
                            now() - {ago} * interval '1 day' + {rows} * interval '50 ms')
                    RETURNING id
                """).format(
                    dist=sql.Literal(DISTRIBUTOR_ID), admin=sql.SQL(admin), action=sql.Literal(action),
                    reason=sql.Literal("" if action in ("budget", "manager") else "Overdue invoices, quarter end"),
                    amount=sql.Literal(500 if action == "budget" else None),
                    manager=sql.SQL(member_id(str(DISTRIBUTOR_ID), 2) if action == "manager" else "NULL"),
                    status=sql.Literal(status), rows=sql.Literal(rows), ago=sql.Literal(12 - 3 * n),
                )).fetchone()[0]
                # The distributor's reseller customers in order, each batch its own stretch of them.
                conn.execute(sql.SQL("""
                    INSERT INTO customers_batchrow (batch_id, customer_id, outcome, message, processed_at)
                    SELECT {batch}, customer_id,
                           CASE WHEN {cancelled} AND k > {rows} / 2 THEN 'pending'
                                WHEN {refused} > 0 AND k % {refused} = 0 THEN 'refused' ELSE 'changed' END,
                           CASE WHEN {cancelled} AND k > {rows} / 2 THEN ''
                                WHEN {refused} > 0 AND k % {refused} = 0 THEN {message} ELSE '' END,
                           CASE WHEN NOT ({cancelled} AND k > {rows} / 2)
                                THEN b.created_at + k * interval '50 ms' END
                    FROM (SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS k
                          FROM (SELECT customer_id FROM customers_association
                                WHERE partner_id = {dist} AND status = 'active' AND type = 'reseller'
                                ORDER BY customer_id OFFSET {offset} LIMIT {rows}) s) r
                    CROSS JOIN customers_batch b WHERE b.id = {batch}
                """).format(
                    batch=sql.Literal(batch), cancelled=sql.Literal(status == "cancelled"), rows=sql.Literal(rows),
                    refused=sql.Literal(refused), dist=sql.Literal(DISTRIBUTOR_ID), offset=sql.Literal(offset),
                    message=sql.Literal({"budget": "The monthly budget is already USD 500.00.",
                                         "freeze": "This customer account is already frozen.",
                                         "unfreeze": "This customer account is not frozen."}.get(action, "")),
                ))
                total = conn.execute("UPDATE customers_batch SET total = (SELECT count(*) FROM customers_batchrow "
                                     "WHERE batch_id = %s) WHERE id = %s RETURNING total", [batch, batch]).fetchone()[0]
                offset += total
        log(f"{len(BATCHES)} batches of bench-dist, up to {BATCHES[0][1]:,} rows", started)


def projects(conn, started: float) -> None:
    """The distributor's project registrations (Sales › Leads), only while it has none: one
    active customer in :data:`PROJECTS_ONE_IN`, submitted over two years by its admin in time
    order (so ids follow ``submitted_at``), most of the older ones reviewed."""
    if not _empty(conn, "customers_projectregistration", f"partner_id = {DISTRIBUTOR_ID}"):
        return
    admin = member_id(str(DISTRIBUTOR_ID), 1)
    with conn.transaction():
        n = conn.execute(sql.SQL("""
            INSERT INTO customers_projectregistration (partner_id, customer_id, name, expected_amount, expected_close,
                description, status, submitted_by_id, submitted_at, reviewed_at, review_reason)
            SELECT {dist}, customer_id, {core} || ' ' || {kind} || ' migration', 5000 + h % 200 * 1000,
                   (submitted + interval '90 days')::date, 'Moving the customer''s workloads to the vendor''s cloud',
                   status, {admin}, submitted, CASE WHEN status <> 'submitted' THEN submitted + interval '5 days' END,
                   CASE WHEN status = 'rejected' THEN 'Already registered by another partner' ELSE '' END
            FROM (SELECT customer_id, abs(hashint8extended(customer_id, 131)) AS h,
                         now() - (abs(hashint8extended(customer_id, 132)) % 730) * interval '1 day'
                             - (customer_id % 86400) * interval '1 second' AS submitted
                  FROM customers_association
                  WHERE partner_id = {dist} AND status = 'active'
                    AND abs(hashint8extended(customer_id, 130)) % {one_in} = 0) c
            CROSS JOIN LATERAL (SELECT CASE WHEN c.submitted > now() - interval '14 days' OR c.h % 5 = 0
                                            THEN 'submitted' WHEN c.h % 5 = 1 THEN 'rejected'
                                            ELSE 'approved' END AS status) st
            ORDER BY submitted
        """).format(
            dist=sql.Literal(DISTRIBUTOR_ID), admin=sql.SQL(admin), one_in=sql.Literal(PROJECTS_ONE_IN),
            core=pick(text_array(CORES), len(CORES), "customer_id", 133),
            kind=pick(text_array(["ERP", "CRM", "data warehouse", "e-commerce", "game servers", "video"]), 6,
                      "customer_id", 134),
        )).rowcount
    log(f"{n:,} project registrations of bench-dist", started)


def recount_day_counts(conn, started: float) -> None:
    """The home's day counts (customers migration 0010) are kept by triggers, which the first
    load turns off (``session_replication_role = replica``): count every row again, as the
    migration does, in one transaction. Idempotent; a few seconds at a million customers."""
    import importlib

    migration = importlib.import_module("customers.migrations.0011_partner_day_counts")
    with conn.transaction():
        for statement in migration.recount_statements():
            conn.execute(statement)
    conn.execute("VACUUM (ANALYZE) customers_partnerdaycount")
    log("home day counts recounted", started)


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
            log("customers and records already loaded (use --reset to load them again); topping up", started)
        else:
            load(conn, customers, records, started)
            log("VACUUM (ANALYZE)", started)
            conn.execute("VACUUM (ANALYZE)")
        top_up(conn, customers, started)
        recount_day_counts(conn, started)
        sizes = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    log(f"done: {customers:,} customers, {records:,} operation records, database {sizes}", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
