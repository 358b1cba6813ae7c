"""Shared machinery for the end-to-end tests: real S3-compatible stores that verify SigV4
(s3s-fs, and SeaweedFS where a test needs checksums verified), the Lambda Runtime API test double, the Lambda and Worker targets, tokens, and an
independent SigV4 signer for reading objects back.

Standard library only, so the suite runs on a fresh machine with nothing but Python 3.
"""

import atexit
import base64
import collections
import hashlib
import hmac
import json
import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.environ.get("PRESIGN_TOOLS", os.path.expanduser("~/.cache/presign-tools"))
S3S_BIN = os.environ.get("S3S_FS_BIN", os.path.join(TOOLS, "s3s-fs", "bin", "s3s-fs"))
WEED_BIN = os.environ.get("SEAWEEDFS_BIN", os.path.join(TOOLS, "seaweedfs", "bin", "weed"))
# Cargo's output folder: $CARGO_TARGET_DIR when set (as cargo reads it), else target/ in the repo.
TARGET_DIR = os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"))
LAMBDA_BIN = os.environ.get("PRESIGN_LAMBDA_BIN", os.path.join(TARGET_DIR, "release", "presign-lambda"))

ACCESS_KEY = "AKIDE2ETESTKEY000001"
SECRET_KEY = "e2e-Secret/Key+ShouldNeverAppear0123456789"
BUCKET = "videos"
JWT_SECRET = base64.b64encode(b"e2e-jwt-secret-that-is-32-bytes-long!!").decode()
ORIGIN = "http://app.localhost:5173"
SECRETS = [SECRET_KEY, JWT_SECRET, base64.b64decode(JWT_SECRET).decode()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """`n` distinct free ports: each socket stays bound until all are picked, so no port is
    handed out twice (calling free_port() n times may)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for_port(port, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


# ---------- tokens ----------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(claims=None, secret_b64=JWT_SECRET, exp_in=300):
    now = int(time.time())
    body = {"sub": "e2e", "iat": now, "exp": now + exp_in}
    body.update(claims or {})
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(body).encode())
    sig = hmac.new(base64.b64decode(secret_b64), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64url(sig)}"


# ---------- the store ----------


class Store:
    """s3s-fs on 127.0.0.1 with one bucket; verifies presigned SigV4 signatures and expiry."""

    name = "s3s-fs"

    def __init__(self):
        if not os.path.exists(S3S_BIN):
            raise RuntimeError(f"s3s-fs not found at {S3S_BIN}; run scripts/setup.sh")
        self.dir = tempfile.mkdtemp(prefix="presign-store-")
        os.makedirs(os.path.join(self.dir, BUCKET))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "..", f"s3s-{self.port}.log"), "w")
        self.proc = subprocess.Popen(
            [
                S3S_BIN,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--access-key",
                ACCESS_KEY,
                "--secret-key",
                SECRET_KEY,
                "--domain",
                f"localhost:{self.port}",
                self.dir,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, proc=self.proc)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def get(self, key, method="GET"):
        """Reads an object back with a URL signed by this module's own SigV4 code."""
        url = sigv4_presign(method, self.endpoint, BUCKET, key, ACCESS_KEY, SECRET_KEY)
        return http(method, url)


class SeaweedStore:
    """SeaweedFS 4.48 (`weed server`: master, volume, filer and S3 in one process) on 127.0.0.1
    with one bucket, the same interface as Store. Besides SigV4 and expiry it verifies a signed
    Content-MD5 and x-amz-checksum-sha256 without writing the bad bytes, which s3s-fs does not
    (docs/hardening.md); it takes about 3.5 s to start and 160 MiB. Every port is
    picked here, all distinct, so runs side by side never share one. It writes gRPC socket files
    under /tmp named by their ports whatever `-dir` says: they are removed with the store."""

    name = "seaweedfs"

    def __init__(self, timeout=60):
        if not os.path.exists(WEED_BIN):
            raise RuntimeError(f"SeaweedFS not found at {WEED_BIN}; run scripts/setup.sh")
        self.dir = tempfile.mkdtemp(prefix="presign-seaweed-")
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
        self.port = s3
        self.endpoint = f"http://127.0.0.1:{s3}"
        self.sockets = [
            os.path.join("/tmp", f"seaweedfs-{name}-grpc-{port}.sock")
            for name, port in (("master", master_grpc), ("volume", volume_grpc), ("filer", filer_grpc), ("s3", s3_grpc))
        ]
        self._remove_sockets()  # left by a killed run that had the same port numbers
        config = os.path.join(self.dir, "s3.json")
        with open(config, "w") as f:
            json.dump(
                {
                    "identities": [
                        {
                            "name": "e2e",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                },
                f,
            )
        self.log = open(os.path.join(self.dir, "weed.log"), "w")
        self.proc = subprocess.Popen(
            [
                WEED_BIN,
                "server",
                f"-dir={data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                f"-master.port.grpc={master_grpc}",
                "-master.volumeSizeLimitMB=64",
                "-master.telemetry=false",
                f"-volume.port={volume}",
                f"-volume.port.grpc={volume_grpc}",
                "-volume.max=8",
                "-filer",
                f"-filer.port={filer}",
                f"-filer.port.grpc={filer_grpc}",
                f"-filer.localSocket={os.path.join(self.dir, 'filer.sock')}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.port.grpc={s3_grpc}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={config}",
                f"-s3.localSocket={os.path.join(self.dir, 's3.sock')}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
        )
        atexit.register(self.stop)  # a 160 MiB process must not outlive an interrupted run
        try:
            self._create_bucket(time.time() + timeout)
        except BaseException as e:
            tail = self.logs()[-3000:]
            self.stop()
            raise RuntimeError(f"SeaweedFS did not start:\n{tail}") from e

    def _create_bucket(self, deadline):
        """Polls until S3 answers, then creates the bucket with a signed PUT /bucket (retried
        while the filer behind S3 is not ready yet)."""
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}")
            try:
                url = sigv4_presign("PUT", self.endpoint, BUCKET, None, ACCESS_KEY, SECRET_KEY)
                last = http("PUT", url, timeout=2)
                if last.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"no bucket on {self.endpoint}: " + (f"{last.status} {last.text[:300]}" if last else "no answer"))

    def logs(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _remove_sockets(self):
        for path in self.sockets:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def stop(self):
        """Kills the process by its PID (its graceful stop takes many seconds, and the data
        goes anyway), then removes its data dir and socket files. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()
        self._remove_sockets()
        shutil.rmtree(self.dir, ignore_errors=True)
        atexit.unregister(self.stop)

    def get(self, key, method="GET"):
        """Reads an object back with a URL signed by this module's own SigV4 code."""
        url = sigv4_presign(method, self.endpoint, BUCKET, key, ACCESS_KEY, SECRET_KEY)
        return http(method, url)


def sigv4_presign(method, endpoint, bucket, key, access_key, secret_key, region="us-east-1", expires=60, query=None):
    """An independent, minimal SigV4 query presigner (path style, host header only). `key=None`
    signs the bucket itself (`/bucket`, as CreateBucket); `query` adds signed parameters."""
    t = time.gmtime()
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", t)
    date = amz_date[:8]
    host = urllib.parse.urlparse(endpoint).netloc
    path = "/" + urllib.parse.quote(bucket, safe="")
    if key is not None:
        path += "/" + urllib.parse.quote(key, safe="/~")
    scope = f"{date}/{region}/s3/aws4_request"
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
    params.update(query or {})
    query = "&".join(f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}" for k, v in sorted(params.items()))
    canonical = f"{method}\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k = hmac.new(b"AWS4" + secret_key.encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{endpoint}{path}?{query}&X-Amz-Signature={sig}"


class Reply:
    def __init__(self, status, headers, body: bytes):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def http(method, url, headers=None, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())


def http_exact(method, url, headers, body=b"", timeout=30):
    """Sends exactly `headers` (and Host), with the body framed by its own Content-Length: no
    header added by a client library (urllib adds a Content-Type to every body). A signed
    content-length other than len(body) so reaches the store as a request whose length differs
    from the signed one, as a browser would send it. A store may answer a refused request before
    it has read the body and close the connection: the answer is still read."""
    u = urllib.parse.urlsplit(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, u.path + (f"?{u.query}" if u.query else ""), skip_accept_encoding=True)
        for k, v in headers.items():
            if k.lower() != "content-length":
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        try:
            conn.endheaders(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a store that refuses a request answers before reading its body, and closes
        r = conn.getresponse()
        return Reply(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


def http_repeated(method, url, pairs, body=None, timeout=10):
    """Sends `pairs` as they are, a name given twice as two header lines (urllib would keep
    one), with the body framed by its own Content-Length."""
    u = urllib.parse.urlsplit(url)
    conn = HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, u.path + (f"?{u.query}" if u.query else ""), skip_accept_encoding=True)
        for k, v in pairs:
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body or b"")
        r = conn.getresponse()
        return Reply(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


# ---------- the Lambda Runtime API test double ----------


class RuntimeApi:
    """Speaks the Lambda Runtime API (2018-06-01) like the Lambda service does: hands out one
    event per `next` call and collects the function's response or error."""

    def __init__(self):
        self.events = queue.Queue()
        self.results = {}
        self.cond = threading.Condition()
        self.init_error = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle(self):
                # The function is killed while it long-polls `next`: that is its normal end.
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    request_id, event = api.events.get()
                    self._send(
                        200,
                        json.dumps(event).encode(),
                        {
                            "Content-Type": "application/json",
                            "Lambda-Runtime-Aws-Request-Id": request_id,
                            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:presign",
                            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                        },
                    )
                else:
                    self._send(404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.split("/")
                if "init" in parts:
                    api.init_error = body
                elif "invocation" in parts:
                    request_id = parts[parts.index("invocation") + 1]
                    with api.cond:
                        api.results[request_id] = (parts[-1], body)
                        api.cond.notify_all()
                self._send(202, b"{}", {"Content-Type": "application/json"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke_raw(self, event, timeout=15):
        """Hands out `event` and returns what the function posted: ("response" or "error", body)."""
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        with self.cond:
            if not self.cond.wait_for(lambda: request_id in self.results, timeout=timeout):
                raise TimeoutError("the function did not answer")
            return self.results.pop(request_id)

    def invoke(self, event, timeout=15):
        kind, body = self.invoke_raw(event, timeout)
        if kind != "response":
            raise AssertionError(f"the function reported an error: {body!r}")
        return json.loads(body)

    def stop(self):
        self.server.shutdown()


def header_pairs(headers):
    """Headers as (name, value) pairs: a dict, or a list of pairs where a name may repeat (a
    header sent more than once)."""
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def v2_event(method, path, headers, body):
    raw = body or b""
    pairs = header_pairs(headers)
    is_b64 = bool(raw) and dict(pairs).get("x-test-base64") == "1"
    # As API Gateway's HTTP API does: names lower-cased, repeated values joined with commas.
    joined = {}
    for k, v in pairs:
        if k.lower() != "x-test-base64":
            joined[k.lower()] = f"{joined[k.lower()]},{v}" if k.lower() in joined else v
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api",
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "29/Nov/2026:03:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "e2e"},
        },
        "body": base64.b64encode(raw).decode() if is_b64 else raw.decode("utf-8", "replace") if raw else None,
        "isBase64Encoded": is_b64,
    }


def v1_event(method, path, headers, body, stage="prod"):
    raw = body or b""
    pairs = [(k, v) for k, v in header_pairs(headers) if k.lower() != "x-test-base64"]
    is_b64 = bool(raw) and dict(header_pairs(headers)).get("x-test-base64") == "1"
    # As API Gateway's REST API does: `headers` keeps the last of repeated values,
    # `multiValueHeaders` all of them.
    multi = {}
    for k, v in pairs:
        multi.setdefault(k, []).append(v)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(pairs),
        "multiValueHeaders": multi,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "e2e"},
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "api",
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(raw).decode() if is_b64 else raw.decode("utf-8", "replace") if raw else None,
        "isBase64Encoded": is_b64,
    }


def base_env(store, **extra):
    env = {
        "ENABLE_PRESIGN": "true",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT": store.endpoint,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AUTH_JWT_SECRET": JWT_SECRET,
        "CORS_ORIGINS": ORIGIN,
        "PRESIGN_ALLOWED_PREFIXES": "content/",
        "MASTER_KEY_HEX": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


class FileLog:
    """A target whose process writes its output to `self.logfile`."""

    def logs(self):
        with open(self.logfile.name, "rb") as f:
            return f.read().decode("utf-8", "replace")


def stop_process_group(proc, timeout=15):
    """Stops a child started with `start_new_session=True` and everything it started (wrangler
    dev's workerd, cargo lambda's function): SIGTERM to the group, SIGKILL if it lingers."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class LambdaTarget(FileLog):
    """The release `bootstrap` of functions/lambda, driven through the Runtime API double.
    `ca_file`: a PEM bundle the function trusts instead of the system store, given as
    `SSL_CERT_FILE` (which rustls-native-certs reads)."""

    name = "lambda"

    def __init__(self, env, event_version="v2", ca_file=None):
        self.runtime = RuntimeApi()
        self.event_version = event_version
        self.logfile = tempfile.NamedTemporaryFile(prefix="presign-lambda-", suffix=".log", delete=False)
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.runtime.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "presign",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/presign",
            "AWS_LAMBDA_LOG_STREAM_NAME": "e2e",
            "AWS_REGION": "us-east-1",
        }
        if ca_file:
            full_env["SSL_CERT_FILE"] = ca_file
        full_env.update(env)
        self.proc = subprocess.Popen([LAMBDA_BIN], env=full_env, stdout=self.logfile, stderr=subprocess.STDOUT)

    def request(self, method, path, headers=None, body=None, event_version=None):
        version = event_version or self.event_version
        make = v2_event if version == "v2" else v1_event
        out = self.runtime.invoke(make(method, path, headers or {}, body))
        raw = out.get("body") or ""
        data = base64.b64decode(raw) if out.get("isBase64Encoded") else raw.encode()
        hs = dict(out.get("headers") or {})
        for k, vs in (out.get("multiValueHeaders") or {}).items():
            hs[k] = ", ".join(vs)
        return Reply(out["statusCode"], hs, data)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.logfile.close()
        self.runtime.stop()


class HttpTarget:
    """Any adapter served over HTTP (the Worker under `wrangler dev`)."""

    def __init__(self, name, base_url, logs=lambda: ""):
        self.name = name
        self.base_url = base_url
        self._logs = logs

    def request(self, method, path, headers=None, body=None, event_version=None):
        pairs = [(k, v) for k, v in header_pairs(headers or {}) if k.lower() != "x-test-base64"]
        if len({k.lower() for k, _ in pairs}) < len(pairs):
            return http_repeated(method, self.base_url + path, pairs, body)
        return http(method, self.base_url + path, dict(pairs), body)

    def logs(self):
        return self._logs()


# ---------- the Worker under wrangler dev ----------

WRANGLER = os.path.join(TOOLS, "node", "node_modules", ".bin", "wrangler")


_worker_built = False


def worker_config(port, rate_limit=None):
    """wrangler.toml as the tests run it: the per-caller rate limiter off (the suites send far
    more requests per caller than any real client), or at `rate_limit` requests per minute; and
    without the `[build]` step, since the Worker is built once per test run here (wrangler dev
    would rebuild and re-optimise the wasm at every start, some 20 to 40 s each). Written beside
    wrangler.toml (git-ignored) so its relative paths still hold."""
    global _worker_built
    if not _worker_built:
        subprocess.run([os.path.join(ROOT, "scripts", "build-worker.sh")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _worker_built = True
    with open(os.path.join(ROOT, "wrangler.toml")) as f:
        text = f.read()
    limiter = re.compile(r"\[\[ratelimits\]\]\n(?:[^\[\n].*\n)*")
    build = re.compile(r"\[build\]\n(?:[^\[\n].*\n)*")
    assert limiter.search(text) and build.search(text), "wrangler.toml has a [[ratelimits]] and a [build] block"
    replacement = ""
    if rate_limit is not None:
        replacement = f'[[ratelimits]]\nname = "PRESIGN_RATE_LIMITER"\nnamespace_id = "1001"\nsimple = {{ limit = {rate_limit}, period = 60 }}\n'
    path = os.path.join(ROOT, f".wrangler-e2e-{port}.toml")
    with open(path, "w") as f:
        f.write(build.sub("", limiter.sub(replacement, text)))
    return path


class WorkerTarget(FileLog, HttpTarget):
    """The Worker in workerd via `scripts/worker-dev.sh` (wrangler dev), configured with --var.
    `ca_file`: a PEM file of certificates that the Worker's outbound `fetch` trusts besides the
    public roots, given as `NODE_EXTRA_CA_CERTS`: miniflare reads it when wrangler starts and
    lists its certificates in `tlsOptions.trustedCertificates` of workerd's "internet" network
    service (docs/jwks-fetch-tests.md)."""

    def __init__(self, env, persist_to=None, ca_file=None, rate_limit=None):
        self.port = free_port()
        self.logfile = tempfile.NamedTemporaryFile(prefix="presign-worker-", suffix=".log", delete=False)
        self.config = worker_config(self.port, rate_limit)
        args = [
            os.path.join(ROOT, "scripts", "worker-dev.sh"),
            "--config",
            self.config,
            "--port",
            str(self.port),
            "--inspector-port",
            str(free_port()),
            "--log-level",
            "log",
        ]
        if persist_to:
            args += ["--persist-to", persist_to]
        for k, v in env.items():
            args += ["--var", f"{k}:{v}"]
        proc_env = dict(os.environ)
        if ca_file:
            proc_env["NODE_EXTRA_CA_CERTS"] = ca_file
        self.proc = subprocess.Popen(args, stdout=self.logfile, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True, env=proc_env)
        super().__init__("worker", f"http://127.0.0.1:{self.port}", self.logs)
        deadline = time.time() + 240
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("wrangler dev exited:\n" + self.logs()[-3000:])
            try:
                r = http("GET", self.base_url + "/health", timeout=2)
                if r.status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError("wrangler dev did not answer /health:\n" + self.logs()[-3000:])

    def stop(self):
        stop_process_group(self.proc)
        self.logfile.close()
        if os.path.exists(self.config):
            os.remove(self.config)


def r2_put(persist_to, key, path, content_type):
    """Seeds the local R2 bucket that `wrangler dev --persist-to` simulates."""
    env = dict(os.environ, WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false")
    subprocess.run(
        [WRANGLER, "r2", "object", "put", f"my-video-bucket/{key}", "--file", path, "--content-type", content_type, "--local", "--persist-to", persist_to],
        check=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


# ---------- a JWKS server the test controls ----------

FIXTURE_BIN = os.path.join(TARGET_DIR, "debug", "examples", "jwt_fixture")


def jwt_fixture():
    """A fresh ES256 key set and tokens signed with it (shared/examples/jwt_fixture.rs)."""
    return json.loads(subprocess.run([FIXTURE_BIN], check=True, capture_output=True).stdout)


# ---------- the test run's certificate authority ----------


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class LocalCa:
    """A certificate authority made with openssl for this test run, and a server certificate it
    signed for IP:127.0.0.1. An adapter started with `ca_file=local_ca().cert` trusts it
    (LambdaTarget: SSL_CERT_FILE; WorkerTarget: NODE_EXTRA_CA_CERTS); nothing else does."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="presign-test-ca-")
        atexit.register(shutil.rmtree, self.dir, True)
        path = lambda name: os.path.join(self.dir, name)
        self.cert, self.leaf_cert, self.leaf_key = path("ca.pem"), path("leaf.pem"), path("leaf.key")
        p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl(
            "req",
            "-x509",
            *p256,
            "-keyout",
            path("ca.key"),
            "-out",
            self.cert,
            "-days",
            "2",
            "-subj",
            "/CN=presign e2e test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        )
        openssl("req", *p256, "-keyout", self.leaf_key, "-out", path("leaf.csr"), "-subj", "/CN=127.0.0.1")
        with open(path("leaf.ext"), "w") as f:
            f.write(
                "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
            )
        openssl(
            "x509",
            "-req",
            "-in",
            path("leaf.csr"),
            "-CA",
            self.cert,
            "-CAkey",
            path("ca.key"),
            "-CAcreateserial",
            "-CAserial",
            path("ca.srl"),
            "-out",
            self.leaf_cert,
            "-days",
            "1",
            "-extfile",
            path("leaf.ext"),
        )


_LOCAL_CA = None


def local_ca():
    """The one LocalCa of this test run, made on first use."""
    global _LOCAL_CA
    if _LOCAL_CA is None:
        _LOCAL_CA = LocalCa()
    return _LOCAL_CA


# ---------- a JWKS server the test controls ----------

KEY_SET_CAP = 256 * 1024  # docs/contract.md, AUTH_JWKS_URL: the most an adapter may take of a key set
# Bounds of every long answer (PaddedKeySet, EndlessKeySet, "trickle"), so that the server always
# ends by itself, whatever the client does. 48 MiB is what a client that buffers the whole body
# pulls on loopback in well under a second (measured: over 100 MiB/s through workerd), and far
# above what a client that stops at the cap lets the server send (SENT_LIMIT in cases.py).
STREAM_MAX_BYTES = 48 << 20
STREAM_MAX_SECONDS = 10


class KeySet:
    """The server's key set, as its `mode` says: "ok" (200 with the key set), "error" (HTTP
    500), "garbage" (200 with HTML), "slow" (the key set after 6 s, beyond the adapters' 3 s
    timeout) or "trickle" (the headers at once, then the key set one byte every 0.25 s, for
    about a minute: a body slower than the 3 s total timeout)."""

    def serve(self, h, server, path):
        if server.mode == "slow":
            time.sleep(6)
        if server.mode == "error":
            h.answer(500, b"oops", "text/plain")
        elif server.mode == "garbage":
            h.answer(200, b"<html>not a key set</html>", "text/html")
        elif server.mode == "trickle":
            body = json.dumps(server.jwks).encode()
            h.head(200, "application/json", {"Content-Length": str(len(body))})
            started = time.time()
            for i in range(len(body)):
                if time.time() - started > STREAM_MAX_SECONDS:
                    break
                h.send_body(path, body[i : i + 1])
                time.sleep(0.25)
        else:
            h.answer(200, json.dumps(server.jwks).encode(), "application/json")


class Redirect:
    """`status` (302) with `Location: location`, an empty body."""

    def __init__(self, location, status=302):
        self.location, self.status = location, status

    def serve(self, h, server, path):
        h.head(self.status, "text/plain", {"Location": self.location, "Content-Length": "0"})


class PaddedKeySet:
    """The server's key set, then JSON whitespace up to `size` bytes, with that Content-Length:
    a valid key set of any length. A client that ignores the cap accepts it."""

    def __init__(self, size):
        assert size <= STREAM_MAX_BYTES
        self.size = size

    def serve(self, h, server, path):
        body = json.dumps(server.jwks).encode()
        h.head(200, "application/json", {"Content-Length": str(self.size)})
        h.send_body(path, body)
        left, started, spaces = self.size - len(body), time.time(), b" " * 65536
        while left > 0 and time.time() - started < STREAM_MAX_SECONDS:
            n = min(left, len(spaces))
            h.send_body(path, spaces[:n])
            left -= n


class EndlessKeySet:
    """200, chunked, no Content-Length: `{"keys":[` and then JWK-shaped entries, one 64 KiB chunk
    flushed at a time, never closing the array. Stops when the client hangs up, or after
    STREAM_MAX_BYTES or STREAM_MAX_SECONDS (then it ends the chunked body: still no key set)."""

    ENTRY = b'{"kty":"EC","crv":"P-256","kid":"padding","use":"sig","x":"' + b"A" * 43 + b'","y":"' + b"B" * 43 + b'"},'
    BLOCK = ENTRY * (65536 // len(ENTRY))

    def serve(self, h, server, path):
        h.head(200, "application/json", {"Transfer-Encoding": "chunked"})
        chunk = lambda data: b"%x\r\n%s\r\n" % (len(data), data)
        h.send_body(path, chunk(b'{"keys":['))
        started = time.time()
        while server.sent[path] < STREAM_MAX_BYTES and time.time() - started < STREAM_MAX_SECONDS:
            h.send_body(path, chunk(self.BLOCK))
        h.send_body(path, b"0\r\n\r\n")


class QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer is what some tests are about: no traceback for it."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class JwksServer:
    """An identity provider on 127.0.0.1 that the test controls. `routes` maps a path to what
    it answers (KeySet, Redirect, PaddedKeySet, EndlessKeySet; anything else is 404); the default
    is the key set at `/jwks.json`, as `mode` says (see KeySet). Counts the requests (`fetches`
    in all, `hits[path]` per path) and the body bytes written per path (`sent[path]`: what the
    client, or the kernel's socket buffers on its behalf, took before the end or the hang-up).
    `tls`: None (plain HTTP), "self_signed" (a certificate that no root and no LocalCa vouches
    for) or "local_ca" (signed by local_ca()). `port=0` picks a free port; a fixed port lets a
    test name the URL before the server exists (an identity provider down when the function
    starts). Every answer says `Connection: close`: one request per connection, so the counts are
    per request and no client reuses a connection the server has closed."""

    def __init__(self, jwks, port=0, tls=None, routes=None):
        self.jwks = jwks
        self.mode = "ok"
        self.routes = routes if routes is not None else {"/jwks.json": KeySet()}
        self.fetches = 0
        self.hits = collections.Counter()
        self.sent = collections.Counter()
        self._busy = 0
        self._cond = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # for chunked bodies; every answer closes the connection
            timeout = STREAM_MAX_SECONDS  # a write the client no longer reads fails, never hangs

            def log_message(self, *args):
                pass

            def handle(self):
                # A client that gives up (timeout, cap, untrusted certificate) hangs up: expected.
                try:
                    super().handle()
                except OSError:
                    pass

            def head(self, status, ctype, headers):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()

            def send_body(self, path, data):
                self.wfile.write(data)
                with server._cond:
                    server.sent[path] += len(data)

            def answer(self, status, body, ctype):
                self.head(status, ctype, {"Content-Length": str(len(body))})
                self.send_body(self.path.split("?", 1)[0], body)

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with server._cond:
                    server.fetches += 1
                    server.hits[path] += 1
                    server._busy += 1
                try:
                    route = server.routes.get(path)
                    if route is None:
                        self.answer(404, b"no such path", "text/plain")
                    else:
                        route.serve(self, server, path)
                finally:
                    with server._cond:
                        server._busy -= 1
                        server._cond.notify_all()

        self.httpd = QuietHTTPServer(("127.0.0.1", port), Handler)
        self.scheme = "http"
        if tls == "self_signed":
            # HTTPS with a certificate no public root (nor LocalCa) vouches for: a client that
            # checks certificates must refuse it before sending a request.
            certdir = tempfile.mkdtemp(prefix="presign-jwks-tls-")
            cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem")
            openssl(
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            )
        elif tls == "local_ca":
            cert, key = local_ca().leaf_cert, local_ca().leaf_key
        elif tls is not None:
            raise ValueError(f"tls must be None, 'self_signed' or 'local_ca', not {tls!r}")
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = self.url_for("/jwks.json")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url_for(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def wait_until_idle(self, timeout=STREAM_MAX_SECONDS + 5):
        """Waits until no answer is being written (a long one ends by its bounds at the latest),
        so that `sent` is final; True if it got there in time."""
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout=timeout)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------- an HTTP front for the Lambda (what API Gateway does) ----------


class LambdaHttpGateway:
    """Turns HTTP requests into API Gateway v2 events for a LambdaTarget and its answers back
    into HTTP, so a browser can call the Lambda release binary through the Runtime API."""

    def __init__(self, target):
        self.target = target
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = self.path.split("?", 1)[0]
                reply = gateway.target.request(self.command, path, dict(self.headers.items()), body)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    if k != "content-length":
                        self.send_header(k, v)
                data = b"" if self.command == "HEAD" else reply.body
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_OPTIONS = do_HEAD = do_DELETE = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.target.stop()
