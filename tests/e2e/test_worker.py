"""The shared cases against the Worker in workerd (wrangler dev), the read path against the
local R2 binding, and the parity test: Lambda and Worker answer byte-identical JSON."""

import json
import os
import re
import tempfile
import unittest

import cases
import store_cases
from harness import ORIGIN, LambdaTarget, Store, WorkerTarget, base_env, hs256_token, http, r2_put


class Worker(cases.AdapterCases, unittest.TestCase):
    @staticmethod
    def make_target(env):
        return WorkerTarget(env)


# The shared cases (cases.CASES), and multipart, the byte fields and DeleteObject, whose outcomes
# the store decides (store_cases.CASES, against s3s-fs and SeaweedFS): the same for both adapters.
globals().update(cases.bind("Worker", WorkerTarget, cases.CASES | store_cases.CASES))


class WorkerRateLimit(unittest.TestCase):
    """wrangler.toml's [[ratelimits]] binding, simulated by workerd: each caller (token `sub`)
    has its own budget; over it the answer is 429 rate_limited, never a URL, and other callers
    go on. The budget here is 3 per minute."""

    @classmethod
    def setUpClass(cls):
        cls.store = Store()
        cls.target = WorkerTarget(base_env(cls.store), rate_limit=3)

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.store.stop()

    def presign(self, sub):
        headers = {"content-type": "application/json", "authorization": f"Bearer {hs256_token({'sub': sub})}"}
        body = json.dumps({"key": f"content/rate/{sub}.ts", "contentType": "video/mp2t"}).encode()
        return self.target.request("POST", "/presign", headers, body)

    def test_each_caller_has_its_own_budget(self):
        first = [self.presign("caller-a").status for _ in range(3)]
        self.assertEqual(first, [200, 200, 200])
        over = self.presign("caller-a")
        self.assertEqual((over.status, over.json()["error"]), (429, "rate_limited"), over.text)
        self.assertEqual(over.headers.get("retry-after"), "10")
        self.assertNotIn("url", over.json())
        other = self.presign("caller-b")
        self.assertEqual(other.status, 200, other.text)
        self.assertIn('"caller":"caller-a"', self.target.logs())


class Parity(unittest.TestCase):
    """Same configuration, same request, same instant: the same bytes from both adapters."""

    def test_lambda_and_worker_answer_identically(self):
        store = Store()
        env = base_env(store, PRESIGN_SINGLE_USE="true")
        lam = LambdaTarget(env)
        wrk = WorkerTarget(env)
        try:
            body = json.dumps(
                {
                    "files": [
                        {"key": "content/parity/seg 0.ts", "contentType": "video/mp2t"},
                        {"key": "content/parity/ü.m3u8", "contentType": "application/vnd.apple.mpegurl"},
                    ]
                }
            ).encode()
            headers = cases.auth_headers(origin=ORIGIN)
            for _ in range(10):
                a = lam.request("POST", "/presign/batch", headers, body)
                b = wrk.request("POST", "/presign/batch", headers, body)
                date = lambda r: re.search(r"X-Amz-Date=(\w+)", r.text).group(1)
                if date(a) == date(b):  # both signed in the same second
                    break
            self.assertEqual((a.status, b.status), (200, 200), b.text)
            self.assertEqual(a.body, b.body)
            for name in ("content-type", "cache-control", "access-control-allow-origin", "vary"):
                self.assertEqual(a.headers.get(name), b.headers.get(name), name)
            for path, hs, data in (
                ("/presign", headers, b'{"key":"content/../x","contentType":"video/mp2t"}'),
                ("/presign", {"content-type": "application/json"}, b"{}"),
                ("/nope", {}, None),
                ("/health", {}, None),
            ):
                a = lam.request("POST" if data else "GET", path, hs, data)
                b = wrk.request("POST" if data else "GET", path, hs, data)
                self.assertEqual((a.status, a.body), (b.status, b.body), path)
        finally:
            lam.stop()
            wrk.stop()
            store.stop()


class WorkerReadPath(unittest.TestCase):
    """GET/HEAD /<key> from the local R2 binding wrangler dev simulates."""

    @classmethod
    def setUpClass(cls):
        cls.persist = tempfile.mkdtemp(prefix="presign-r2-")
        cls.segment = bytes(range(256)) * 40
        seg = os.path.join(cls.persist, "seg.ts")
        with open(seg, "wb") as f:
            f.write(cls.segment)
        pl = os.path.join(cls.persist, "index.m3u8")
        with open(pl, "w") as f:
            f.write("#EXTM3U\n")
        r2_put(cls.persist, "content/v1/seg-0.ts", seg, "video/mp2t")
        r2_put(cls.persist, "content/v1/index.m3u8", pl, "application/vnd.apple.mpegurl")
        # What an uploader with the default content types may store: a page and an SVG, each
        # with a script (finding 1 of the adversarial review).
        for name, ctype, text in (
            ("x.html", "text/html", "<html><body><script>document.title='owned'</script></body></html>"),
            ("x.svg", "image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ):
            path = os.path.join(cls.persist, name)
            with open(path, "w") as f:
                f.write(text)
            r2_put(cls.persist, f"content/v1/{name}", path, ctype)
        cls.store = Store()
        cls.target = WorkerTarget(base_env(cls.store, SERVE_OBJECTS="true"), persist_to=cls.persist)

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.store.stop()

    def get(self, path, method="GET", **headers):
        return http(method, self.target.base_url + path, headers)

    def test_whole_object_and_cache_headers(self):
        r = self.get("/content/v1/seg-0.ts")
        self.assertEqual((r.status, r.body), (200, self.segment))
        self.assertEqual(r.headers["cache-control"], "public, max-age=31536000, immutable")
        self.assertEqual(r.headers["content-type"], "video/mp2t")
        self.assertTrue(r.headers["etag"].startswith('"'))
        p = self.get("/content/v1/index.m3u8")
        self.assertEqual((p.status, p.body, p.headers["cache-control"]), (200, b"#EXTM3U\n", "no-cache"))

    def test_range(self):
        r = self.get("/content/v1/seg-0.ts", range="bytes=10-19")
        self.assertEqual((r.status, r.body), (206, self.segment[10:20]))
        self.assertEqual(r.headers["content-range"], f"bytes 10-19/{len(self.segment)}")
        r = self.get("/content/v1/seg-0.ts", range="bytes=-5")
        self.assertEqual((r.status, r.body), (206, self.segment[-5:]))
        r = self.get("/content/v1/seg-0.ts", range=f"bytes={len(self.segment)}-")
        self.assertEqual((r.status, r.headers["content-range"]), (416, f"bytes */{len(self.segment)}"))

    def test_if_none_match_304(self):
        etag = self.get("/content/v1/seg-0.ts").headers["etag"]
        r = self.get("/content/v1/seg-0.ts", **{"if-none-match": etag})
        self.assertEqual((r.status, r.body), (304, b""))
        self.assertEqual(r.headers["etag"], etag)
        self.assertEqual(self.get("/content/v1/seg-0.ts", **{"if-none-match": '"other"'}).status, 200)

    def test_head(self):
        r = self.get("/content/v1/seg-0.ts", method="HEAD")
        self.assertEqual((r.status, r.body, r.headers["content-length"]), (200, b"", str(len(self.segment))))

    def test_missing_and_outside_prefix(self):
        r = self.get("/content/v1/missing.ts")
        self.assertEqual((r.status, json.loads(r.body)["error"]), (404, "not_found"))
        self.assertEqual(self.get("/private/seg-0.ts").status, 404)
        # The URL parser resolves %2E%2E before the Worker sees it: /private/seg-0.ts, outside the prefixes.
        self.assertEqual(self.get("/content/%2E%2E/private/seg-0.ts").status, 404)
        r = self.get("/content/v1/a%7Cb.ts")
        self.assertEqual((r.status, json.loads(r.body)["error"]), (400, "invalid_key"))

    def test_active_content_is_never_served_as_such(self):
        for path in ("/content/v1/x.html", "/content/v1/x.svg"):
            for method in ("GET", "HEAD"):
                r = self.get(path, method=method)
                self.assertEqual(r.status, 200, path)
                self.assertEqual(r.headers["content-type"], "application/octet-stream", path)
                self.assertEqual(r.headers["content-disposition"], "attachment", path)
                self.assertEqual(r.headers["x-content-type-options"], "nosniff", path)
                self.assertEqual(r.headers["content-security-policy"], "default-src 'none'; sandbox", path)
        # Media keep their type, and carry the same guards.
        r = self.get("/content/v1/seg-0.ts")
        self.assertEqual((r.headers["content-type"], r.headers.get("content-disposition")), ("video/mp2t", None))
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")
        self.assertEqual(r.headers["content-security-policy"], "default-src 'none'; sandbox")

    def test_cors_on_reads(self):
        r = self.get("/content/v1/seg-0.ts", origin=ORIGIN, range="bytes=0-0")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.headers["access-control-allow-origin"], ORIGIN)
        self.assertEqual(r.headers["access-control-expose-headers"], "Content-Length, Content-Range, ETag")
        self.assertIn("Origin", r.headers["vary"])
        self.assertEqual(self.get("/content/v1/seg-0.ts", origin="http://evil.localhost").status, 403)


if __name__ == "__main__":
    unittest.main()
