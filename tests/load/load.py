"""Sustained load through both adapters, loopback only: mixed valid and hostile requests.

Lambda: the release `bootstrap` driven through the Runtime API test double, one invocation at
a time as one Lambda sandbox runs them. Worker: `wrangler dev` (workerd), several client
threads on keep-alive connections. For each adapter the run must show:
  - zero 5xx and zero crashes (the function process is alive at the end),
  - every valid request answered 200 and every hostile one a 4xx JSON error without a URL,
  - resident memory flat: RSS after warm-up and at the end, growth under a bound,
  - a sample of the 200 answers (1 in 500) uploaded to the local store, which verifies the
    signature (200) and is read back with an independently signed GET.

Usage: python3 tests/load/load.py [--requests N] [--adapters lambda,worker]
Writes target/load/summary.json and prints one line per adapter. Exit status 1 on any failure.
"""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from harness import ROOT, SECRETS, LambdaTarget, Store, WorkerTarget, base_env, hs256_token  # noqa: E402
from harness import http as fetch  # noqa: E402

WARMUP = 500
SAMPLE_EVERY = 500
# Bound on RSS growth between the end of warm-up and the end of the run: for the Lambda, of the
# process; for the Worker, beyond what an empty Worker grows under the same requests (below).
RSS_GROWTH_LIMIT_KIB = 4 * 1024
TIME_LIMIT_SECONDS = 900


EXTRA_ENV = {}


def load_env(store):
    return base_env(store, PRESIGN_ALLOWED_CONTENT_TYPES="video/*,application/octet-stream", **EXTRA_ENV)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except FileNotFoundError:
            kids = []
        out += kids
        todo += kids
    return out


def workerd_pid(root_pid):
    for p in descendants(root_pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == "workerd":
                    return p
        except FileNotFoundError:
            pass
    raise RuntimeError("no workerd process under wrangler dev")


class Mix:
    """The request mix, deterministic per seed: about two thirds valid, one third hostile."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.token = hs256_token(exp_in=3600)
        self.expired = hs256_token(exp_in=-600)
        self.forged = hs256_token(secret_b64="Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0LWZvcmdlZCEh", exp_in=3600)

    def headers(self, token=None, ctype="application/json", **extra):
        h = {"content-type": ctype}
        if token:
            h["authorization"] = f"Bearer {token}"
        h.update(extra)
        return h

    def next(self, i):
        """(kind, method, path, headers, body, valid)"""
        key = f"content/load/{i}-{self.rng.randrange(1 << 30)}.ts"
        one = json.dumps({"key": key, "contentType": "video/mp2t"}).encode()
        r = self.rng.random()
        if r < 0.55:
            return "presign", "POST", "/presign", self.headers(self.token), one, True
        if r < 0.65:
            files = [{"key": f"{key}-{n}", "contentType": "video/mp2t"} for n in range(5)]
            return "batch", "POST", "/presign/batch", self.headers(self.token), json.dumps({"files": files}).encode(), True
        if r < 0.67:
            return "health", "GET", "/health", {}, None, True
        hostile = self.rng.choice(
            [
                ("no_auth", "POST", "/presign", self.headers(), one),
                ("forged_token", "POST", "/presign", self.headers(self.forged), one),
                ("expired_token", "POST", "/presign", self.headers(self.expired), one),
                ("garbage_token", "POST", "/presign", self.headers("not.a.jwt"), one),
                ("alg_none", "POST", "/presign", self.headers("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9."), one),
                ("traversal", "POST", "/presign", self.headers(self.token), b'{"key":"content/../etc/passwd","contentType":"video/mp2t"}'),
                ("outside_prefix", "POST", "/presign", self.headers(self.token), b'{"key":"private/a.ts","contentType":"video/mp2t"}'),
                ("control_char", "POST", "/presign", self.headers(self.token), b'{"key":"content/a\\u0000b.ts","contentType":"video/mp2t"}'),
                ("bidi", "POST", "/presign", self.headers(self.token), '{"key":"content/a\u202eb.ts","contentType":"video/mp2t"}'.encode()),
                ("look_alike", "POST", "/presign", self.headers(self.token), '{"key":"content/a\u00a0b.ts","contentType":"video/mp2t"}'.encode()),
                ("quoted_upload_id", "POST", "/presign/request", self.headers(self.token), b'{"method":"GET","key":"content/a.mp4","uploadId":"\\"\\""}'),
                ("bad_json", "POST", "/presign", self.headers(self.token), b'{"key":'),
                ("random_bytes", "POST", "/presign", self.headers(self.token), self.rng.randbytes(64)),
                ("oversize", "POST", "/presign", self.headers(self.token), b'{"key":"content/a.ts","contentType":"video/mp2t","pad":"' + b"x" * 20000 + b'"}'),
                ("wrong_media_type", "POST", "/presign", self.headers(self.token, "text/plain"), one),
                ("bad_content_type", "POST", "/presign", self.headers(self.token), b'{"key":"content/a.ts","contentType":"text/html"}'),
                ("empty_batch", "POST", "/presign/batch", self.headers(self.token), b'{"files":[]}'),
                ("wrong_method", "PUT", "/presign", self.headers(self.token), one),
                ("unknown_path", "POST", "/admin", self.headers(self.token), one),
                ("foreign_origin", "POST", "/presign", self.headers(self.token, origin="https://evil.example"), one),
            ]
        )
        return (*hostile, False)


def check(kind, valid, status, body, problems):
    """Returns the parsed JSON of a 200 /presign answer (for sampling), else None."""
    if status >= 500:
        problems.append(f"{kind}: {status} {body[:200]!r}")
        return None
    text = body.decode("utf-8", "replace")
    for s in SECRETS:
        if s in text:
            problems.append(f"{kind}: a secret in the response")
    if valid:
        if status != 200:
            problems.append(f"{kind}: expected 200, got {status} {body[:200]!r}")
            return None
        return json.loads(body) if kind == "presign" else None
    if not 400 <= status < 500:
        problems.append(f"{kind}: expected a 4xx, got {status}")
    elif "X-Amz-Signature" in text or '"url"' in text or not json.loads(body).get("error"):
        problems.append(f"{kind}: refusal without an error or with a URL: {text[:200]}")
    return None


def verify_sample(store, answer, problems):
    data = os.urandom(1024)
    r = fetch("PUT", answer["url"], answer["headers"], data)
    if r.status != 200:
        problems.append(f"sampled URL refused by the store: {r.status} {r.body[:200]!r}")
        return
    back = store.get(answer["key"])
    if back.status != 200 or back.body != data:
        problems.append(f"sampled object not read back: {back.status}")


def run_lambda(store, n, mix, problems, counts):
    target = LambdaTarget(load_env(store))
    try:

        def one(i):
            kind, method, path, headers, body, valid = mix.next(i)
            reply = target.request(method, path, headers, body)
            counts[reply.status] = counts.get(reply.status, 0) + 1
            return check(kind, valid, reply.status, reply.body, problems)

        return drive(target.proc.pid, one, n, store, problems, threads=1, alive=lambda: target.proc.poll() is None)
    finally:
        target.stop()


def http_caller(port, mix, problems, counts, checked=True):
    """One request of the mix over this thread's keep-alive connection to 127.0.0.1:port."""
    local = threading.local()
    lock = threading.Lock()

    def one(i):
        with lock:
            kind, method, path, headers, body, valid = mix.next(i)
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            status, data = resp.status, resp.read()
        except (http.client.HTTPException, OSError) as e:
            local.conn = None
            problems.append(f"{kind}: connection failure {e!r}")
            return None
        with lock:
            counts[status] = counts.get(status, 0) + 1
        return check(kind, valid, status, data, problems) if checked else None

    return one


def run_worker(store, n, mix, problems, counts):
    target = WorkerTarget(dict(load_env(store), RUST_LOG="off"))
    try:
        pid = workerd_pid(target.proc.pid)
        one = http_caller(target.port, mix, problems, counts)
        return drive(pid, one, n, store, problems, threads=8, alive=lambda: target.proc.poll() is None)
    finally:
        target.stop()


# workerd under `wrangler dev` grows its own resident memory with every request, whatever the
# Worker does (measured here: an empty Worker 60 -> 150 MB over 8,000 requests, as much as ours).
# So the Worker's memory is judged against this empty Worker under the identical request stream.
# wrangler dev also keeps every console line it forwards (with request logs on, ours and an empty
# Worker logging the same lines both grow ~20 KB per request), so both run without request logs.
EMPTY_WORKER = """export default { async fetch(req) { await req.arrayBuffer();
  return new Response('{"ok":true}', { headers: { "content-type": "application/json" } }); } };"""


def run_empty_worker(n, mix):
    import subprocess
    import tempfile

    from harness import WRANGLER, free_port, stop_process_group, wait_for_port

    workdir = tempfile.mkdtemp(prefix="presign-empty-worker-")
    with open(os.path.join(workdir, "worker.mjs"), "w") as f:
        f.write(EMPTY_WORKER)
    with open(os.path.join(workdir, "wrangler.toml"), "w") as f:
        f.write('name = "empty-baseline"\nmain = "worker.mjs"\ncompatibility_date = "2025-09-01"\n')
    port = free_port()
    proc = subprocess.Popen(
        [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", str(port), "--inspector-port", str(free_port()), "--show-interactive-dev-session=false"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(os.environ, WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false"),
    )
    try:
        wait_for_port(port, timeout=240, proc=proc)
        scratch = []
        one = http_caller(port, mix, scratch, {}, checked=False)
        return drive(workerd_pid(proc.pid), one, n, None, scratch, threads=8, alive=lambda: proc.poll() is None)
    finally:
        stop_process_group(proc)


def drive(rss_pid, one, n, store, problems, threads, alive):
    for i in range(min(WARMUP, n)):
        one(-1 - i)
    rss_start = rss_kib(rss_pid)
    started = time.time()
    next_i = iter(range(n))
    lock = threading.Lock()
    sampled = [0]
    trace, trace_every = [], max(n // 10, 1)

    def worker():
        while time.time() - started < TIME_LIMIT_SECONDS:
            with lock:
                i = next(next_i, None)
            if i is None:
                return
            answer = one(i)
            if i % trace_every == 0:
                trace.append(rss_kib(rss_pid))
            if answer is not None and i % SAMPLE_EVERY == 0:
                verify_sample(store, answer, problems)
                with lock:
                    sampled[0] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.time() - started
    rss_end = rss_kib(rss_pid)
    if next(next_i, None) is not None:
        problems.append(f"time limit of {TIME_LIMIT_SECONDS} s reached before {n} requests")
    if not alive():
        problems.append("the function process died")
    return {
        "elapsed_s": round(elapsed, 1),
        "rps": round(n / elapsed),
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "sampled_uploads": sampled[0],
        "rss_trace_kib": trace,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--adapters", default="lambda,worker")
    ap.add_argument("--var", action="append", default=[], help="extra configuration, NAME=value (e.g. RUST_LOG=off)")
    args = ap.parse_args()
    EXTRA_ENV.update(v.split("=", 1) for v in args.var)
    results, failed = {}, False
    for adapter in args.adapters.split(","):
        problems, counts = [], {}
        store = Store()
        try:
            run = run_lambda if adapter == "lambda" else run_worker
            figures = run(store, args.requests, Mix(seed=42), problems, counts)
        finally:
            store.stop()
        growth = figures["rss_end_kib"] - figures["rss_start_kib"]
        if adapter == "worker":
            baseline = run_empty_worker(args.requests, Mix(seed=42))
            figures["empty_worker_rss_start_kib"], figures["empty_worker_rss_end_kib"] = baseline["rss_start_kib"], baseline["rss_end_kib"]
            baseline_growth = baseline["rss_end_kib"] - baseline["rss_start_kib"]
            print(f"load: worker baseline (empty Worker, same requests): RSS {baseline['rss_start_kib']} -> {baseline['rss_end_kib']} KiB", flush=True)
            growth -= max(baseline_growth, 0)
            # V8 collects garbage when its heuristics say so: allow 15% of the baseline's growth.
            allowed = RSS_GROWTH_LIMIT_KIB + max(baseline_growth, 0) * 15 // 100
        else:
            allowed = RSS_GROWTH_LIMIT_KIB
        figures["rss_growth_beyond_baseline_kib"] = growth
        if growth > allowed:
            problems.append(f"RSS grew by {growth} KiB (allowed {allowed} KiB)")
        five = sum(c for s, c in counts.items() if s >= 500)
        results[adapter] = dict(
            figures,
            requests=args.requests,
            statuses={str(k): v for k, v in sorted(counts.items())},
            five_xx=five,
            problems=problems[:20],
            problem_count=len(problems),
        )
        print(
            f"load: {adapter:6} {args.requests} requests in {figures['elapsed_s']} s ({figures['rps']}/s), "
            f"statuses {dict(sorted(counts.items()))}, 5xx {five}, RSS {figures['rss_start_kib']} -> "
            f"{figures['rss_end_kib']} KiB, {figures['sampled_uploads']} sampled URLs verified by the store, "
            f"{len(problems)} problems; RSS every {args.requests // 10}: {figures['rss_trace_kib']}",
            flush=True,
        )
        for p in problems[:20]:
            print(f"load: {adapter}: {p}", flush=True)
        failed |= bool(problems)
    out = os.path.join(ROOT, "target", "load")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d"), "results": results}, f, indent=2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
