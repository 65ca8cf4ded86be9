"""Case API benchmark: list latency at 1,000,000 cases and registration throughput.

    .venv/bin/python benchmarks/cases_api.py                      # 1,000,000 cases, PostgreSQL
    .venv/bin/python benchmarks/cases_api.py --cases 100000 --reuse

It uses a disposable PostgreSQL database (default postgres://postgres@127.0.0.1:5432/qingfeng_bench,
created if missing): migrates it, loads the office tree, bulk-generates the cases with
`generate_cases` (skipped with --reuse when enough cases are there already), then starts the
server the way production runs it (gunicorn, QINGFENG_PRODUCTION-like settings, DEBUG off) and
measures over real HTTP:

* case list p50/p95 for a county, a city and a province user: first page, a later page, and
  filtered by state, channel + date range, deadline status and full text;
* registration throughput through `POST /api/v1/cases/` from concurrent client processes spread
  over county offices (bodies made and serialised before the clock starts, a 5 s warm-up not
  counted), with p50/p95 latency and the CPU each registration cost in the gunicorn workers, in
  the PostgreSQL backends serving them and in the clients. Background work (repeat-detection
  embeddings) is queued on a Celery broker as in production (`--broker`, default a Redis
  database that is purged afterwards; `--broker none` runs it in the web workers).

    .venv/bin/python benchmarks/cases_api.py --cases 200000 --reuse --only registration --workers 2
    .venv/bin/python benchmarks/cases_api.py --cases 200000 --reuse --only registration --workers 2 --batch 100

Targets (issue 2): list p95 <= 100 ms at 1M cases; registration >= 200/s on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

from _common import Server, ensure_database, manage, pct  # noqa: E402


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qingfeng.settings")
    import django

    django.setup()


def simulate_provincial_intake(share: int = 5) -> None:
    """The generator registers at counties (and cities that transfer down); real provinces also
    receive letters and transfer them down. Give the largest province read access, as a sender,
    to every `share`-th case held in its subtree, so the province user's list is realistic."""
    from django.db import connection

    from qingfeng.offices.models import Office

    with connection.cursor() as cur:
        # Every run, not only the first: with --reuse the database may have grown since, and the
        # insert skips the rows it already has.
        cur.execute("SELECT o.id, o.path FROM offices_office o WHERE o.level = 1 ORDER BY o.code")
        rows = cur.fetchall()
        if not rows:
            return
        best = max(rows, key=lambda r: Office.objects.filter(path__startswith=r[1]).count())
        cur.execute(
            "INSERT INTO cases_caseaccess (case_id, office_id, received_at, hidden, granted_at) "
            "SELECT c.id, %s, c.received_at, false, now() FROM cases_case c JOIN offices_office h "
            "ON h.id = c.holding_office_id WHERE h.path >= %s AND h.path < %s AND c.id %% %s = 0 "
            "ON CONFLICT DO NOTHING",
            [best[0], best[1], best[1] + "\uffff", share],
        )


def pick_users() -> dict[str, dict[str, Any]]:
    """A county, a city and a province user, each in the office of that level that sees most cases."""
    from django.db.models import Count
    from rest_framework.authtoken.models import Token

    from qingfeng.accounts.models import Role, User
    from qingfeng.accounts.services import user_create
    from qingfeng.cases.models import CaseAccess
    from qingfeng.offices.models import Office

    out: dict[str, dict[str, Any]] = {}
    for label, level in (
        ("county", Office.Level.COUNTY),
        ("city", Office.Level.CITY),
        ("province", Office.Level.PROVINCE),
    ):
        row = (
            CaseAccess.objects.filter(office__level=level, hidden=False)
            .values("office_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if row is None:
            raise SystemExit(f"no cases visible to any {label} office; generate cases first")
        office = Office.objects.get(pk=row["office_id"])
        username = f"bench_{label}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password="bench-pass-1", office=office, roles=[r.value for r in Role])
        elif user.office_id != office.pk:
            user.office = office
            user.save(update_fields=["office"])
        token, _ = Token.objects.get_or_create(user=user)
        out[label] = {"token": token.key, "office": office.code, "name": office.name, "visible": row["n"]}
    return out


def clerks(n: int) -> list[tuple[str, str]]:
    """Tokens of intake clerks in n county offices (registration spreads over offices as in real life)."""
    from rest_framework.authtoken.models import Token

    from qingfeng.accounts.models import Role, User
    from qingfeng.accounts.services import user_create
    from qingfeng.offices.models import Office

    out = []
    for office in Office.objects.filter(level=Office.Level.COUNTY).order_by("code")[:n]:
        username = f"bench_clerk_{office.code}"
        user = User.objects.filter(username=username).first() or user_create(
            username=username, password="bench-pass-1", office=office, roles=[Role.INTAKE_CLERK]
        )
        out.append((Token.objects.get_or_create(user=user)[0].key, office.code))
    return out


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still running (Linux /proc)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the run counts in full (starting it is part of the work).
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL server processes serving the benchmark database (the web workers' connections)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
    return [r[0] for r in rows]


def request(
    conn: http.client.HTTPConnection, method: str, path: str, token: str, body: Any = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read()


def bench_list(port: int, users: dict[str, dict[str, Any]], iterations: int) -> list[dict[str, Any]]:
    today = time.strftime("%Y-%m-%d")
    variants = {
        "page 1": "",
        "page 5": "page=5",
        "state=accepted": "status=accepted",
        "channel+dates": f"channel=letter&received_from=2025-01-01&received_to={today}",
        "overdue": "deadline=overdue",
        "full text": "q=%E6%89%B6%E8%B4%AB",  # 扶贫
    }
    rows = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for label, user in users.items():
        for vname, query in variants.items():
            path = "/api/v1/cases/" + (f"?{query}" if query else "")
            for _ in range(8):  # warm every gunicorn worker's connection and caches
                status, body = request(conn, "GET", path, user["token"])
                if status != 200:
                    raise SystemExit(f"{label} {vname}: HTTP {status} {body[:200]!r}")
            count = json.loads(body)["count"]
            samples = []
            for _ in range(iterations):
                t0 = time.perf_counter()
                status, _ = request(conn, "GET", path, user["token"])
                samples.append((time.perf_counter() - t0) * 1000)
                assert status == 200
            rows.append(
                {"user": label, "query": vname, "matches": count, "p50": pct(samples, 50), "p95": pct(samples, 95)}
            )
    return rows


def report_body(rng: random.Random, office_code: str, i: int, phones: list[str]) -> dict[str, Any]:
    from qingfeng.intake.textgen import generate_text

    text = generate_text(rng, "某地")
    # Most reporters are new; about one in ten reports again (with the same phone).
    phone = rng.choice(phones) if rng.random() < 0.1 else f"139{rng.randrange(10**8):08d}"
    return {
        "channel": rng.choice(["letter", "phone", "online", "visit"]),
        "title": text.title,
        "description": text.description,
        "region_code": office_code,
        "reporter": {"anonymous": i % 3 == 0, "name": "测试人", "phone": phone},
        "parties": [
            {"kind": text.party.kind, "name": text.party.name, "post": text.party.post, "unit": text.party.unit}
        ],
    }


def _register_client(
    k: int,
    port: int,
    requests: list[tuple[str, bytes]],
    start_at: float,
    stop_at: float,
    out: Any,
    path: str = "/api/v1/cases/",
) -> None:
    """One client process: keeps one connection (re-opened when the server closes it), sends
    pre-serialised bodies back to back from `start_at` to `stop_at`, reports its latencies."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    errors: list[str] = []
    j = 0

    def post(token: str, body: bytes) -> tuple[int, bytes]:
        headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    while time.time() < start_at:  # warm up every worker (a process's first requests load more)
        post(*requests[j % len(requests)])
        j += 1
    cpu0 = time.process_time()
    while time.time() < stop_at:
        token, body = requests[j % len(requests)]
        t0 = time.perf_counter()
        status, resp = post(token, body)
        ms = (time.perf_counter() - t0) * 1000
        if status == 201:
            latencies.append(ms)
        else:
            errors.append(f"{status} {resp[:120]!r}")
        j += 1
    out.put((latencies, errors, time.process_time() - cpu0))


def broker_reachable(url: str) -> bool:
    host, _, rest = url.split("://", 1)[1].partition(":")
    port = int(rest.split("/", 1)[0] or 6379)
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


WARM_UP_SECONDS = 5.0


def bench_register(
    server: Server, database_url: str, tokens: list[tuple[str, str]], clients: int, seconds: float, batch: int = 0
) -> dict[str, Any]:
    """Registration from `clients` processes (not threads: the client must not queue on its own
    GIL), each with its own bodies, made and serialised before the clock starts. With `batch`,
    each request is POST /api/v1/cases/batch/ with that many reports."""
    import multiprocessing

    per_request = max(1, batch)
    per_client = min(4000, int((seconds + WARM_UP_SECONDS) * 400 / clients / per_request) + 10)
    phones = [f"138{n:08d}" for n in range(200)]
    plans = []
    for k in range(clients):
        rng = random.Random(k)
        plan = []
        for j in range(per_client):
            token, office = tokens[(k + j * clients) % len(tokens)]
            if batch:
                reports = [report_body(rng, office, j * batch + i, phones) for i in range(batch)]
                plan.append((token, json.dumps({"reports": reports}).encode()))
            else:
                plan.append((token, json.dumps(report_body(rng, office, j, phones)).encode()))
        plans.append(plan)
    path = "/api/v1/cases/batch/" if batch else "/api/v1/cases/"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + WARM_UP_SECONDS
    stop_at = start_at + seconds
    procs = [
        ctx.Process(target=_register_client, args=(k, server.port, plans[k], start_at, stop_at, queue, path))
        for k in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(max(0.0, start_at - time.time()))
    web0, db0 = cpu_seconds(server.worker_pids()), cpu_seconds(backend_pids(database_url))
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    web_cpu = cpu_used(web0, cpu_seconds(server.worker_pids()))
    db_cpu = cpu_used(db0, cpu_seconds(backend_pids(database_url)))
    for p in procs:
        p.join()
    latencies = [ms for r in results for ms in r[0]]
    errors = [e for r in results for e in r[1]]
    client_cpu = sum(r[2] for r in results)
    return {
        "clients": clients,
        "requests": len(latencies),
        "registered": len(latencies) * per_request,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "per_second": len(latencies) * per_request / seconds,
        "p50": pct(latencies, 50) if latencies else float("nan"),
        "p95": pct(latencies, 95) if latencies else float("nan"),
        "client_cpu_ms": 1000 * client_cpu / max(1, (len(latencies) + len(errors)) * per_request),
        "web_cpu_s": web_cpu,
        "db_cpu_s": db_cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/qingfeng_bench")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep existing cases if there are enough")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    ap.add_argument("--clients", type=int, default=8, help="concurrent registration clients")
    ap.add_argument("--seconds", type=float, default=30.0, help="registration run length")
    ap.add_argument(
        "--only", choices=["list", "registration"], help="run only the case-list or only the registration part"
    )
    ap.add_argument(
        "--batch",
        type=int,
        default=0,
        help="register through POST /api/v1/cases/batch/ with this many reports per request (0: one per request)",
    )
    ap.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    ap.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    ap.add_argument(
        "--broker",
        default="redis://127.0.0.1:6379/15",
        help="Celery broker the server queues background work on (repeat-detection embeddings), as in "
        "production; its queue is purged at the end. 'none' runs that work in the web workers.",
    )
    ap.add_argument(
        "--without",
        default="",
        choices=["", "write", "candidates", "write,candidates"],
        help="experiment, not a way to run Qingfeng: serve registration with parts of its work taken out "
        "(write, candidates, or write,candidates; see benchmarks/registration_floor.py) to measure what "
        "no redesign of the rest could beat. Implies --only registration.",
    )
    args = ap.parse_args()
    if args.without:
        args.only = "registration"

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "QINGFENG_DEBUG": "0",
        "QINGFENG_REQUIRE_2FA": "0",  # bench users have no TOTP device; 2FA is a sign-in step
        "QINGFENG_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "qingfeng.settings",
    }
    env.pop("CELERY_BROKER_URL", None)
    broker = "" if args.broker == "none" else args.broker
    if broker and not broker_reachable(broker):
        print(f"broker {broker} unreachable: background work runs in the web workers")
        broker = ""
    if broker:
        env["CELERY_BROKER_URL"] = broker
    if args.without:
        env["QF_BENCH_WITHOUT"] = args.without
    if args.database_url.startswith("postgres"):
        ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_offices")
    setup_django(env)
    from qingfeng.cases.models import Case

    have = Case.objects.count()
    if not (args.reuse and have >= args.cases):
        missing = args.cases - have if args.reuse else args.cases
        if missing > 0:
            t0 = time.perf_counter()
            manage(env, "generate_cases", "--count", str(missing))
            took = time.perf_counter() - t0
            print(f"generated {missing:,} cases in {took:.0f} s ({missing / took:,.0f}/s)")
    total = Case.objects.count()
    if env["DATABASE_URL"].startswith("postgres"):
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    simulate_provincial_intake()
    if env["DATABASE_URL"].startswith("postgres"):
        with connection.cursor() as cur:
            # The new access rows also changed cases_case.visible_to (kept by a trigger).
            cur.execute("ANALYZE cases_caseaccess")
            cur.execute("ANALYZE cases_case")
    users = pick_users()
    tokens = clerks(40)
    from django.db import connections

    connections.close_all()

    print(f"\ncases in the database: {total:,}   ({args.database_url.split('@')[-1]})")
    for label, u in users.items():
        print(f"  {label:8s} user: {u['office']} {u['name']}, {u['visible']:,} visible cases")
    app = "registration_floor:application" if args.without else "qingfeng.wsgi"
    server = Server(env, args.workers, args.worker_class, args.threads, app)
    try:
        if args.only != "registration":
            print(f"\ncase list over HTTP, {args.iterations} requests each (gunicorn -w {args.workers}), ms")
            print(f"{'user':9s} {'query':15s} {'matches':>9s} {'p50':>8s} {'p95':>8s}")
            worst = 0.0
            for row in bench_list(server.port, users, args.iterations):
                worst = max(worst, row["p95"])
                print(f"{row['user']:9s} {row['query']:15s} {row['matches']:9,d} {row['p50']:8.1f} {row['p95']:8.1f}")
            print(f"worst list p95: {worst:.1f} ms (target <= 100 ms)")
        if args.only != "list":
            print(
                "\nregistration through POST "
                + (f"/api/v1/cases/batch/ ({args.batch} reports per request)" if args.batch else "/api/v1/cases/")
                + f", {args.seconds:.0f} s, "
                f"{args.clients} clients over {len(tokens)} county offices"
            )
            if args.without:
                print(
                    f"EXPERIMENT without {args.without}: "
                    + ("nothing is registered; " if "write" in args.without else "")
                    + "a ceiling for any design that still does the rest, not a result"
                )
            reg = bench_register(server, args.database_url, tokens, args.clients, args.seconds, args.batch)
            print(
                ("answered " if "write" in args.without else "registered ")
                + f"{reg['registered']:,}, errors {reg['errors']}, {reg['per_second']:.0f}/s "
                f"(target >= 200/s), request p50 {reg['p50']:.1f} ms, p95 {reg['p95']:.1f} ms"
            )
            done = max(1, reg["registered"])
            print(
                f"CPU per registration: web workers {reg['web_cpu_s'] * 1000 / done:.1f} ms, "
                f"PostgreSQL backends {reg['db_cpu_s'] * 1000 / done:.1f} ms, clients {reg['client_cpu_ms']:.1f} ms "
                f"(gunicorn -w {args.workers} -k {args.worker_class} --threads {args.threads}; "
                f"background work {'queued on ' + broker if broker else 'run in the web workers'})"
            )
            if reg["first_error"]:
                print("first error:", reg["first_error"])
    finally:
        server.stop()
        if broker:
            # The queued embeddings belong to this throw-away database: drop them.
            subprocess.run([PY, "-m", "celery", "-A", "qingfeng", "purge", "-f"], cwd=ROOT, env=env, check=False)
    print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}")
    if args.database_url.startswith("postgres"):
        print("PostgreSQL:", postgres_settings(args.database_url))


def postgres_settings(database_url: str) -> str:
    """The server settings that move these figures most, printed with them."""
    import psycopg

    names = ("server_version", "shared_buffers", "max_wal_size", "synchronous_commit", "wal_compression")
    with psycopg.connect(database_url, autocommit=True) as conn:
        values = [(conn.execute(f"SHOW {n}").fetchone() or ("?",))[0] for n in names]
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


if __name__ == "__main__":
    main()
