"""The end-to-end case list, written once and run against every adapter.

A subclass provides `make_target(env)` (start the adapter with that configuration) and the
cases below use the real store: every presigned URL is uploaded to s3s-fs, which verifies the
signature, and read back with an independently signed GET.
"""

import base64
import json
import time
import unittest
import urllib.parse

from harness import ORIGIN, SECRETS, Store, base_env, hs256_token, http

SEGMENT = bytes(range(256)) * 64  # 16 KiB of "encrypted" bytes


def auth_headers(token=None, **extra):
    h = {"authorization": f"Bearer {token or hs256_token()}", "content-type": "application/json"}
    h.update(extra)
    return h


def presign(target, key, content_type="video/mp2t", **kw):
    body = json.dumps({"key": key, "contentType": content_type}).encode()
    return target.request("POST", "/presign", auth_headers(), body, **kw)


def upload(answer, data=SEGMENT, headers=None):
    return http(answer["method"], answer["url"], headers if headers is not None else answer["headers"], data)


class WithStoreAndTarget:
    """Mixin for a unittest.TestCase with `make_target(env)`: one store and one adapter per
    class, configured with `base_env` plus `extra_env`."""

    store = None
    target = None
    extra_env = {}

    @classmethod
    def setUpClass(cls):
        cls.store = Store()
        try:
            cls.target = cls.make_target(base_env(cls.store, **cls.extra_env))
        except BaseException:
            cls.store.stop()  # tearDownClass does not run when setUpClass fails
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.target is not None:
            cls.target.stop()
        if cls.store is not None:
            cls.store.stop()


class AdapterCases(WithStoreAndTarget):
    """The main case list, with the default configuration."""

    def unique_key(self, name="seg-0.ts"):
        return f"content/{self.id().rsplit('.', 1)[-1]}-{time.time_ns()}/{name}"

    # --- the happy path, with the real store ---

    def test_upload_roundtrip(self):
        key = self.unique_key()
        r = presign(self.target, key)
        self.assertEqual(r.status, 200, r.text)
        answer = r.json()
        self.assertEqual(list(answer), ["url", "method", "headers", "expiresAt", "key"])
        self.assertEqual((answer["method"], answer["key"]), ("PUT", key))
        self.assertEqual(answer["headers"], {"content-type": "video/mp2t"})
        self.assertTrue(answer["url"].startswith(f"{self.store.endpoint}/videos/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"))
        put = upload(answer)
        self.assertEqual(put.status, 200, put.text)
        back = self.store.get(key)
        self.assertEqual(back.status, 200)
        self.assertEqual(back.body, SEGMENT)
        self.assertEqual(back.headers.get("content-type"), "video/mp2t")

    def test_key_with_characters_that_need_encoding(self):
        key = self.unique_key("vidéo seg+1 (a)=b&c!'*;,$@:.ts")
        r = presign(self.target, key)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)
        self.assertEqual(self.store.get(key).body, SEGMENT)

    def test_batch_roundtrip(self):
        keys = [self.unique_key(f"seg-{i}.ts") for i in range(3)]
        body = json.dumps({"files": [{"key": k, "contentType": "video/mp2t"} for k in keys]}).encode()
        r = self.target.request("POST", "/presign/batch", auth_headers(), body)
        self.assertEqual(r.status, 200, r.text)
        uploads = r.json()["uploads"]
        self.assertEqual([u["key"] for u in uploads], keys)
        for u in uploads:
            self.assertEqual(upload(u, data=u["key"].encode()).status, 200)
        for k in keys:
            self.assertEqual(self.store.get(k).body, k.encode())

    # --- what the store must refuse ---

    def test_changed_signature_is_refused(self):
        answer = presign(self.target, self.unique_key()).json()
        url = answer["url"]
        last = url[-1]
        answer["url"] = url[:-1] + ("0" if last != "0" else "1")
        self.assertEqual(upload(answer).status, 403)

    def test_changed_key_is_refused(self):
        key = self.unique_key()
        answer = presign(self.target, key).json()
        answer["url"] = answer["url"].replace(urllib.parse.quote(key, safe="/"), urllib.parse.quote(key + "x", safe="/"), 1)
        self.assertEqual(upload(answer).status, 403)

    def test_changed_content_type_is_refused(self):
        answer = presign(self.target, self.unique_key()).json()
        self.assertEqual(upload(answer, headers={"content-type": "text/html"}).status, 403)
        self.assertIn(upload(answer, headers={}).status, (400, 403))

    def test_changed_expiry_is_refused(self):
        answer = presign(self.target, self.unique_key()).json()
        answer["url"] = answer["url"].replace("X-Amz-Expires=300", "X-Amz-Expires=600")
        self.assertEqual(upload(answer).status, 403)

    # --- the contract, through the adapter ---

    def test_health(self):
        r = self.target.request("GET", "/health")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))

    def test_unauthorized(self):
        body = json.dumps({"key": "content/a.ts", "contentType": "video/mp2t"}).encode()
        for hs in ({"content-type": "application/json"},
                   {"content-type": "application/json", "authorization": "Bearer nope"},
                   {"content-type": "application/json", "authorization": "Bearer " + hs256_token(exp_in=-3600)},
                   {"content-type": "application/json", "authorization": "Bearer " + hs256_token(secret_b64="b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWNyZXQ=")}):
            r = self.target.request("POST", "/presign", hs, body)
            self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
            self.assertEqual(r.headers.get("www-authenticate"), "Bearer")
            self.assertNotIn("http", r.json()["message"])

    def test_bearer_scheme_case_insensitive(self):
        body = json.dumps({"key": self.unique_key(), "contentType": "video/mp2t"}).encode()
        r = self.target.request("POST", "/presign", {"authorization": "bEaReR " + hs256_token(), "content-type": "application/json"}, body)
        self.assertEqual(r.status, 200, r.text)

    def test_error_codes(self):
        cases = [
            ("/presign", b'{"key":"content/a.ts"}', 400, "invalid_json"),
            ("/presign", b"not json", 400, "invalid_json"),
            ("/presign", b'{"key":"content/../a.ts","contentType":"video/mp2t"}', 400, "invalid_key"),
            ("/presign", b'{"key":"/content/a.ts","contentType":"video/mp2t"}', 400, "invalid_key"),
            ("/presign", b'{"key":"private/a.ts","contentType":"video/mp2t"}', 403, "prefix_not_allowed"),
            ("/presign", b'{"key":"content/a.ts","contentType":"not a type"}', 400, "invalid_content_type"),
            ("/presign", json.dumps({"key": "content/a.ts", "contentType": "video/mp2t", "pad": "x" * 17000}).encode(), 413, "payload_too_large"),
            ("/presign/batch", b'{"files":[{"key":"content/a.ts","contentType":"video/mp2t"},{"key":"content//b.ts","contentType":"video/mp2t"}]}', 400, "invalid_key"),
        ]
        for path, body, status, code in cases:
            r = self.target.request("POST", path, auth_headers(), body)
            self.assertEqual((r.status, r.json()["error"]), (status, code), (path, body[:80]))
            self.assertTrue(r.json()["message"])
            self.assertNotIn("X-Amz-Signature", r.text)
        batch = self.target.request("POST", "/presign/batch", auth_headers(), cases[-1][1]).json()
        self.assertEqual(batch["index"], 1)

    def test_media_type_method_and_route(self):
        r = self.target.request("POST", "/presign", auth_headers(**{"content-type": "text/plain"}), b"{}")
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"))
        r = self.target.request("GET", "/presign")
        self.assertEqual((r.status, r.json()["error"], r.headers.get("allow")), (405, "method_not_allowed", "POST, OPTIONS"))
        r = self.target.request("GET", "/no/such/route")
        self.assertEqual((r.status, r.json()["error"]), (404, "not_found"))
        # A method the platform library does not know is still that method, not a GET
        # (workers-rs maps unknown methods to GET; found by schemathesis).
        for method in ("QUERY", "PATCH"):
            r = self.target.request(method, "/health")
            self.assertEqual((r.status, r.json()["error"]), (405, "method_not_allowed"), method)

    def test_cors(self):
        r = self.target.request("OPTIONS", "/presign", {"origin": ORIGIN, "access-control-request-method": "POST",
                                                         "access-control-request-headers": "authorization, content-type"})
        self.assertEqual(r.status, 204)
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN)
        self.assertEqual(r.headers.get("access-control-allow-methods"), "GET, HEAD, POST, OPTIONS")
        self.assertEqual(r.headers.get("access-control-allow-headers"), "authorization, content-type, range, if-none-match")
        self.assertEqual(r.headers.get("access-control-max-age"), "600")
        body = json.dumps({"key": self.unique_key(), "contentType": "video/mp2t"}).encode()
        r = self.target.request("POST", "/presign", auth_headers(origin=ORIGIN), body)
        self.assertEqual((r.status, r.headers.get("access-control-allow-origin")), (200, ORIGIN))
        self.assertIn("Origin", r.headers.get("vary", ""))
        r = self.target.request("POST", "/presign", auth_headers(origin="http://evil.localhost"), body)
        self.assertEqual((r.status, r.json()["error"]), (403, "origin_not_allowed"))
        self.assertIsNone(r.headers.get("access-control-allow-origin"))

    def test_zz_no_secret_in_logs(self):
        # Named to run last in its class, after every other case has logged.
        logs = self.target.logs()
        self.assertTrue(logs.strip(), "the adapter logged nothing at all")
        for secret in SECRETS:
            self.assertNotIn(secret, logs)
        self.assertNotIn("X-Amz-Signature", logs)
        self.assertNotIn("Bearer ", logs)


class SingleUseCases(WithStoreAndTarget):
    extra_env = {"PRESIGN_SINGLE_USE": "true"}

    def test_second_upload_fails_with_412(self):
        key = f"content/single-{time.time_ns()}.ts"
        answer = presign(self.target, key).json()
        self.assertEqual(answer["headers"], {"content-type": "video/mp2t", "if-none-match": "*"})
        self.assertEqual(upload(answer).status, 200)
        self.assertEqual(upload(answer, data=b"overwrite!").status, 412)
        self.assertEqual(self.store.get(key).body, SEGMENT)
        # Without the signed If-None-Match the signature does not match.
        self.assertEqual(upload(answer, headers={"content-type": "video/mp2t"}).status, 403)


class ExpiryCases(WithStoreAndTarget):
    extra_env = {"PRESIGN_EXPIRES_SECONDS": "1"}

    def test_expired_url_is_refused(self):
        answer = presign(self.target, f"content/expiry-{time.time_ns()}.ts").json()
        time.sleep(2.2)
        self.assertEqual(upload(answer).status, 403)


def bind(adapter, make_target, case_lists):
    """One unittest class per case list, bound to an adapter: bind("Lambda", LambdaTarget,
    {"Expiry": ExpiryCases}) gives {"LambdaExpiry": <class>} for a module's globals()."""
    return {f"{adapter}{name}": type(f"{adapter}{name}", (cases, unittest.TestCase), {"make_target": staticmethod(make_target)})
            for name, cases in case_lists.items()}


class JwksFixture:
    """A real JWKS server the test controls, starting in `initial_mode`, and an adapter that
    trusts it (no AUTH_JWT_SECRET). Subclasses provide `make_target(env)`."""

    initial_mode = "ok"
    extra_env = {}
    self_signed_tls = False

    @classmethod
    def setUpClass(cls):
        from harness import JwksServer, jwt_fixture
        cls.fixture = jwt_fixture()
        cls.jwks = JwksServer(cls.fixture["jwks"], self_signed_tls=cls.self_signed_tls)
        cls.jwks.mode = cls.initial_mode
        cls.store = Store()
        env = base_env(cls.store, AUTH_JWKS_URL=cls.jwks.url, **cls.extra_env)
        del env["AUTH_JWT_SECRET"]
        try:
            cls.target = cls.make_target(env)
        except BaseException:
            cls.store.stop()
            cls.jwks.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.store.stop()
        cls.jwks.stop()

    def call(self, token):
        body = json.dumps({"key": f"content/jwks-{time.time_ns()}.ts", "contentType": "video/mp2t"}).encode()
        return self.target.request("POST", "/presign", auth_headers(token), body)


class JwksCases(JwksFixture):
    """Auth through a real JWKS server: outage -> 503 (never open), recovery, caching, and HS256
    tokens refused."""

    initial_mode = "error"  # the identity provider is down when the function starts

    def test_outage_recovery_and_caching(self):
        token = self.fixture["token"]
        r = self.call(token)
        self.assertEqual((r.status, r.json()["error"]), (503, "auth_unavailable"), r.text)
        self.assertNotIn("url", r.json())
        self.jwks.mode = "garbage"
        time.sleep(5.2)  # the core retries a failed fetch after 5 s
        r = self.call(token)
        self.assertEqual((r.status, r.json()["error"]), (503, "auth_unavailable"), "garbage is not a key set")
        self.jwks.mode = "ok"
        time.sleep(5.2)
        r = self.call(token)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)
        fetched = self.jwks.fetches
        for _ in range(5):
            self.assertEqual(self.call(token).status, 200)
        self.assertEqual(self.jwks.fetches, fetched, "keys are cached, not fetched per request")
        # A token from a key the set does not hold: 401, and at most one refetch per 30 s.
        for _ in range(5):
            r = self.call(self.fixture["rotated_token"])
            self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
        self.assertLessEqual(self.jwks.fetches - fetched, 1)
        # An HS256 token is refused when a JWKS is configured.
        self.assertEqual(self.call(hs256_token()).status, 401)


class JwksAlgorithmCases(JwksFixture):
    """Every JWKS algorithm (RS256, RS384, RS512, PS256, ES256, ES384, EdDSA) with a real token:
    accepted and uploaded; the same token with one signature bit flipped, or its signature moved
    onto other claims, refused. The Lambda verifies in Rust, the Worker with WebCrypto."""

    def test_every_algorithm_verifies_and_tampering_is_refused(self):
        for alg, token in sorted(self.fixture["algorithms"].items()):
            with self.subTest(alg=alg):
                r = self.call(token)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(upload(r.json()).status, 200)
                signing_input, sig = token.rsplit(".", 1)
                raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
                raw[len(raw) // 3] ^= 1
                flipped = signing_input + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
                header = signing_input.split(".")[0]
                claims = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 9999}).encode()).rstrip(b"=").decode()
                for forged in (flipped, f"{header}.{claims}.{sig}"):
                    r = self.call(forged)
                    self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"), r.text)
                    self.assertEqual(r.json()["message"], "The token's signature does not verify.")
        self.assertEqual(self.jwks.fetches, 1, "one fetch serves every key")


def unknown_kid_token(kid):
    """A token naming a key the set does not hold (its signature is never reached)."""
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'ES256', 'typ': 'JWT', 'kid': kid})}.{b64({'exp': int(time.time()) + 300})}.c2lnbmF0dXJl"


class JwksRotationCases(JwksFixture):
    """The identity provider rotates its key: the new `kid` is accepted after the one refetch the
    expired cache allows, the old one is refused from then on, and a flood of unknown `kid`s
    costs at most one fetch."""

    extra_env = {"AUTH_JWKS_CACHE_SECONDS": 2}

    def test_rotation_after_cache_expiry_and_unknown_kid_flood(self):
        old, new = self.fixture["token"], self.fixture["rotated_token"]
        self.assertEqual(self.call(old).status, 200)
        fetched = self.jwks.fetches
        self.jwks.jwks = self.fixture["rotated_jwks"]  # the IdP rotates: only the new key is published
        # Within the cache time the old key is still trusted and an unknown kid may not force a
        # refetch (the last fetch is under 30 s old): the new token is refused for now.
        self.assertEqual(self.call(old).status, 200)
        r = self.call(new)
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"), r.text)
        self.assertEqual(self.jwks.fetches, fetched)
        time.sleep(2.2)  # AUTH_JWKS_CACHE_SECONDS=2: the cached set expires
        r = self.call(new)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)
        self.assertEqual(self.jwks.fetches, fetched + 1, "exactly one refetch brings the new key")
        r = self.call(old)
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"), "the rotated-out key is refused")
        self.assertEqual(self.jwks.fetches, fetched + 1)
        # A flood of unknown kids right after the set expires again: one fetch, then all 401.
        time.sleep(2.2)
        for i in range(40):
            r = self.call(unknown_kid_token(f"flood-{i}"))
            self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"), r.text)
        self.assertLessEqual(self.jwks.fetches - (fetched + 1), 1, "at most one refetch for the whole flood")
        self.assertEqual(self.call(new).status, 200, "the flood did not evict the good key")


class JwksDownAtStartCases(JwksFixture):
    """Nothing listens at AUTH_JWKS_URL when the function starts (connection refused): 503,
    never an open door; once the identity provider is up, the next attempt succeeds."""

    @classmethod
    def setUpClass(cls):
        from harness import JwksServer, free_port, jwt_fixture
        cls.fixture = jwt_fixture()
        cls.port = free_port()
        cls.jwks = None
        cls.store = Store()
        env = base_env(cls.store, AUTH_JWKS_URL=f"http://127.0.0.1:{cls.port}/jwks.json")
        del env["AUTH_JWT_SECRET"]
        try:
            cls.target = cls.make_target(env)
        except BaseException:
            cls.store.stop()
            raise
        cls.JwksServer = JwksServer

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.store.stop()
        if cls.jwks:
            cls.jwks.stop()

    def test_down_then_up(self):
        r = self.call(self.fixture["token"])
        self.assertEqual((r.status, r.json()["error"]), (503, "auth_unavailable"), r.text)
        self.assertNotIn("url", r.json())
        self.assertEqual(self.call(self.fixture["token"]).status, 503, "no retry storm: still 503 within 5 s")
        type(self).jwks = self.JwksServer(self.fixture["jwks"], port=self.port)
        time.sleep(5.2)  # the core retries a failed fetch after 5 s
        r = self.call(self.fixture["token"])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.jwks.fetches, 1)


class JwksUntrustedTlsCases(JwksFixture):
    """The JWKS is served over HTTPS with a self-signed certificate: the adapter's client checks
    certificates, so the key set is never fetched and tokens get 503, never a pass."""

    self_signed_tls = True

    def test_untrusted_certificate_is_refused(self):
        r = self.call(self.fixture["token"])
        self.assertEqual((r.status, r.json()["error"]), (503, "auth_unavailable"), r.text)
        self.assertEqual(self.jwks.fetches, 0, "no request may be sent over an untrusted connection")


class JwksTimeoutCases(JwksFixture):
    """An identity provider slower than the adapter's 3 s timeout: 503 in a few seconds, no hang."""

    initial_mode = "slow"

    def test_slow_jwks_times_out_to_503(self):
        started = time.time()
        r = self.call(self.fixture["token"])
        elapsed = time.time() - started
        self.assertEqual((r.status, r.json()["error"]), (503, "auth_unavailable"))
        self.assertLess(elapsed, 5.5, "the fetch must give up after about 3 s")
        self.assertGreaterEqual(elapsed, 2.5, "the 503 must come from the timeout, not an instant refusal")
