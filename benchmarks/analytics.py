"""Analytics benchmark: standard statistics through the HTTP API from the count tables, against DuckDB.

    .venv/bin/python benchmarks/analytics.py                         # 10,000,000 cases (hours to generate)
    .venv/bin/python benchmarks/analytics.py --count 1000000 --reuse

Steps, all in one run:

1. a disposable PostgreSQL database (default postgres://postgres@127.0.0.1:5432/qf_analytics_bench),
   migrated, with the office tree; `generate_cases` tops it up to --count cases (the generator
   bypasses the services, so `rebuild_counts` then fills the count tables: its time is reported);
2. the server as production runs it (gunicorn, DEBUG off) and analysts' tokens at national,
   province and county level (the province and county with most cases);
3. p50/p95 latency over HTTP of the standard statistics (`/api/v1/analytics/statistics/`: every
   standard statistic at once), the monthly trend, a breakdown by month and the daily series,
   for a month, a quarter and a year, at each scope;
4. the same standard statistics computed by DuckDB (in-process, columnar, all cores) straight
   from the case rows, exported once from PostgreSQL with COPY (no DuckDB extension is
   downloaded); both answers' totals are compared.

Target (issue 6): every standard statistic p95 <= 50 ms through the API, faster than DuckDB's scan.
"""

from __future__ import annotations

import argparse
import calendar
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = "qingfeng.settings"
WARM_UP = 5  # untimed requests per endpoint first: connections, caches and the database's buffers
PY = sys.executable

from _common import Server, ensure_database, manage, pct  # noqa: E402


def setup(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        QINGFENG_DEBUG="0",
        QINGFENG_CONN_MAX_AGE="600",
        QINGFENG_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    os.environ.update(env)
    import django

    django.setup()
    return env


def case_count() -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM cases_case")
        return int(c.fetchone()[0])


def users() -> dict[str, dict[str, Any]]:
    from django.db.models import Sum
    from rest_framework.authtoken.models import Token

    from qingfeng.accounts.models import Role, User
    from qingfeng.analytics.models import DayCount
    from qingfeng.offices.models import Office

    out = {}
    for label, level in (("national", 0), ("province", 1), ("county", 3)):
        row = (
            DayCount.objects.filter(office__level=level).values("office_id").annotate(t=Sum("n")).order_by("-t").first()
        )
        if row is None:
            raise SystemExit("no counts: run rebuild_counts")
        office = Office.objects.get(pk=row["office_id"])
        user, _ = User.objects.get_or_create(username=f"bench_analyst_{label}", defaults={"office": office})
        user.office = office
        user.save()
        user.roles.get_or_create(role=Role.ANALYST)
        token, _ = Token.objects.get_or_create(user=user)
        out[label] = {"token": token.key, "office": office, "cases": row["t"], "session": session_for(user)}
    return out


def session_for(user: Any) -> str:
    """A logged-in session cookie, to time the dashboard page the way a browser loads it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def periods(today: date) -> dict[str, tuple[date, date]]:
    last_full = today.replace(day=1) - timedelta(days=1)
    month = (last_full.replace(day=1), last_full)
    q_end = last_full
    q_start = (q_end.replace(day=1) - timedelta(days=62)).replace(day=1)
    year = (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    return {"month": month, "quarter": (q_start, q_end), "year": year}


def get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[int, bytes]:
    if path.startswith("/analytics/"):
        headers = {"Cookie": f"sessionid={token}"}
    else:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


# A special topic for the benchmark (defined through the service, tagged like an analyst's).
TOPIC = {
    "code": "bench-food-safety",
    "name": "食品安全（基准）",
    "keywords": ["食品", "食堂", "餐饮", "农药"],
}


def ensure_topic() -> tuple[str, float | None]:
    """The benchmark topic's code, and how long tagging the existing cases took (None: it was there)."""
    from qingfeng.accounts.models import User
    from qingfeng.analytics.models import Topic
    from qingfeng.analytics.topics import tag_existing, topic_save

    topic = Topic.objects.filter(code=TOPIC["code"]).first()
    if topic is not None and topic.tagged_at is not None:
        return topic.code, None
    actor = User.objects.get(username="bench_analyst_national")
    t0 = time.perf_counter()
    if topic is None:
        topic = topic_save(actor=actor, **TOPIC)  # type: ignore[arg-type]
    topic.refresh_from_db()
    if topic.tagged_at is None:  # a broker took the task: tag here, as the worker would
        tag_existing(topic.pk)
    return topic.code, time.perf_counter() - t0


def bench_api(
    port: int, who: dict[str, dict[str, Any]], spans: dict[str, tuple[date, date]], n: int, topic: str | None = None
) -> list[dict]:
    endpoints = {
        "standard statistics": "/api/v1/analytics/statistics/",
        "monthly trend": "/api/v1/analytics/trend/",
        "category by month": "/api/v1/analytics/trend/?dimension=category",
        "daily series": "/api/v1/analytics/daily/",
        "dashboard page (HTML)": "/analytics/",
    }
    if topic:
        endpoints["topic statistics"] = f"/api/v1/analytics/topics/{topic}/statistics/"
        endpoints["topic page (HTML)"] = f"/analytics/topics/{topic}/"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rows = []
    for label, user in who.items():
        for pname, (a, b) in spans.items():
            for ename, base in endpoints.items():
                sep = "&" if "?" in base else "?"
                path = f"{base}{sep}office={user['office'].code}&from={a}&to={b}"
                cred = user["session"] if base.startswith("/analytics/") else user["token"]
                status, body = get(conn, path, cred)
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status} {body[:300]!r}")
                total = json.loads(body).get("totals", {}).get("received") if ename == "standard statistics" else None
                for _ in range(WARM_UP):
                    get(conn, path, cred)
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    status, _ = get(conn, path, cred)
                    samples.append((time.perf_counter() - t0) * 1000)
                rows.append(
                    {
                        "scope": label,
                        "period": pname,
                        "what": ename,
                        "p50": pct(samples, 50),
                        "p95": pct(samples, 95),
                        "total": total,
                    }
                )
    return rows


EXPORT = """
COPY (
  SELECT c.id, h.path AS holding_path, r.path AS received_path,
         (c.received_at AT TIME ZONE %(tz)s)::date AS day,
         c.channel, c.source, c.item_type, c.status, c.is_repeat, c.is_real_name, c.disposal_way,
         c.concluded_at IS NOT NULL AS concluded, c.problem_solved, c.satisfaction, c.next_due, c.next_serious_on,
         COALESCE(c.accept_due, c.screening_due) AS accept_due, acc.first_accept,
         cat.codes AS categories, tag.codes AS tags, COALESCE(party.rank, '') AS rank,
         CASE WHEN rep.id_number_hash <> '' THEN 'i:' || rep.id_number_hash
              WHEN rep.phone_hash <> '' THEN 'p:' || rep.phone_hash
              WHEN rep.name_hash <> '' THEN 'n:' || rep.name_hash
              ELSE 'c:' || c.id END AS person
  FROM cases_case c
  JOIN offices_office h ON h.id = c.holding_office_id
  JOIN offices_office r ON r.id = c.received_office_id
  LEFT JOIN cases_reporter rep ON rep.case_id = c.id
  LEFT JOIN (SELECT case_id, (min(created_at) AT TIME ZONE %(tz)s)::date AS first_accept
             FROM cases_caseevent WHERE action = 'accept' GROUP BY case_id) acc ON acc.case_id = c.id
  LEFT JOIN (SELECT cc.case_id, string_agg(k.code, ',') AS codes FROM cases_case_categories cc
             JOIN cases_category k ON k.id = cc.category_id GROUP BY cc.case_id) cat ON cat.case_id = c.id
  LEFT JOIN (SELECT ct.case_id, string_agg(t.code, ',') AS codes FROM cases_case_tags ct
             JOIN cases_tag t ON t.id = ct.tag_id GROUP BY ct.case_id) tag ON tag.case_id = c.id
  LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, rank FROM cases_reportedparty ORDER BY case_id, id) party
             ON party.case_id = c.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def export_cases(path: Path) -> float:
    from django.conf import settings
    from django.db import connection

    t0 = time.perf_counter()
    sql = EXPORT.replace("%(tz)s", f"'{settings.TIME_ZONE}'")
    with connection.cursor() as cursor, open(path, "wb") as out, cursor.cursor.copy(sql) as copy:
        for chunk in copy:
            out.write(chunk)
    return time.perf_counter() - t0


def duckdb_load(csv_path: Path, parquet: Path) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv_auto('{csv_path}', header=true, sample_size=-1)) TO '{parquet}' (FORMAT parquet)"
    )
    con.execute(f"CREATE TABLE cases AS SELECT * FROM read_parquet('{parquet}')")
    return con


def duckdb_statistics(con: Any, prefix: str, a: date, b: date, today: date) -> dict[str, Any]:
    """The standard statistics of the subtree `prefix` for [a, b], straight from the case rows."""

    def shift(d: date, months: int) -> date:
        i = d.year * 12 + d.month - 1 + months
        y, m = divmod(i, 12)
        return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))

    n_months = (b.year - a.year) * 12 + b.month - a.month + 1
    prev = (shift(a, -n_months), shift(b, -n_months))
    ly = (shift(a, -12), shift(b, -12))
    scope = f"starts_with(holding_path, '{prefix}')"
    totals = con.execute(
        f"""SELECT count(*) FILTER (WHERE day BETWEEN ? AND ?), count(*) FILTER (WHERE day BETWEEN ? AND ?),
                   count(*) FILTER (WHERE day BETWEEN ? AND ?) FROM cases WHERE {scope}""",
        [a, b, *prev, *ly],
    ).fetchone()
    where = f"{scope} AND day BETWEEN '{a}' AND '{b}'"
    inside = f"starts_with(received_path, '{prefix}')"
    origin = f"""CASE WHEN source IN ('transferred', 'assigned') AND NOT {inside} THEN source
                      WHEN source IN ('transferred', 'assigned') THEN 'own_level'
                      WHEN NOT {inside} THEN 'transferred' ELSE source END"""
    child = f"split_part(substr(holding_path, {len(prefix) + 1}), '/', 1)"
    breakdowns = con.execute(
        f"""SELECT channel, item_type, status, rank, is_repeat, is_real_name, disposal_way, {origin} AS origin,
                   {child} AS child, count(*) FROM cases WHERE {where}
            GROUP BY GROUPING SETS ((channel), (item_type), (status), (rank), (is_repeat, is_real_name),
                                    (disposal_way), (origin), (child))"""
    ).fetchall()
    cats = con.execute(
        f"SELECT c, count(*) FROM (SELECT unnest(string_split(categories, ',')) AS c FROM cases WHERE {where}) "
        "GROUP BY c"
    ).fetchall()
    tags = con.execute(
        f"SELECT t, count(*) FROM (SELECT unnest(string_split(tags, ',')) AS t FROM cases WHERE {where}) GROUP BY t"
    ).fetchall()
    other = con.execute(
        f"""SELECT count(DISTINCT person), count(DISTINCT person) FILTER (WHERE NOT is_repeat),
                   count(DISTINCT person) FILTER (WHERE is_repeat),
                   count(first_accept), count(*) FILTER (WHERE first_accept <= accept_due),
                   count(*) FILTER (WHERE concluded), count(problem_solved), count(*) FILTER (WHERE problem_solved),
                   count(*) FILTER (WHERE satisfaction >= 4), count(satisfaction),
                   count(*) FILTER (WHERE next_due < ?), count(*) FILTER (WHERE next_serious_on < ?)
            FROM cases WHERE {where}""",
        [today, today],
    ).fetchone()
    return {
        "received": totals[0],
        "previous": totals[1],
        "last_year": totals[2],
        "rows": len(breakdowns),
        "categories": len(cats),
        "tags": len(tags),
        "persons": other[0],
    }


def bench_duckdb(con: Any, who: dict[str, dict[str, Any]], spans: dict[str, tuple[date, date]], n: int) -> list[dict]:
    today = date.today()
    rows = []
    for label, user in who.items():
        for pname, (a, b) in spans.items():
            result = duckdb_statistics(con, user["office"].path, a, b, today)
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                duckdb_statistics(con, user["office"].path, a, b, today)
                samples.append((time.perf_counter() - t0) * 1000)
            rows.append(
                {
                    "scope": label,
                    "period": pname,
                    "p50": pct(samples, 50),
                    "p95": pct(samples, 95),
                    "total": result["received"],
                }
            )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000_000, help="cases in the database (default 10,000,000)")
    ap.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/qf_analytics_bench")
    ap.add_argument("--reuse", action="store_true", help="keep existing cases and counts when there are enough")
    ap.add_argument("--requests", type=int, default=60, help="timed requests per endpoint, scope and period")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--no-topic", action="store_true", help="skip defining and timing the benchmark special topic")
    args = ap.parse_args()

    ensure_database(args.database)
    env = setup(args.database)
    try:
        manage(env, "migrate", "--noinput", "-v0")
    except subprocess.CalledProcessError:
        # Another app's migration failing must not stop the measurement of this one.
        print("warning: `migrate` failed; migrating the analytics app (and what it depends on) only", flush=True)
        manage(env, "migrate", "analytics", "--noinput", "-v0")
    from qingfeng.offices.models import Office

    if not Office.objects.exists():
        manage(env, "load_offices")
    have = case_count()
    rebuilt = None
    if have < args.count:
        print(f"generating {args.count - have:,} cases (have {have:,})", flush=True)
        manage(env, "generate_cases", "--count", str(args.count - have), "--seed", str(have + 1))
    from qingfeng.analytics.models import DayCount

    counted = sum(DayCount.objects.filter(office__level=0).values_list("n", flat=True))
    cases = case_count()
    if not args.reuse or counted != cases:
        t0 = time.perf_counter()
        manage(env, "rebuild_counts")
        rebuilt = time.perf_counter() - t0
    from django.db import connection

    with connection.cursor() as c:
        c.execute("ANALYZE")
        c.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname LIKE 'analytics_%%count' ORDER BY 1"
        )
        table_rows = c.fetchall()
    print(
        f"\n{cases:,} cases; count tables: " + ", ".join(f"{t.replace('analytics_', '')} {n:,}" for t, n in table_rows)
    )
    if rebuilt is not None:
        print(f"rebuild_counts: {rebuilt:.0f}s")
    who = users()
    topic, tagged = (None, None) if args.no_topic else ensure_topic()
    if topic:
        from qingfeng.analytics.models import TopicMatch

        matched = TopicMatch.objects.filter(topic__code=topic).count()
        took = f", tagged in {tagged:.0f}s" if tagged is not None else ""
        print(f"special topic {topic}: {matched:,} matching cases{took}")
    spans = periods(date.today())
    for label, u in who.items():
        print(f"  {label:<9} {u['office'].code:<8} {u['office'].name}  {u['cases']:,} cases in its subtree")

    server = Server(env, args.workers)
    try:
        api_rows = bench_api(server.port, who, spans, args.requests, topic)
    finally:
        server.stop()

    with tempfile.TemporaryDirectory(prefix="qf-duck-") as tmp:
        csv_path, parquet = Path(tmp) / "cases.csv", Path(tmp) / "cases.parquet"
        export_s = export_cases(csv_path)
        t0 = time.perf_counter()
        con = duckdb_load(csv_path, parquet)
        load_s = time.perf_counter() - t0
        duck_rows = bench_duckdb(con, who, spans, max(10, args.requests // 3))
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"\nDuckDB: export (COPY to CSV) {export_s:.0f}s, load to parquet + table {load_s:.0f}s, {threads} threads")

    head = f"{'scope':<9} {'period':<8} {'what':<22} {'API p50':>8} {'API p95':>8}"
    print(f"\n{head} {'DuckDB p50':>11} {'DuckDB p95':>11}  totals")
    duck = {(r["scope"], r["period"]): r for r in duck_rows}
    ok = True
    for r in api_rows:
        d = duck.get((r["scope"], r["period"])) if r["what"] == "standard statistics" else None
        dcol = f"{d['p50']:>11.1f} {d['p95']:>11.1f}" if d else f"{'':>11} {'':>11}"
        check = ""
        if d:
            same = d["total"] == r["total"]
            check = f"{r['total']:,} = {d['total']:,}" if same else f"{r['total']:,} != {d['total']:,} !!"
            ok &= same and r["p95"] <= 50 and r["p95"] < d["p95"]
        elif "(HTML)" in r["what"]:
            ok &= r["p95"] <= 1000  # "dashboards load in under a second"
        else:
            ok &= r["p95"] <= 50
        print(f"{r['scope']:<9} {r['period']:<8} {r['what']:<22} {r['p50']:>8.1f} {r['p95']:>8.1f} {dcol}  {check}")
    worst = max(r["p95"] for r in api_rows)
    print(f"\nworst API p95 {worst:.1f} ms; median API p50 {statistics.median(r['p50'] for r in api_rows):.1f} ms")
    print("target met (p95 <= 50 ms and below DuckDB, same totals)" if ok else "TARGET NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
