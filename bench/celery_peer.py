"""Peer comparison for criticloop's judge stage: Celery 5 + RabbitMQ + Postgres.

One Celery task per judgment, each doing the same idempotent insert criticloop's judging worker does
(`insert ... on conflict do nothing`, committed before the ack: acks_late), two prefork worker
processes. Measures end-to-end tasks/s: first enqueue -> last row committed (polling count(*)).

    python bench/celery_peer.py --tasks 40000          # or --prompts 2000 --samples 5

The same file is the Celery app the worker subprocess imports (`celery -A celery_peer worker`);
the run's settings reach it through PEER_* environment variables. Creates and drops its own
database, and deletes its queue and exchange at the end.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
from celery import Celery
from celery.signals import worker_ready

BROKER = os.environ.get("PEER_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = os.environ.get("PEER_QUEUE", "celery_peer")
DSN = os.environ.get("PEER_DSN", "")

app = Celery("celery_peer", broker=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=QUEUE,
    task_default_queue_type=os.environ.get("PEER_QUEUE_TYPE", "quorum"),
    task_acks_late=True,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=int(os.environ.get("PEER_PREFETCH_MULTIPLIER", "32")),
    worker_enable_remote_control=False,  # no pidbox queues to clean up
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"confirm_publish": os.environ.get("PEER_CONFIRM", "1") == "1"},
)

INSERT = (
    "insert into judgments_peer (round, prompt, i, j, verdict) values (%s, %s, %s, %s, %s) "
    "on conflict do nothing"
)
_conn = None


@app.task(name="peer.judge", acks_late=True)
def judge(round_id, prompt_id, i, j, verdict):
    global _conn
    if _conn is None:  # one connection per worker process, opened after the fork
        _conn = psycopg2.connect(DSN)
    with _conn.cursor() as cur:
        cur.execute(INSERT, (round_id, prompt_id, i, j, json.dumps(verdict)))
    _conn.commit()


@worker_ready.connect
def announce_ready(**_):
    # The worker logs at WARNING (INFO logs two lines per task, which would be measured too).
    print("PEER_WORKER_READY", file=sys.__stdout__, flush=True)


def admin(postgres, sql):
    conn = psycopg2.connect(f"{postgres}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def start_worker(env, concurrency, name):
    cmd = [
        sys.executable, "-m", "celery", "-A", "celery_peer", "worker",
        "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "WARNING",
        "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    proc = subprocess.Popen(
        cmd, cwd=os.path.dirname(os.path.abspath(__file__)), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    ready, tail = threading.Event(), []

    def pump():
        for line in proc.stdout:
            tail[:] = (tail + [line.rstrip()])[-40:]
            if "PEER_WORKER_READY" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(60):
        proc.kill()
        raise SystemExit("celery worker did not become ready:\n" + "\n".join(tail))
    return proc, tail


def stop_worker(proc):
    proc.send_signal(signal.SIGTERM)  # warm shutdown
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# With a quorum queue, the Celery 5.5+ worker declares kombu's native delayed-delivery topology:
# 28 quorum queues and 29 exchanges with fixed names, shared by every Celery app on the vhost.
DELAYED = [f"celery_delayed_{level}" for level in range(28)]


def delayed_topology_exists():
    with app.connection_for_write() as conn:
        channel = conn.channel()
        try:
            channel.exchange_declare("celery_delayed_delivery", "topic", passive=True)
            return True
        except Exception:  # NotFound closes the channel
            return False


def delete_broker_objects(delayed_too):
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_delete(QUEUE)
        channel.exchange_delete(QUEUE)
        if delayed_too:  # only when this run created it
            for name in DELAYED:
                channel.queue_delete(name)
                channel.exchange_delete(name)
            channel.exchange_delete("celery_delayed_delivery")


def produce(n, prompts_needed, k):
    """Enqueues n judge tasks shaped like criticloop's (round, prompt, i, j); returns enqueue seconds."""
    round_id = str(uuid.uuid4())
    pairs = [(i, j) for i in range(k) for j in range(k) if i != j]
    prompt_ids = [str(uuid.uuid4()) for _ in range(prompts_needed)]
    verdict = {"preferred": "a", "score": 0.75, "reason": "a is more faithful to the image"}
    start = time.time()
    with app.producer_or_acquire() as producer:
        for t in range(n):
            i, j = pairs[t % len(pairs)]
            judge.apply_async((round_id, prompt_ids[t // len(pairs)], i, j, verdict), producer=producer)
    return start, time.time() - start


def wait_rows(dsn, n, proc, tail, stall_s=120):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    last, progress = -1, time.time()
    with conn.cursor() as cur:
        while True:
            cur.execute("select count(*) from judgments_peer")
            count = cur.fetchone()[0]
            now = time.time()
            if count >= n:
                cur.execute("select extract(epoch from max(created_at)) from judgments_peer")
                last_row = float(cur.fetchone()[0])
                conn.close()
                return count, now, last_row
            if count != last:
                last, progress = count, now
            if proc.poll() is not None or now - progress > stall_s:
                conn.close()
                raise SystemExit(f"stalled at {count}/{n} rows; worker log tail:\n" + "\n".join(tail))
            time.sleep(0.02)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prompts", type=int, default=2000)
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--tasks", type=int, help="judge tasks to run (default prompts*K*(K-1))")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--prefetch-multiplier", type=int, default=32)
    p.add_argument("--queue-type", choices=["quorum", "classic"], default="quorum")
    p.add_argument("--no-confirm", action="store_true", help="publish without publisher confirms")
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    p.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    a = p.parse_args()
    k = a.samples
    n = a.tasks or a.prompts * k * (k - 1)
    tag = uuid.uuid4().hex[:8]
    database, queue = f"celery_peer_{tag}", f"celery_peer.{tag}"
    dsn = f"{a.postgres}/{database}"
    env = dict(
        os.environ, PEER_BROKER=a.broker, PEER_QUEUE=queue, PEER_DSN=dsn, PEER_QUEUE_TYPE=a.queue_type,
        PEER_PREFETCH_MULTIPLIER=str(a.prefetch_multiplier), PEER_CONFIRM="0" if a.no_confirm else "1",
    )
    # This process is the producer: configure its own app the way the worker's is.
    global QUEUE
    QUEUE = queue
    app.conf.update(
        broker_url=a.broker, task_default_queue=queue, task_default_exchange=queue,
        task_default_routing_key=queue, task_default_queue_type=a.queue_type,
        broker_transport_options={"confirm_publish": not a.no_confirm},
    )

    admin(a.postgres, f'create database "{database}"')
    proc, delayed_before = None, delayed_topology_exists()
    try:
        conn = psycopg2.connect(dsn)
        with conn, conn.cursor() as cur:
            cur.execute(
                "create table judgments_peer (round uuid not null, prompt uuid not null, i int not null,"
                " j int not null, verdict jsonb not null, created_at timestamptz not null default clock_timestamp(),"
                " primary key (round, prompt, i, j), check (i <> j))"
            )
        conn.close()
        proc, tail = start_worker(env, a.concurrency, f"peer_{tag}")
        pairs = k * (k - 1)
        start, enqueue_s = produce(n, -(-n // pairs), k)
        count, seen, last_row = wait_rows(dsn, n, proc, tail)
        result = {
            "peer": "celery",
            "tasks": n,
            "rows": count,
            "concurrency": a.concurrency,
            "prefetch_multiplier": a.prefetch_multiplier,
            "queue_type": a.queue_type,
            "publisher_confirms": not a.no_confirm,
            "enqueue_s": round(enqueue_s, 3),
            "enqueue_per_s": round(n / enqueue_s, 1),
            "end_to_end_s": round(seen - start, 3),
            "end_to_end_per_s": round(n / (seen - start), 1),
            "end_to_end_last_row_s": round(last_row - start, 3),
        }
        print(f"\ncelery peer: {n} tasks, {a.concurrency} prefork processes, prefetch x{a.prefetch_multiplier}, "
              f"{a.queue_type} queue, confirms {'on' if not a.no_confirm else 'off'}")
        print(f"  enqueue               {enqueue_s:8.3f} s  {n / enqueue_s:8.0f} /s")
        print(f"  first enqueue -> all  {seen - start:8.3f} s  {n / (seen - start):8.0f} /s  (polled count(*))")
        print(f"  first enqueue -> last {last_row - start:8.3f} s  (max(created_at))")
        print(json.dumps(result))
    finally:
        if proc is not None:
            stop_worker(proc)
        try:
            delete_broker_objects(not delayed_before)
        finally:
            admin(a.postgres, f'drop database if exists "{database}" with (force)')


if __name__ == "__main__":
    main()
