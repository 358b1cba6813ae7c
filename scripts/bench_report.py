#!/usr/bin/env python3
"""Collects the benchmark figures of one run and writes BENCHMARKS.md and
target/bench/summary.json: criterion estimates (ours vs rusty-s3, aws-sdk-s3, jsonwebtoken),
allocations per op, Node peers, Lambda cold start against a bare lambda_http hello-world, sizes
(the Lambda binaries for x86_64 and for arm64).

Run by scripts/bench.sh after `cargo bench` and the release builds. `python3 scripts/bench_report.py
--sizes` only checks and prints the binary sizes (no benchmark run), for trying the size code path."""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import TARGET_DIR, WRANGLER, RuntimeApi, Store, WorkerTarget, base_env, free_port, hs256_token, http, v2_event  # noqa: E402

TOOLS = os.environ.get("PRESIGN_TOOLS", os.path.expanduser("~/.cache/presign-tools"))
CRITERION = os.path.join(TARGET_DIR, "criterion")
OUT = os.path.join(TARGET_DIR, "bench")
# x86_64: `cargo build --release` (this machine's architecture); arm64: `cargo lambda build
# --release --arm64 --lambda-dir <target>/lambda-arm64` (scripts/bench.sh), one folder per binary.
RELEASE = os.path.join(TARGET_DIR, "release")
LAMBDA_ARM64 = os.path.join(TARGET_DIR, "lambda-arm64")
# ELF e_machine values.
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


def criterion_ns(group, name):
    path = os.path.join(CRITERION, group, name, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def cold_start(binary, env, runs=31):
    """Exec to first response through the Runtime API double; median ms and peak RSS (KiB)."""
    times, rss = [], []
    for _ in range(runs):
        api = RuntimeApi()
        api.events.put(("bench", v2_event("GET", "/health", {}, None)))
        full = {
            "PATH": os.environ["PATH"],
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "g",
            "AWS_LAMBDA_LOG_STREAM_NAME": "s",
            "RUST_LOG": "off",
        }
        full.update(env)
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with api.cond:
            api.cond.wait_for(lambda api=api: "bench" in api.results, timeout=10)
        times.append((time.perf_counter() - start) * 1000)
        with open(f"/proc/{proc.pid}/status") as f:
            rss.append(next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")))
        proc.kill()
        proc.wait()
        api.stop()
    return statistics.median(times), statistics.median(rss)


def binary_size(path, arch):
    """Size in bytes of a stripped ELF executable built for `arch`; refuses a binary of another
    architecture (target/lambda is shared by both cargo-lambda targets) or one with symbols."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise RuntimeError(f"{path} is not a 64-bit little-endian ELF file")
    u = lambda off, n: int.from_bytes(elf[off : off + n], "little")
    if u(18, 2) != ELF_MACHINES[arch]:
        raise RuntimeError(f"{path} is built for ELF machine {u(18, 2):#x}, not {arch}")
    # The release profile strips (strip = true): no section may be named .symtab.
    shoff, shentsize, shnum, shstrndx = u(0x28, 8), u(0x3A, 2), u(0x3C, 2), u(0x3E, 2)
    names_at = u(shoff + shstrndx * shentsize + 0x18, 8)
    for i in range(shnum):
        name = u(shoff + i * shentsize, 4)
        if elf[names_at + name : names_at + name + 8] == b".symtab\0":
            raise RuntimeError(f"{path} is not stripped")
    return len(elf)


def lambda_binaries():
    """Stripped sizes of our Lambda and of the bare hello-world, per architecture."""
    return {
        "x86_64": {
            "ours": binary_size(os.path.join(RELEASE, "presign-lambda"), "x86_64"),
            "hello": binary_size(os.path.join(RELEASE, "lambda-hello"), "x86_64"),
        },
        "arm64": {
            "ours": binary_size(os.path.join(LAMBDA_ARM64, "presign-lambda", "bootstrap"), "arm64"),
            "hello": binary_size(os.path.join(LAMBDA_ARM64, "lambda-hello", "bootstrap"), "arm64"),
        },
    }


def node_peers():
    node_dir = os.path.join(TOOLS, "node-bench")
    # bench.sh copies bench/node/presign.mjs next to its node_modules (ESM resolves from there).
    run = subprocess.run(["node", os.path.join(node_dir, "presign.mjs")], cwd=node_dir, capture_output=True, text=True, check=True)
    return {d["name"]: d["ns_per_op"] for d in (json.loads(ln) for ln in run.stdout.splitlines() if ln.strip())}


def wrk(url, seconds=10):
    """Requests per second and p99 latency (ms) of POST /presign under wrk on loopback."""
    env = dict(os.environ, TOKEN=hs256_token(exp_in=3600))
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", os.path.join(ROOT, "bench", "js-worker", "post.lua"), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("Requests/sec")))
    p99 = next(ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("99%"))
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    unit = next(u for u in ("us", "ms", "s") if p99.endswith(u))
    non2xx = next((int(ln.split()[-1]) for ln in out.splitlines() if "Non-2xx" in ln), 0)
    if non2xx:
        raise RuntimeError(f"{non2xx} non-2xx answers under load at {url}:\n{out}")
    return rps, float(p99[: -len(unit)]) * scale[unit]


def worker_load():
    """Our Rust Worker against the aws4fetch JavaScript Worker, both under wrangler dev."""
    store = Store()
    env = base_env(store)
    # The peer does not log; ours runs with its request log off (RUST_LOG=off) for the
    # comparison, and once more with it on (wrangler dev forwards every console.log line).
    ours = WorkerTarget(dict(env, RUST_LOG="off"))
    ours_logging = WorkerTarget(env)
    node_dir = os.path.join(TOOLS, "node-bench")
    for name in ("worker.mjs", "wrangler.toml"):
        subprocess.run(["cp", os.path.join(ROOT, "bench", "js-worker", name), node_dir], check=True)
    port = free_port()
    args = [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", str(port), "--inspector-port", str(free_port()), "--show-interactive-dev-session=false"]
    for k, v in env.items():
        args += ["--var", f"{k}:{v}"]
    peer = subprocess.Popen(
        args,
        cwd=node_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(os.environ, WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false"),
    )
    try:
        for _ in range(240):
            try:
                if http("POST", f"http://127.0.0.1:{port}/presign", {"content-type": "application/json"}, b"{}", timeout=2).status == 401:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        return wrk(ours.base_url + "/presign"), wrk(f"http://127.0.0.1:{port}/presign"), wrk(ours_logging.base_url + "/presign")
    finally:
        import signal

        os.killpg(peer.pid, signal.SIGTERM)
        peer.wait()
        ours.stop()
        ours_logging.stop()
        store.stop()


def read_alloc(name):
    try:
        with open(os.path.join(OUT, f"allocs-{name}.txt")) as f:
            return float(f.read())
    except OSError:
        return None


def main():
    os.makedirs(OUT, exist_ok=True)
    rows, summary = [], {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu'}"}
    with open("/proc/cpuinfo") as f:
        model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "unknown cpu")
    summary["machine"] = f"{model}, {os.cpu_count()} cores"

    def row(op, ours, alt_name, alt, unit="ns"):
        # How many times better ours is: alternative / ours for times and sizes, ours /
        # alternative for throughput. Above 1: ours is ahead.
        if not (alt and ours):
            ratio = None
        else:
            ratio = ours / alt if unit == "req/s" else alt / ours
        rows.append((op, ours, alt_name, alt, ratio, unit))
        summary.setdefault("rows", []).append({"operation": op, "ours": ours, "alternative": alt_name, "theirs": alt, "ratio": ratio, "unit": unit})

    for group, op in (("presign", "presign PUT"), ("presign_session_token", "presign PUT + session token"), ("presign_batch_100", "batch of 100")):
        ours = criterion_ns(group, "ours")
        row(op, ours, "rusty-s3", criterion_ns(group, "rusty-s3"))
        row(op, ours, "aws-sdk-s3 presigner", criterion_ns(group, "aws-sdk-s3"))
    for alg in ("HS256", "RS256", "ES256", "EdDSA"):
        row(f"JWT verify {alg}", criterion_ns(f"auth_{alg}", "ours"), "jsonwebtoken", criterion_ns(f"auth_{alg}", "jsonwebtoken"))
    row("whole request (HS256 + CORS)", criterion_ns("request_hs256_cors", "ours"), "-", None)
    presign_ns = criterion_ns("presign", "ours")
    for name, ns in node_peers().items():
        row("presign PUT (Node peer)", presign_ns, name, ns)
    for name in ("presign-ours", "presign-rusty-s3", "request-ours"):
        summary.setdefault("allocations_per_op", {})[name] = read_alloc(name)

    ours_bin = os.path.join(RELEASE, "presign-lambda")
    hello_bin = os.path.join(RELEASE, "lambda-hello")
    env = {
        "ENABLE_PRESIGN": "true",
        "S3_BUCKET": "b",
        "AWS_ACCESS_KEY_ID": "AK",
        "AWS_SECRET_ACCESS_KEY": "SK",
        "AUTH_JWT_SECRET": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0zMmJ5dGVz",
    }
    ours_ms, ours_rss = cold_start(ours_bin, env)
    hello_ms, hello_rss = cold_start(hello_bin, {})
    row("Lambda cold start (exec to first response, median of 31)", ours_ms, "bare lambda_http hello", hello_ms, "ms")
    row("Lambda peak RSS", ours_rss, "bare lambda_http hello", hello_rss, "KiB")
    sizes = lambda_binaries()
    summary["lambda_binary_bytes"] = sizes
    row("Lambda binary, x86_64 (stripped)", sizes["x86_64"]["ours"], "bare lambda_http hello", sizes["x86_64"]["hello"], "bytes")
    row("Lambda binary, arm64 (stripped, cargo lambda --arm64)", sizes["arm64"]["ours"], "bare lambda_http hello", sizes["arm64"]["hello"], "bytes")
    wasm = os.path.join(ROOT, "functions", "worker", "build", "index_bg.wasm")
    if os.path.exists(wasm):
        gz = len(subprocess.run(["gzip", "-9", "-c", wasm], capture_output=True, check=True).stdout)
        summary["worker_wasm"] = {"raw_bytes": os.path.getsize(wasm), "gzip_bytes": gz}

    (ours_rps, ours_p99), (js_rps, js_p99), (log_rps, log_p99) = worker_load()
    row("Worker POST /presign, requests/s (wrangler dev, wrk -c16, RUST_LOG=off)", ours_rps, "aws4fetch JS Worker", js_rps, "req/s")
    row("Worker POST /presign, p99 latency (RUST_LOG=off)", ours_p99, "aws4fetch JS Worker", js_p99, "ms")
    row("Worker POST /presign, requests/s with the request log on", log_rps, "aws4fetch JS Worker", js_rps, "req/s")

    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    def fmt(v, unit):
        if v is None:
            return "-"
        if unit == "ns":
            return f"{v / 1000:.2f} µs" if v >= 1000 else f"{v:.0f} ns"
        if unit == "ms":
            return f"{v:.2f} ms"
        if unit == "req/s":
            return f"{v:,.0f} req/s"
        return f"{v:,.0f} {unit}"

    lines = [
        "# Benchmarks",
        "",
        f"Measured by `scripts/bench.sh` on {summary['machine']}, {summary['date']}, all in one run. "
        "Ratio = how many times better ours is (alternative / ours for times and sizes, ours / alternative "
        "for requests per second); above 1 ours is ahead. Times are medians.",
        "",
        "| operation | ours | alternative | theirs | ratio |",
        "|---|---|---|---|---|",
    ]
    for op, ours, alt_name, alt, ratio, unit in rows:
        lines.append(f"| {op} | {fmt(ours, unit)} | {alt_name} | {fmt(alt, unit)} | {f'{ratio:.2f}x' if ratio else '-'} |")
    allocs = summary["allocations_per_op"]
    lines += ["", "Allocations per operation (counting global allocator): " + ", ".join(f"{k}: {v}" for k, v in allocs.items()) + "."]
    if "worker_wasm" in summary:
        w = summary["worker_wasm"]
        lines += ["", f"Worker wasm: {w['raw_bytes']:,} bytes raw, {w['gzip_bytes']:,} bytes gzip -9."]
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:] == ["--sizes"]:
        for arch, s in lambda_binaries().items():
            print(f"Lambda binary, {arch} (stripped): presign-lambda {s['ours']:,} bytes, lambda-hello {s['hello']:,} bytes")
    else:
        main()
