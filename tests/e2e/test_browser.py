"""A real browser (Debian's Chromium, headless, driven by playwright-core) does what the
encrypted-video uploader does, against both adapters: POST /presign from a page on an allowed
origin (the browser sends the CORS preflight), PUT the bytes with exactly the returned headers
to the returned URL (the store sits behind a CORS layer, like a bucket with a CORS rule), then
the test reads the object back and compares bytes. Also: a page on a disallowed origin is
blocked, an expired URL fails, and with single-use a second PUT fails."""

import base64
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from harness import (ROOT, TOOLS, LambdaHttpGateway, LambdaTarget, Store, WorkerTarget, base_env, free_port,
                     hs256_token)

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from store_cors_proxy import CorsProxy  # noqa: E402

BROWSER_DIR = os.path.join(os.path.dirname(__file__), "browser")
NODE_DIR = os.path.join(TOOLS, "node-browser")
DATA = os.urandom(64 * 1024)


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class PageServer:
    """Serves browser/page.html on 127.0.0.1:<port>; the origin is http://127.0.0.1:<port>."""

    def __init__(self):
        handler = functools.partial(QuietFiles, directory=BROWSER_DIR)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def in_browser(page, **args):
    shutil.copy(os.path.join(BROWSER_DIR, "drive.mjs"), os.path.join(NODE_DIR, "drive.mjs"))
    run = subprocess.run(["node", os.path.join(NODE_DIR, "drive.mjs"), page.origin + "/page.html", json.dumps(args)],
                         cwd=NODE_DIR, capture_output=True, text=True, timeout=90)
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
        return dict(api=self.api.base_url, token=hs256_token(), key=key, contentType="video/mp2t",
                    dataB64=base64.b64encode(DATA).decode(), **more)


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


def lambda_api(env):
    return LambdaHttpGateway(LambdaTarget(env))


# Every scenario against both adapters: LambdaBrowserUpload, WorkerBrowserExpiry, ...
for _adapter, _serve in (("Lambda", lambda_api), ("Worker", WorkerTarget)):
    for _cases in (UploadCases, ExpiryCases, SingleUseCases):
        _name = f"{_adapter}Browser{_cases.__name__.removesuffix('Cases')}"
        globals()[_name] = type(_name, (_cases, unittest.TestCase), {"serve": staticmethod(_serve)})


if __name__ == "__main__":
    unittest.main()
