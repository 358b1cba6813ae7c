"""A real browser (Debian's Chromium, headless, driven by playwright-core) against both
adapters, the bytes always going straight from the page to a real store that verifies
signatures; each test reads the object back and compares bytes.

- What the encrypted-video uploader does (page.html): POST /presign from a page on an allowed
  origin (the browser sends the CORS preflight), PUT the bytes with exactly the returned headers
  (s3s-fs behind a CORS layer, like a bucket with a CORS rule). Also: a page on a disallowed
  origin is blocked, an expired URL fails, and with single-use a second PUT fails.
- Uppy 6 (uppy.html: @uppy/core and @uppy/aws-s3 from npm, bundled by esbuild) with
  `signRequest` on POST /presign/request, a single PUT and a multipart upload, into SeaweedFS
  behind a bucket CORS rule; and docs/clients.md's fetch with a SHA-256 checksum.
- examples/browser/index.html, the page scripts/dev.sh serves, used as a person would, and the
  curl commands it prints."""

import base64
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from harness import (
    ACCESS_KEY,
    BUCKET,
    ROOT,
    SECRET_KEY,
    TOOLS,
    LambdaHttpGateway,
    LambdaTarget,
    SeaweedStore,
    Store,
    WorkerTarget,
    base_env,
    free_port,
    hs256_token,
    http,
    sigv4_presign,
)

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from store_cors_proxy import CorsProxy  # noqa: E402

BROWSER_DIR = os.path.join(os.path.dirname(__file__), "browser")
EXAMPLE_DIR = os.path.join(ROOT, "examples", "browser")
NODE_DIR = os.path.join(TOOLS, "node-browser")
DATA = os.urandom(64 * 1024)


class QuietFiles(SimpleHTTPRequestHandler):
    """The files of browser/, and the in-memory files of its server (`extra`: path -> bytes)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        data = self.server.extra.get(self.path)
        if data is None:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript" if self.path.endswith(".js") else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class PageServer:
    """Serves `directory` (browser/: page.html, uppy.html) and `extra` (path -> bytes) on
    127.0.0.1:<port>; the origin is http://127.0.0.1:<port>."""

    def __init__(self, extra=None, directory=BROWSER_DIR):
        handler = functools.partial(QuietFiles, directory=directory)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.httpd.extra = extra or {}
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def in_browser(page, path="/page.html", **args):
    shutil.copy(os.path.join(BROWSER_DIR, "drive.mjs"), os.path.join(NODE_DIR, "drive.mjs"))
    for _attempt in range(3):
        run = subprocess.run(
            ["node", os.path.join(NODE_DIR, "drive.mjs"), page.origin + path, json.dumps(args)], cwd=NODE_DIR, capture_output=True, text=True, timeout=90
        )
        # Chromium that dies while starting (a SIGSEGV on a loaded machine, seen in CI) has not
        # loaded the page yet, so nothing was uploaded: start it again. Any later failure counts.
        if not (run.returncode != 0 and "browserType.launch" in run.stderr):
            break
    if run.returncode != 0:
        raise AssertionError(f"browser driver failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


class BrowserCases:
    """Subclasses provide `serve(env)` returning an object with `base_url` and `stop()`."""

    extra_env = {}

    @classmethod
    def setUpClass(cls):
        cls.page = PageServer()
        cls.other_page = PageServer()  # same page, an origin that is not allowed
        cls.store = Store()
        cls.proxy = CorsProxy(cls.store.port, [cls.page.origin])
        env = base_env(cls.store, CORS_ORIGINS=cls.page.origin, S3_ENDPOINT=f"http://127.0.0.1:{cls.proxy.port}", **cls.extra_env)
        cls.api = cls.serve(env)

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.proxy.stop()
        cls.store.stop()
        cls.page.stop()
        cls.other_page.stop()

    def args(self, key, **more):
        return dict(api=self.api.base_url, token=hs256_token(), key=key, contentType="video/mp2t", dataB64=base64.b64encode(DATA).decode(), **more)


class UploadCases(BrowserCases):
    def test_upload_from_allowed_origin(self):
        key = f"content/browser-{time.time_ns()}/seg-0.ts"
        result = in_browser(self.page, **self.args(key))
        self.assertEqual(result, {"presign": 200, "puts": [200], "error": None})
        back = self.store.get(key)
        self.assertEqual((back.status, back.body), (200, DATA))
        self.assertEqual(back.headers.get("content-type"), "video/mp2t")

    def test_disallowed_origin_is_blocked(self):
        key = f"content/browser-{time.time_ns()}/seg-0.ts"
        result = in_browser(self.other_page, **self.args(key))
        self.assertEqual(result["presign"], None)
        self.assertTrue(result["error"].startswith("blocked"), result)
        self.assertEqual(self.store.get(key).status, 404)


class ExpiryCases(BrowserCases):
    extra_env = {"PRESIGN_EXPIRES_SECONDS": "1"}

    def test_expired_url_fails_in_the_browser(self):
        key = f"content/browser-{time.time_ns()}/late.ts"
        result = in_browser(self.page, **self.args(key, waitMs=2200))
        self.assertEqual(result, {"presign": 200, "puts": [403], "error": None})
        self.assertEqual(self.store.get(key).status, 404)


class SingleUseCases(BrowserCases):
    extra_env = {"PRESIGN_SINGLE_USE": "true"}

    def test_second_put_fails(self):
        key = f"content/browser-{time.time_ns()}/once.ts"
        result = in_browser(self.page, **self.args(key, puts=2))
        self.assertEqual(result, {"presign": 200, "puts": [200, 412], "error": None})
        self.assertEqual(self.store.get(key).body, DATA)


ESBUILD = os.path.join(TOOLS, "node", "node_modules", ".bin", "esbuild")
MIB = 1 << 20


def uppy_bundle(node_dir=NODE_DIR):
    """Uppy (@uppy/core, @uppy/aws-s3: scripts/setup-browser.sh installs 6 in NODE_DIR, 5 in
    NODE_DIR/uppy5) bundled by esbuild (scripts/setup-worker.sh) for uppy.html and uppy5.html:
    browser/uppy-entry.mjs, resolved in `node_dir`."""
    shutil.copy(os.path.join(BROWSER_DIR, "uppy-entry.mjs"), os.path.join(node_dir, "uppy-entry.mjs"))
    run = subprocess.run([ESBUILD, "uppy-entry.mjs", "--bundle", "--format=iife", "--log-level=warning"], cwd=node_dir, capture_output=True, timeout=60)
    if run.returncode != 0:
        raise RuntimeError(f"esbuild failed: {run.stderr.decode()[-2000:]}")
    return run.stdout


def cors_rule(origin, headers):
    """A bucket CORS rule as a deployment sets it for Uppy: `origin` may PUT, POST, GET and
    DELETE with `headers`, and reads ETag."""
    return (
        "<CORSConfiguration><CORSRule>"
        f"<AllowedOrigin>{origin}</AllowedOrigin>"
        + "".join(f"<AllowedMethod>{m}</AllowedMethod>" for m in ("PUT", "POST", "GET", "DELETE"))
        + "".join(f"<AllowedHeader>{h}</AllowedHeader>" for h in headers)
        + "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>"
        "</CORSRule></CORSConfiguration>"
    ).encode()


def uppy_store(origin):
    """SeaweedFS with cors_rule(origin, ...) on the bucket (PutBucketCors)."""
    store = SeaweedStore()
    body = cors_rule(origin, ["content-type", "if-none-match", "x-amz-checksum-sha256"])
    url = sigv4_presign("PUT", store.endpoint, BUCKET, None, ACCESS_KEY, SECRET_KEY, query={"cors": ""})
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = http("PUT", url, {"Content-MD5": md5, "Content-Type": "application/xml"}, body)
    if r.status != 200:
        store.stop()
        raise RuntimeError(f"PutBucketCors: {r.status} {r.text[:500]}")
    return store


class UppyPage:
    """Uppy 6 with @uppy/aws-s3's `signRequest` calling POST /presign/request (uppy.html, the
    snippet of docs/clients.md), uploading straight into SeaweedFS behind a bucket CORS rule for
    the page's origin that exposes ETag (which Uppy reads from each part's answer). SeaweedFS
    because Uppy needs `<Location>` in the answer to CompleteMultipartUpload, which s3s-fs
    lacks. PRESIGN_MAX_BYTES is set, so every request that creates bytes must carry the file's
    contentLength, and parts are signed with their exact length. The tests read the bytes back
    from the store."""

    SMALL = os.urandom(300 * 1024 + 7)
    BIG = os.urandom(12 * MIB + 12345)  # three parts: 5 MiB, 5 MiB, the rest
    MAX_BYTES = 64 * MIB
    extra_env = {}

    @classmethod
    def setUpClass(cls):
        cls.page = PageServer(
            {"/uppy.js": uppy_bundle(), "/uppy5.js": uppy_bundle(os.path.join(NODE_DIR, "uppy5")), "/data/small": cls.SMALL, "/data/big": cls.BIG}
        )
        cls.store = uppy_store(cls.page.origin)
        env = base_env(cls.store, CORS_ORIGINS=cls.page.origin, PRESIGN_MAX_BYTES=cls.MAX_BYTES, **cls.extra_env)
        cls.api = cls.serve(env)

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.store.stop()
        cls.page.stop()

    def uppy(self, name, multipart, prefix=None, page="/uppy.html", **more):
        """Uploads SMALL or BIG (`name` small.mp4 or big.mp4) with Uppy 6 (or 5: uppy5.html) as
        `prefix` + `name`."""
        prefix = prefix or f"content/uppy-{time.time_ns()}/"
        result = in_browser(
            self.page,
            page,
            api=self.api.base_url,
            token=hs256_token(),
            prefix=prefix,
            name=name,
            type="video/mp4",
            dataPath="/data/" + name.split(".")[0],
            multipart=multipart,
            reportConsole=True,
            **more,
        )
        return prefix + name, result

    def assert_stored(self, key, data):
        back = self.store.get(key)
        self.assertEqual(back.status, 200, key)
        self.assertEqual(len(back.body), len(data))
        self.assertTrue(back.body == data, "the stored bytes differ from the file's")
        self.assertEqual(back.headers.get("content-type"), "video/mp4")


class UppyCases(UppyPage):
    def test_uppy_single_put(self):
        key, r = self.uppy("small.mp4", multipart=False)
        self.assertEqual((r["error"], r["failed"], r["console"]), (None, [], []), r)
        # What Uppy 6 passes to signRequest for a single upload: the method, the key that
        # generateObjectKey chose, and the file's type (and nothing else).
        self.assertEqual(r["requests"], [{"method": "PUT", "key": key, "contentType": "video/mp4"}])
        self.assertEqual(
            r["answers"], [{"status": 200, "operation": "PutObject", "headers": {"content-type": "video/mp4", "content-length": str(len(self.SMALL))}}]
        )
        self.assertEqual([s["key"] for s in r["successful"]], [key])
        self.assertEqual(r["progress"], [len(self.SMALL), len(self.SMALL)])
        self.assert_stored(key, self.SMALL)

    def test_uppy_multipart(self):
        key, r = self.uppy("big.mp4", multipart=True)
        self.assertEqual((r["error"], r["failed"], r["console"]), (None, [], []), r)
        requests = r["requests"]
        self.assertEqual(len(requests), 5, requests)
        upload_id = requests[1].get("uploadId")
        self.assertTrue(upload_id, requests)
        # What Uppy 6 passes to signRequest for a multipart upload, in order: Create (no content
        # type: Uppy sends the file's type as a header), each part, Complete.
        self.assertEqual(
            requests,
            [
                {"method": "POST", "key": key},
                *({"method": "PUT", "key": key, "uploadId": upload_id, "partNumber": n} for n in (1, 2, 3)),
                {"method": "POST", "key": key, "uploadId": upload_id},
            ],
        )
        self.assertEqual([a["operation"] for a in r["answers"]], ["CreateMultipartUpload", "UploadPart", "UploadPart", "UploadPart", "CompleteMultipartUpload"])
        self.assertEqual(r["answers"][0]["headers"], {"content-type": "video/mp4"})
        last = len(self.BIG) - 10 * MIB
        self.assertEqual([a["headers"] for a in r["answers"][1:4]], [{"content-length": str(n)} for n in (5 * MIB, 5 * MIB, last)])
        self.assertEqual(r["answers"][4]["headers"], {})
        self.assertEqual([s["key"] for s in r["successful"]], [key])
        self.assertIn(key, r["successful"][0]["location"])  # from <Location> in Complete's answer
        self.assertEqual(r["progress"], [len(self.BIG), len(self.BIG)])
        self.assert_stored(key, self.BIG)

    def test_uppy_default_keys_are_refused(self):
        # A key outside the allowed prefixes (Uppy's default `${uuid}-${name}`, or a
        # `getObjectKey`, which Uppy 6 does not know) is refused before anything is signed.
        _, r = self.uppy("small.mp4", multipart=True, keyPrefixOverride="")
        self.assertEqual(r["requests"], [{"method": "POST", "key": "small.mp4"}])
        self.assertEqual(r["answers"], [{"status": 403, "error": "prefix_not_allowed"}])
        self.assertEqual(len(r["failed"]), 1, r)
        self.assertIn("prefix_not_allowed", r["failed"][0])
        self.assertEqual(r["successful"], [])
        self.assertEqual(self.store.get("small.mp4").status, 404)

    def test_fetch_with_a_sha256_checksum(self):
        # docs/clients.md's plain fetch with contentLength and checksumSha256 (WebCrypto), on a
        # store that verifies it: the right bytes are stored, other bytes refused (BadDigest).
        data = self.SMALL[: 64 * 1024]
        for tamper, puts in ((False, [200]), (True, [400])):
            key = f"content/sha-{time.time_ns()}/seg.ts"
            r = in_browser(
                self.page,
                api=self.api.base_url,
                token=hs256_token(),
                key=key,
                contentType="video/mp4",
                dataB64=base64.b64encode(data).decode(),
                sha256=True,
                tamper=tamper,
            )
            self.assertEqual(r, {"presign": 200, "puts": puts, "error": None})
            if tamper:
                self.assertEqual(self.store.get(key).status, 404)
            else:
                self.assert_stored(key, data)

    def test_uppy5_callbacks_on_presign_request(self):
        # docs/clients.md's mapping of Uppy 5's callbacks (uppy5.html): a single PUT through
        # getUploadParameters; createMultipartUpload, signPart for each part (Uppy 5 sends
        # several at once), completeMultipartUpload.
        for name, multipart, data in (("small.mp4", False, self.SMALL), ("big.mp4", True, self.BIG)):
            with self.subTest(multipart=multipart):
                key, r = self.uppy(name, multipart, page="/uppy5.html")
                self.assertEqual((r["error"], r["failed"], r["console"]), (None, [], []), r)
                self.assertEqual(len(r["successful"]), 1, r)
                requests = r["requests"]
                if multipart:
                    upload_id = requests[1].get("uploadId")
                    requests[1:4] = sorted(requests[1:4], key=lambda q: q["partNumber"])
                    self.assertEqual(
                        requests,
                        [
                            {"method": "POST", "key": key},
                            *({"method": "PUT", "key": key, "uploadId": upload_id, "partNumber": n} for n in (1, 2, 3)),
                            {"method": "POST", "key": key, "uploadId": upload_id},
                        ],
                    )
                else:
                    self.assertEqual(requests, [{"method": "PUT", "key": key}])
                self.assert_stored(key, data)

    def test_uppy5_list_parts_and_abort(self):
        # The callbacks Uppy 5 calls on resume (listParts) and cancel (abortMultipartUpload).
        _, r = self.uppy("big.mp4", True, page="/uppy5.html", steps=True)
        self.assertEqual(r["error"], None, r)
        self.assertEqual(
            r["steps"], [["UploadPart", 200], ["listParts", [[1, 5 * MIB]]], ["abortMultipartUpload"], ["listParts", "Error: ListParts failed: 404"]]
        )


class UppySingleUseCases(UppyPage):
    """PRESIGN_SINGLE_USE=true: Uppy 6 (6.2 and later) sends the headers signRequest returns, so
    the signed If-None-Match goes with the single PUT and with CompleteMultipartUpload, and a
    second upload of a key fails (412) instead of overwriting it."""

    extra_env = {"PRESIGN_SINGLE_USE": "true"}

    def test_a_second_upload_of_the_same_key_fails(self):
        for name, multipart, data in (("small.mp4", False, self.SMALL), ("big.mp4", True, self.BIG)):
            with self.subTest(multipart=multipart):
                key, first = self.uppy(name, multipart)
                self.assertEqual((first["failed"], first["console"]), ([], []), first)
                self.assertEqual(first["answers"][-1]["headers"].get("if-none-match"), "*")
                _, second = self.uppy(name, multipart, prefix=key.removesuffix(name))
                self.assertEqual(second["successful"], [])
                self.assertEqual(second["failed"], ["S3 returned 412 \u2013 PreconditionFailed"], second)
                self.assert_stored(key, data)


class ExamplePageCases:
    """examples/browser/index.html, the page scripts/dev.sh serves, used as a person would (choose
    a file, press Upload), against s3s-fs behind the CORS layer as scripts/dev.sh runs them: a
    small file in one PUT, a file of 12 MiB and a bit in parts (three parts, the progress bar at
    100%); then the curl commands the page prints for that file, run by bash, upload it again."""

    SMALL = os.urandom(100 * 1024 + 3)
    BIG = os.urandom(12 * MIB + 4321)

    @classmethod
    def setUpClass(cls):
        cls.page = PageServer(directory=EXAMPLE_DIR)
        cls.store = Store()
        cls.proxy = CorsProxy(cls.store.port, [cls.page.origin])
        env = base_env(cls.store, CORS_ORIGINS=cls.page.origin, S3_ENDPOINT=f"http://127.0.0.1:{cls.proxy.port}")
        cls.api = cls.serve(env)
        cls.files = tempfile.mkdtemp(prefix="presign-example-")
        for name, data in (("small.mp4", cls.SMALL), ("big.mp4", cls.BIG)):
            with open(os.path.join(cls.files, name), "wb") as f:
                f.write(data)

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.proxy.stop()
        cls.store.stop()
        cls.page.stop()
        shutil.rmtree(cls.files, ignore_errors=True)

    def use_page(self, name, key, in_parts, screenshot=None):
        shutil.copy(os.path.join(BROWSER_DIR, "drive-example.mjs"), os.path.join(NODE_DIR, "drive-example.mjs"))
        url = f"{self.page.origin}/#api={self.api.base_url}&token={hs256_token()}"
        args = dict(file=os.path.join(self.files, name), key=key, inParts=in_parts, screenshot=screenshot)
        run = subprocess.run(
            ["node", os.path.join(NODE_DIR, "drive-example.mjs"), url, json.dumps(args)], cwd=NODE_DIR, capture_output=True, text=True, timeout=150
        )
        if run.returncode != 0:
            raise AssertionError(f"browser driver failed: {run.stderr[-2000:]}")
        return json.loads(run.stdout.strip().splitlines()[-1])

    def assert_stored(self, key, data):
        back = self.store.get(key)
        self.assertEqual((back.status, len(back.body)), (200, len(data)), key)
        self.assertTrue(back.body == data, "the stored bytes differ from the file's")
        self.assertEqual(back.headers.get("content-type"), "video/mp4")

    def test_small_file_in_one_put(self):
        key = f"content/example-{time.time_ns()}/small.mp4"
        r = self.use_page("small.mp4", key, in_parts=False)
        self.assertIn("done", r["state"], r)
        self.assertEqual(r["console"], [])
        self.assertIn(f"PUT {key} ({len(self.SMALL)} bytes, video/mp4) -> stored", r["log"])
        self.assert_stored(key, self.SMALL)

    def test_large_file_in_parts_then_with_curl(self):
        key = f"content/example-{time.time_ns()}/big.mp4"
        shot = os.environ.get("PRESIGN_SCREENSHOT_DIR")
        shot = shot and os.path.join(shot, f"{type(self).__name__}.png")  # to look at the page
        r = self.use_page("big.mp4", key, in_parts=True, screenshot=shot)
        self.assertEqual(r["console"], [], r)
        size = len(self.BIG)
        self.assertTrue(r["state"].startswith(f"{size / MIB:.1f} MiB of {size / MIB:.1f} MiB (100%) - done"), r)
        for line in (
            "UploadPart 1/3 (5242880 bytes)",
            "UploadPart 2/3 (5242880 bytes)",
            f"UploadPart 3/3 ({size - 10 * MIB} bytes)",
            f"CompleteMultipartUpload -> {key} stored ({size} bytes in 3 parts)",
        ):
            self.assertIn(line, r["log"])
        self.assert_stored(key, self.BIG)
        # The page's curl commands for this key and file, as a person would paste them.
        self.assertEqual(self.store.get(key, "DELETE").status, 204)
        self.assertEqual(self.store.get(key).status, 404)
        run = subprocess.run(["bash", "-c", r["curl"]], cwd=self.files, env=dict(os.environ, TOKEN=hs256_token()), capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("<CompleteMultipartUploadResult", run.stdout)
        self.assert_stored(key, self.BIG)


def lambda_api(env):
    return LambdaHttpGateway(LambdaTarget(env))


# Every scenario against both adapters: LambdaBrowserUpload, WorkerBrowserExpiry, ...
for _adapter, _serve in (("Lambda", lambda_api), ("Worker", WorkerTarget)):
    for _cases in (UploadCases, ExpiryCases, SingleUseCases, UppyCases, UppySingleUseCases, ExamplePageCases):
        _name = f"{_adapter}Browser{_cases.__name__.removesuffix('Cases')}"
        globals()[_name] = type(_name, (_cases, unittest.TestCase), {"serve": staticmethod(_serve)})


if __name__ == "__main__":
    unittest.main()
