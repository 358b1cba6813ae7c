"""Shared machinery for the end-to-end tests: a real S3-compatible store that verifies SigV4
(s3s-fs), the Lambda Runtime API test double, the Lambda and Worker targets, tokens, and an
independent SigV4 signer for reading objects back.

Standard library only, so the suite runs on a fresh machine with nothing but Python 3.
"""

import base64
import hashlib
import hmac
import json
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.environ.get("PRESIGN_TOOLS", os.path.expanduser("~/.cache/presign-tools"))
S3S_BIN = os.environ.get("S3S_FS_BIN", os.path.join(TOOLS, "s3s-fs", "bin", "s3s-fs"))
LAMBDA_BIN = os.environ.get("PRESIGN_LAMBDA_BIN", os.path.join(ROOT, "target", "release", "presign-lambda"))

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

    def __init__(self):
        if not os.path.exists(S3S_BIN):
            raise RuntimeError(f"s3s-fs not found at {S3S_BIN}; run scripts/setup.sh")
        self.dir = tempfile.mkdtemp(prefix="presign-store-")
        os.makedirs(os.path.join(self.dir, BUCKET))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "..", f"s3s-{self.port}.log"), "w")
        self.proc = subprocess.Popen(
            [S3S_BIN, "--host", "127.0.0.1", "--port", str(self.port), "--access-key", ACCESS_KEY,
             "--secret-key", SECRET_KEY, "--domain", f"localhost:{self.port}", self.dir],
            stdout=self.log, stderr=subprocess.STDOUT)
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


def sigv4_presign(method, endpoint, bucket, key, access_key, secret_key, region="us-east-1", expires=60):
    """An independent, minimal SigV4 query presigner (path style, host header only)."""
    t = time.gmtime()
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", t)
    date = amz_date[:8]
    host = urllib.parse.urlparse(endpoint).netloc
    path = "/" + urllib.parse.quote(bucket, safe="") + "/" + urllib.parse.quote(key, safe="/~")
    scope = f"{date}/{region}/s3/aws4_request"
    params = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
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
                    self._send(200, json.dumps(event).encode(), {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:presign",
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    })
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

    def invoke(self, event, timeout=15):
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        with self.cond:
            if not self.cond.wait_for(lambda: request_id in self.results, timeout=timeout):
                raise TimeoutError("the function did not answer")
            kind, body = self.results.pop(request_id)
        if kind != "response":
            raise AssertionError(f"the function reported an error: {body!r}")
        return json.loads(body)

    def stop(self):
        self.server.shutdown()


def v2_event(method, path, headers, body):
    raw = body or b""
    is_b64 = bool(raw) and headers.get("x-test-base64") == "1"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items() if k.lower() != "x-test-base64"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api", "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": "29/Nov/2026:03:00:00 +0000", "timeEpoch": int(time.time() * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "e2e"},
        },
        "body": base64.b64encode(raw).decode() if is_b64 else raw.decode("utf-8", "replace") if raw else None,
        "isBase64Encoded": is_b64,
    }


def v1_event(method, path, headers, body, stage="prod"):
    raw = body or b""
    hs = {k: v for k, v in headers.items() if k.lower() != "x-test-base64"}
    is_b64 = bool(raw) and headers.get("x-test-base64") == "1"
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": hs,
        "multiValueHeaders": {k: [v] for k, v in hs.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": stage, "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "e2e"}, "resourcePath": "/{proxy+}",
            "httpMethod": method, "apiId": "api", "path": f"/{stage}{path}", "protocol": "HTTP/1.1",
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
    """The release `bootstrap` of functions/lambda, driven through the Runtime API double."""

    name = "lambda"

    def __init__(self, env, event_version="v2"):
        self.runtime = RuntimeApi()
        self.event_version = event_version
        self.logfile = tempfile.NamedTemporaryFile(prefix="presign-lambda-", suffix=".log", delete=False)
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.runtime.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "presign", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/presign",
            "AWS_LAMBDA_LOG_STREAM_NAME": "e2e", "AWS_REGION": "us-east-1",
        }
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
        hs = {k: v for k, v in (headers or {}).items() if k.lower() != "x-test-base64"}
        return http(method, self.base_url + path, hs, body)

    def logs(self):
        return self._logs()


# ---------- the Worker under wrangler dev ----------

WRANGLER = os.path.join(TOOLS, "node", "node_modules", ".bin", "wrangler")


class WorkerTarget(FileLog, HttpTarget):
    """The Worker in workerd via `scripts/worker-dev.sh` (wrangler dev), configured with --var."""

    def __init__(self, env, persist_to=None):
        self.port = free_port()
        self.logfile = tempfile.NamedTemporaryFile(prefix="presign-worker-", suffix=".log", delete=False)
        args = [os.path.join(ROOT, "scripts", "worker-dev.sh"), "--port", str(self.port),
                "--inspector-port", str(free_port()), "--log-level", "log"]
        if persist_to:
            args += ["--persist-to", persist_to]
        for k, v in env.items():
            args += ["--var", f"{k}:{v}"]
        self.proc = subprocess.Popen(args, stdout=self.logfile, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)
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


def r2_put(persist_to, key, path, content_type):
    """Seeds the local R2 bucket that `wrangler dev --persist-to` simulates."""
    env = dict(os.environ, WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false")
    subprocess.run([WRANGLER, "r2", "object", "put", f"my-video-bucket/{key}", "--file", path, "--content-type",
                    content_type, "--local", "--persist-to", persist_to], check=True, cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# ---------- a JWKS server the test controls ----------

FIXTURE_BIN = os.path.join(ROOT, "target", "debug", "examples", "jwt_fixture")


def jwt_fixture():
    """A fresh ES256 key set and tokens signed with it (shared/examples/jwt_fixture.rs)."""
    return json.loads(subprocess.run([FIXTURE_BIN], check=True, capture_output=True).stdout)


class JwksServer:
    """Serves `/jwks.json` on 127.0.0.1 as `mode` says: "ok" (the key set), "error" (HTTP 500),
    "garbage" (200 with HTML) or "slow" (the key set after 6 s, beyond the adapters' 3 s
    timeout); counts the fetches. `port=0` picks a free port; a fixed port lets a test name the
    URL before the server exists (an identity provider that is down when the function starts)."""

    def __init__(self, jwks, port=0, self_signed_tls=False):
        self.jwks = jwks
        self.mode = "ok"
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle(self):
                # In "slow" mode the adapter gives up before the answer: that is the point.
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                server.fetches += 1
                if server.mode == "slow":
                    time.sleep(6)
                if server.mode == "error":
                    body, status, ctype = b"oops", 500, "text/plain"
                elif server.mode == "garbage":
                    body, status, ctype = b"<html>not a key set</html>", 200, "text/html"
                else:
                    body, status, ctype = json.dumps(server.jwks).encode(), 200, "application/json"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if self_signed_tls:
            # HTTPS with a certificate no public root vouches for: a client that checks
            # certificates must refuse it before sending a request.
            import ssl
            certdir = tempfile.mkdtemp(prefix="presign-jwks-tls-")
            cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


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
