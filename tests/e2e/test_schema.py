"""Schema-driven fuzzing of the HTTP API: schemathesis generates requests from openapi.yaml
(its examples, boundary values, schema-violating data, undeclared methods, then random data)
and checks every answer of both adapters against the document: no 5xx, documented status,
content type, headers and body schema, schema-violating requests refused, no answer without
the token.

- Lambda: the real function under `cargo lambda watch` (a Function URL emulator, as
  scripts/dev.sh runs it), which builds the debug binary first.
- Worker: workerd under `wrangler dev` (scripts/worker-dev.sh), with the local R2 bucket
  holding the object the document's `GET /{key}` example names.

Both use the real store (s3s-fs). The configuration allows many one-character key prefixes so
that generated keys often pass the prefix rule and reach the signer (a 200 answer), instead of
all stopping at `403 prefix_not_allowed`.

Every operation of the document is fuzzed on both adapters, `/presign/request` and
`/presign/parts` included (the token on the command line is valid for all of them). The
optional limits differ between the two runs, so that between them every answer the document
describes can occur: the Lambda signs DeleteObject and single-use headers
(PRESIGN_ALLOW_DELETE, PRESIGN_SINGLE_USE: `if-none-match` in `headers`), the Worker bounds
sizes and requires checksums (PRESIGN_MAX_BYTES, PRESIGN_REQUIRE_CHECKSUM: `length_required`,
`too_large`, `checksum_required`, `operation_not_allowed`). Under the Worker's limits most
generated `/presign/parts` bodies are refused (a size, an MD5 per part and part numbers within
the plan are all required), so schemathesis warns there of a "schema validation mismatch":
expected, and not a failure. After each run the test checks that every operation of the
document was requested (from the run's HAR record) and prints the statuses each one answered.

Env: SCHEMA_MAX_EXAMPLES (test cases per operation and phase, default 300), SCHEMA_SEED (repeat
a run: schemathesis prints the seed it used).
"""

import collections
import json
import os
import shutil
import string
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import ORIGIN, ROOT, TOOLS, FileLog, Store, WorkerTarget, base_env, free_port, hs256_token, http, r2_put, stop_process_group

VENV_BIN = os.path.join(TOOLS, "venv", "bin")
SCHEMATHESIS = os.path.join(VENV_BIN, "schemathesis")
SPEC = os.path.join(ROOT, "openapi.yaml")
HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema_hooks.py")
MAX_EXAMPLES = os.environ.get("SCHEMA_MAX_EXAMPLES", "300")

# Every check that applies to a stateless API. Left out: positive_data_acceptance (a key must
# also start with a configured prefix and avoid the characters and segments the key rules
# forbid, which the document states in words, not as a schema), and the checks that need
# stateful links or per-user resources (use_after_free, ensure_resource_availability,
# object_level_authorization).
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "ignored_auth",
    ]
)

# The document's examples: the Origin of its preflight example, the object of its GET example.
EXAMPLE_ORIGIN = "http://localhost:5173"
EXAMPLE_OBJECT = "content/v1/seg-0.ts"
PREFIXES = ",".join(list(string.ascii_letters + string.digits) + ["-", "_", ".", "!", "é", "ü", "中"])


# Per adapter, see the module's docstring.
LAMBDA_LIMITS = {"PRESIGN_ALLOW_DELETE": "true", "PRESIGN_SINGLE_USE": "true"}
WORKER_LIMITS = {"PRESIGN_MAX_BYTES": str(100 * 1024 * 1024), "PRESIGN_REQUIRE_CHECKSUM": "true"}


def schema_env(store, **limits):
    return base_env(store, SERVE_OBJECTS="true", CORS_ORIGINS=f"{ORIGIN},{EXAMPLE_ORIGIN}", PRESIGN_ALLOWED_PREFIXES=PREFIXES, **limits)


def documented_operations():
    """Every `METHOD /path` of openapi.yaml, read without a YAML library (the suite needs only
    the standard library): path keys are indented 2 spaces under `paths:`, methods 4."""
    operations, path, in_paths = [], None, False
    with open(SPEC) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                in_paths = line.startswith("paths:")
                continue
            if in_paths and line.startswith("  /") and not line.startswith("   "):
                path = line.strip().rstrip(":").strip("'\"")
            elif in_paths and path and line.startswith("    ") and not line.startswith("     "):
                method = line.strip().rstrip(":")
                if method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
                    operations.append(f"{method.upper()} {path}")
    return operations


def answers_by_operation(har_path, base_url):
    """The statuses of every exchange the run recorded in `har_path`, counted per documented
    operation (`POST /presign/request`, ...; a path the document does not name literally is
    `/{key}`)."""
    literal = {op.split(" ", 1)[1] for op in documented_operations()} - {"/{key}"}
    base_path = urllib.parse.urlparse(base_url).path.rstrip("/")
    answers = collections.defaultdict(collections.Counter)
    with open(har_path) as f:
        entries = json.load(f)["log"]["entries"]
    for entry in entries:
        path = urllib.parse.urlparse(entry["request"]["url"]).path
        path = path[len(base_path) :] if path.startswith(base_path) else path
        operation = f"{entry['request']['method'].upper()} {path if path in literal else '/{key}'}"
        answers[operation][entry["response"]["status"]] += 1
    return answers


def run_schemathesis(base_url, hooks=None):
    """Runs the CLI against `base_url`; returns (exit code, output, command line, seconds,
    statuses per operation)."""
    work = tempfile.mkdtemp(prefix="presign-schemathesis-")  # it keeps state in ./.schemathesis
    har = os.path.join(work, "run.har")
    cmd = [
        SCHEMATHESIS,
        "--no-color",
        "run",
        SPEC,
        "--url",
        base_url,
        "--header",
        f"Authorization: Bearer {hs256_token(exp_in=1800)}",
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--report",
        "har",
        "--report-har-path",
        har,
    ]
    if os.environ.get("SCHEMA_SEED"):
        cmd += ["--seed", os.environ["SCHEMA_SEED"]]
    env = dict(os.environ)
    env.pop("SCHEMATHESIS_HOOKS", None)
    if hooks:
        env["SCHEMATHESIS_HOOKS"] = hooks
    started = time.time()
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        answers = answers_by_operation(har, base_url) if os.path.exists(har) else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    shown = [c if not c.startswith("Authorization:") else "Authorization: Bearer <token>" for c in cmd]
    return proc.returncode, proc.stdout, " ".join(shown), time.time() - started, answers


def summary(output):
    """The part of the output worth printing: from the failures (if any) or the summary on."""
    for marker in ("= FAILURES =", "= ERRORS =", "= WARNINGS =", "= SUMMARY ="):
        at = output.find(marker)
        if at >= 0:
            return output[output.rfind("\n", 0, at) + 1 :]
    return output[-6000:]


class LambdaWatch(FileLog):
    """The Lambda function under `cargo lambda watch` on 127.0.0.1, configured by an env file
    outside the repository (writes inside it would count as edits). `--ignore-changes`: the
    run tests one build, whatever else edits the tree meanwhile."""

    def __init__(self, env, build_timeout=900):
        self.dir = tempfile.mkdtemp(prefix="presign-watch-")
        env_file = os.path.join(self.dir, "lambda.env")
        with open(env_file, "w") as f:
            for k, v in env.items():
                f.write(f"{k}='{v}'\n")  # quoted, as scripts/dev.sh writes it
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/lambda-url/presign-lambda"
        self.logfile = open(os.path.join(self.dir, "watch.log"), "w")
        path = VENV_BIN + os.pathsep + os.environ.get("PATH", "")
        self.proc = subprocess.Popen(
            [
                "cargo",
                "lambda",
                "watch",
                "-p",
                "presign-lambda",
                "-A",
                "127.0.0.1",
                "-P",
                str(self.port),
                "--disable-cors",
                "--ignore-changes",
                "--env-file",
                env_file,
            ],
            cwd=ROOT,
            env=dict(os.environ, PATH=path),
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + build_timeout
        last, running_since = None, None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = self.logs()
                self.stop()
                raise RuntimeError("cargo lambda watch exited:\n" + log[-3000:])
            try:
                # The emulator holds a request until the function polls for it, so this also
                # waits for the build.
                last = http("GET", self.base_url + "/health", timeout=30)
                if last.status == 200:
                    return
            except OSError:
                pass
            if running_since is None and "Running `" in self.logs():
                running_since = time.time()
            if running_since is not None and time.time() - running_since > 30:
                break  # built and started, but /health does not answer 200
            time.sleep(1)
        log = self.logs()
        self.stop()
        answer = f"{last.status} {last.text}" if last else "nothing"
        raise RuntimeError(f"cargo lambda watch answers GET /health with {answer}; its log:\n" + log[-3000:])

    def stop(self):
        stop_process_group(self.proc)
        self.logfile.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(os.path.exists(SCHEMATHESIS), f"schemathesis not installed at {SCHEMATHESIS}; run scripts/setup.sh")
class SchemaFuzz(unittest.TestCase):
    """One schemathesis run per adapter; a run passes when schemathesis exits 0."""

    @classmethod
    def setUpClass(cls):
        cls.store = Store()

    @classmethod
    def tearDownClass(cls):
        cls.store.stop()

    def check_run(self, name, base_url, logs, hooks=None):
        code, output, cmd, seconds, answers = run_schemathesis(base_url, hooks)
        print(f"\n--- schemathesis against the {name} ({seconds:.0f} s): {cmd}\n{summary(output)}", flush=True)
        for operation in sorted(answers):
            statuses = ", ".join(f"{status}: {n}" for status, n in sorted(answers[operation].items()))
            print(f"    {operation}: {statuses}", flush=True)
        if code != 0:
            tail = logs()[-3000:]
            self.fail(f"schemathesis found problems in the {name} (exit {code}); adapter log tail:\n{tail}")
        untested = [op for op in documented_operations() if op not in answers]
        self.assertEqual(untested, [], f"operations of openapi.yaml that schemathesis never requested from the {name}")

    def test_lambda_under_cargo_lambda_watch(self):
        target = LambdaWatch(schema_env(self.store, **LAMBDA_LIMITS))
        try:
            self.check_run("Lambda (cargo lambda watch)", target.base_url, target.logs, hooks=HOOKS)
        finally:
            target.stop()

    def test_worker_under_wrangler_dev(self):
        persist = tempfile.mkdtemp(prefix="presign-r2-schema-")
        try:
            segment = os.path.join(persist, "seg.ts")
            with open(segment, "wb") as f:
                f.write(bytes(range(256)) * 8)
            r2_put(persist, EXAMPLE_OBJECT, segment, "video/mp2t")
            target = WorkerTarget(schema_env(self.store, **WORKER_LIMITS), persist_to=persist)
            try:
                self.check_run("Worker (wrangler dev)", target.base_url, target.logs)
            finally:
                target.stop()
        finally:
            shutil.rmtree(persist, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
