"""The end-to-end case list, written once and run against every adapter.

A subclass provides `make_target(env)` (start the adapter with that configuration) and the
cases below use the real store: every presigned URL is uploaded to s3s-fs, which verifies the
signature, and read back with an independently signed GET.
"""

import base64
import json
import re
import time
import unittest
import urllib.parse

from harness import KEY_SET_CAP, ORIGIN, SECRETS, STREAM_MAX_BYTES, EndlessKeySet, KeySet, PaddedKeySet, Redirect, Store, base_env, hs256_token, http

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
    """Mixin for a unittest.TestCase with `make_target(env)`: one store (`store_class`: s3s-fs
    unless a class needs harness.SeaweedStore) and one adapter per class, configured with
    `base_env` plus `extra_env`."""

    store = None
    target = None
    store_class = Store
    extra_env = {}

    @classmethod
    def setUpClass(cls):
        cls.store = cls.store_class()
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
        for hs in (
            {"content-type": "application/json"},
            {"content-type": "application/json", "authorization": "Bearer nope"},
            {"content-type": "application/json", "authorization": "Bearer " + hs256_token(exp_in=-3600)},
            {"content-type": "application/json", "authorization": "Bearer " + hs256_token(secret_b64="b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlci1zZWNyZXQ=")},
        ):
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
            (
                "/presign/batch",
                b'{"files":[{"key":"content/a.ts","contentType":"video/mp2t"},{"key":"content//b.ts","contentType":"video/mp2t"}]}',
                400,
                "invalid_key",
            ),
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
        r = self.target.request(
            "OPTIONS", "/presign", {"origin": ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type"}
        )
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


class ReviewCases(WithStoreAndTarget):
    """What an adversarial review found (docs/hardening.md), seen from outside, the same on every
    adapter: look-alike keys, upload ids and answers that amplify, audit lines too long to keep,
    an origin echoed raw, repeated headers, claim prefixes without a trailing slash, tokens that
    never expire."""

    extra_env = {"CORS_ORIGINS": "*", "PRESIGN_MAX_BATCH": "1000", "AUTH_KEY_PREFIX_CLAIM": "prefixes", "AUTH_MAX_TOKEN_AGE": "3600"}

    def call(self, path, payload, prefixes=("content/",), headers=None, **kw):
        token = hs256_token({"prefixes": list(prefixes)}, **kw)
        hs = headers if headers is not None else {"authorization": f"Bearer {token}", "content-type": "application/json"}
        return self.target.request("POST", path, hs, json.dumps(payload).encode())

    def test_look_alike_keys_are_refused(self):
        for ch in ("\u00a0", "\u2000", "\u3000", "\u2028", "\u034f", "\u3164", "\ufe0f", "\U000e0100", "\u2065", "\u0378"):
            r = self.call("/presign", {"key": f"content/look{ch}alike.ts", "contentType": "video/mp2t"})
            self.assertEqual((r.status, r.json()["error"]), (400, "invalid_key"), repr(ch))
        key = f"content/review-{time.time_ns()}/a plain space.ts"
        r = self.call("/presign", {"key": key, "contentType": "video/mp2t"})
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)

    def test_upload_ids_are_store_characters_and_answers_are_bounded(self):
        key = f"content/review-{time.time_ns()}/big.mp4"
        create = self.call("/presign/request", {"method": "POST", "key": key, "contentType": "video/mp4"}).json()
        created = http("POST", create["url"], create["headers"])
        self.assertEqual(created.status, 200, created.text)
        upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", created.text).group(1)
        listing = self.call("/presign/request", {"method": "GET", "key": key, "uploadId": upload_id})
        self.assertEqual(listing.status, 200, f"the store's own id {upload_id!r}: {listing.text}")
        for bad in ('"', "a!b", "%2F", "a&x-id=GetObject"):
            r = self.call("/presign/request", {"method": "GET", "key": key, "uploadId": bad})
            self.assertEqual((r.status, r.json()["error"]), (400, "invalid_upload_id"), bad)
        # 1000 parts of a 1 KiB key of '!' (percent-encoded three times over) with a 1 KiB id of
        # '+': about 25 KB asking for 7 MB. Refused with 413, nothing signed, on every adapter.
        body = {"key": "content/" + "!" * 1016, "uploadId": "+" * 1024, "parts": [{"partNumber": n} for n in range(1, 1001)]}
        r = self.call("/presign/parts", body)
        self.assertEqual((r.status, r.json()["error"]), (413, "answer_too_large"), r.text[:300])
        self.assertNotIn("X-Amz-Signature", r.text)

    def test_a_large_audit_is_written_in_lines_that_are_kept(self):
        stamp = time.time_ns()
        keys = [f"content/audit-{stamp}/{i:04d}-{'k' * 960}.ts" for i in range(900)]
        r = self.call("/presign/batch", {"files": [{"key": k, "contentType": "video/mp2t"} for k in keys]})
        self.assertEqual(r.status, 200, r.text[:300])
        deadline = time.time() + 10
        while True:
            lines = [line[line.find("{") :] for line in self.target.logs().splitlines() if '"logPart"' in line]
            mine = [json.loads(line) for line in lines]
            continued = [k for line in mine for k in line.get("audit", {}).get("keys", []) if f"audit-{stamp}/" in k]
            if len(continued) >= len(keys) or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(len(mine), 5)
        for line in lines:
            self.assertLess(len(line.encode()), 200_000)
        self.assertEqual(continued, keys, "every signed key is recorded, in order")
        places = sorted(int(line["logPart"].split("/")[0]) for line in mine)
        self.assertEqual(places, list(range(1, len(mine) + 1)))
        self.assertEqual(sum("_aws" in line for line in mine), 1 if "_aws" in mine[0] else 0, "metrics at most once")
        self.assertEqual(len({line["requestId"] for line in mine}), 1)

    def test_a_wildcard_echoes_only_well_formed_origins(self):
        bad = ["null", "http://app.localhost:5173/path", "http://a.localhost:5173?x"]
        if self.target.name == "lambda":
            # Only an event can carry these: HTTP itself has no way to send them.
            bad += ["http://a.localhost\r\nx-injected: 1", "http://a.localhost\u0000"]
        for origin in bad:
            r = self.target.request("GET", "/health", {"origin": origin})
            self.assertEqual(r.status, 200, repr(origin))
            self.assertIsNone(r.headers.get("access-control-allow-origin"), repr(origin))
            self.assertNotIn("x-injected", r.headers)
        r = self.target.request("GET", "/health", {"origin": ORIGIN})
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN)

    def test_a_header_sent_twice_is_refused(self):
        body = {"key": f"content/review-{time.time_ns()}/x.ts", "contentType": "video/mp2t"}
        one, other = (f"Bearer {hs256_token({'prefixes': ['content/'], 'sub': sub})}" for sub in ("a", "b"))
        for headers in (
            [("authorization", one), ("authorization", other), ("content-type", "application/json")],
            [("authorization", one), ("content-type", "application/json"), ("content-type", "application/json")],
        ):
            for version in ("v2", "v1"):
                r = self.target.request("POST", "/presign", headers, json.dumps(body).encode(), event_version=version)
                self.assertEqual((r.status, r.json()["error"]), (400, "repeated_header"), (headers[1][0], version))

    def test_a_claimed_prefix_ends_at_a_segment(self):
        stamp = time.time_ns()
        for key, status in ((f"content/u{stamp}/x.ts", 200), (f"content/u{stamp}0/x.ts", 403), (f"content/u{stamp}-admin/x.ts", 403)):
            r = self.call("/presign", {"key": key, "contentType": "video/mp2t"}, prefixes=[f"content/u{stamp}"])
            self.assertEqual(r.status, status, key)

    def test_a_token_that_lives_too_long_is_refused(self):
        body = {"key": f"content/review-{time.time_ns()}/t.ts", "contentType": "video/mp2t"}
        self.assertEqual(self.call("/presign", body, exp_in=3000).status, 200)
        r = self.call("/presign", body, exp_in=10**9)
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
        self.assertIn("AUTH_MAX_TOKEN_AGE", r.json()["message"])


def bind(adapter, make_target, case_lists):
    """One unittest class per case list, bound to an adapter: bind("Lambda", LambdaTarget,
    {"Expiry": ExpiryCases}) gives {"LambdaExpiry": <class>} for a module's globals()."""
    return {
        f"{adapter}{name}": type(f"{adapter}{name}", (cases, unittest.TestCase), {"make_target": staticmethod(make_target)})
        for name, cases in case_lists.items()
    }


class JwksFixture:
    """A real JWKS server the test controls (`jwks`, over `jwks_tls`, starting in
    `initial_mode`), and an adapter configured with its URL (no AUTH_JWT_SECRET) that trusts the
    test run's CA (harness.LocalCa) besides the usual roots. `arrange()` may add routes and
    servers before the adapter starts, and returns the AUTH_JWKS_URL. Subclasses provide
    `make_target(env, ca_file=...)`."""

    initial_mode = "ok"
    extra_env = {}
    jwks_tls = None  # None (plain HTTP), "self_signed" or "local_ca": see harness.JwksServer

    @classmethod
    def setUpClass(cls):
        from harness import jwt_fixture, local_ca

        cls.fixture = jwt_fixture()
        cls.servers, cls.store, cls.target = [], None, None
        try:
            cls.jwks = cls.start_server(tls=cls.jwks_tls)
            cls.jwks.mode = cls.initial_mode
            url = cls.arrange()
            cls.store = Store()
            env = base_env(cls.store, AUTH_JWKS_URL=url, **cls.extra_env)
            del env["AUTH_JWT_SECRET"]
            cls.target = cls.make_target(env, ca_file=local_ca().cert)
        except BaseException:
            cls.tearDownClass()  # unittest does not when setUpClass fails
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.target is not None:
            cls.target.stop()
        if cls.store is not None:
            cls.store.stop()
        for server in cls.servers:
            server.stop()

    @classmethod
    def start_server(cls, tls=None, routes=None):
        """Another JwksServer serving the fixture's key set, stopped with the class."""
        from harness import JwksServer

        server = JwksServer(cls.fixture["jwks"], tls=tls, routes=routes)
        cls.servers.append(server)
        return server

    @classmethod
    def arrange(cls):
        return cls.jwks.url

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
    """The JWKS is served over HTTPS with a self-signed certificate (not from the test CA the
    adapter trusts): the adapter's client checks certificates, so the key set is never fetched
    and tokens get 503, never a pass."""

    jwks_tls = "self_signed"

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


class JwksTrickleTimeoutCases(JwksTimeoutCases):
    """The headers come at once but the key set one byte every 0.25 s: the 3 s timeout covers
    the whole fetch, body included, so the answer is the same 503 after about 3 s."""

    initial_mode = "trickle"


# ---------- the fetch policy (docs/contract.md, AUTH_JWKS_URL): TLS trust, redirects, size cap ----------


def assert_auth_unavailable(test, r):
    """503 `auth_unavailable` and no URL (a pass, 200 with a URL, fails here, not with a KeyError)."""
    test.assertEqual((r.status, r.json().get("error")), (503, "auth_unavailable"), r.text)
    test.assertNotIn("url", r.json())


class JwksTrustedTlsCases(JwksFixture):
    """The JWKS over HTTPS with a certificate from the test CA the adapter is told to trust:
    fetched and accepted. The control for the cases below that go through HTTPS: when they
    refuse, it is for the reason they name, not for the certificate."""

    jwks_tls = "local_ca"

    def test_trusted_certificate_is_accepted(self):
        r = self.call(self.fixture["token"])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)
        self.assertEqual(self.jwks.hits["/jwks.json"], 1)


class JwksRedirectToHttpCases(JwksFixture):
    """The configured http://127.0.0.1 URL answers 302 to another plain-HTTP URL on the same
    loopback server, which serves the real key set. Redirects are followed only to https, a
    loopback host included: 503, and the second URL is never requested."""

    @classmethod
    def arrange(cls):
        cls.jwks.routes["/jwks.json"] = Redirect(cls.jwks.url_for("/other.json"))
        cls.jwks.routes["/other.json"] = KeySet()
        return cls.jwks.url

    def test_redirect_to_plain_http_is_not_followed(self):
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        self.assertEqual(self.jwks.hits["/jwks.json"], 1)
        self.assertEqual(self.jwks.hits["/other.json"], 0, "a redirect to http:// must not be followed")


class JwksHttpsToHttpRedirectCases(JwksFixture):
    """The configured https URL (trusted test CA) answers 302 to http://127.0.0.1, which serves
    the real key set: never a downgrade (workerd's own `redirect: "follow"` does follow it).
    503; the https URL was requested, so the refusal is the redirect's, not the certificate's."""

    jwks_tls = "local_ca"

    @classmethod
    def arrange(cls):
        cls.plain = cls.start_server(routes={"/jwks.json": KeySet()})
        cls.jwks.routes["/jwks.json"] = Redirect(cls.plain.url_for("/jwks.json"))
        return cls.jwks.url

    def test_downgrade_to_http_is_not_followed(self):
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        self.assertEqual(self.jwks.hits["/jwks.json"], 1, "the https URL itself is fetched (trusted CA)")
        self.assertEqual(self.plain.fetches, 0, "a redirect from https to http:// must not be followed")


class RedirectChain:
    """`hops` redirects before the key set: the configured http://127.0.0.1/jwks.json answers
    302 to https://127.0.0.1/hop1 (another server, trusted test CA), which answers 302 to
    /hop2, and so on; the last hop redirects to /keys.json, the real key set."""

    hops = 3

    @classmethod
    def arrange(cls):
        cls.tls = cls.start_server(tls="local_ca", routes={"/keys.json": KeySet()})
        cls.chain = [f"/hop{i}" for i in range(1, cls.hops)]
        for path, target in zip(cls.chain, cls.chain[1:] + ["/keys.json"], strict=True):
            cls.tls.routes[path] = Redirect(cls.tls.url_for(target))
        cls.jwks.routes["/jwks.json"] = Redirect(cls.tls.url_for(cls.chain[0]))
        return cls.jwks.url


class JwksRedirectLimitCases(RedirectChain, JwksFixture):
    """http -> 302 https -> 302 -> 302 -> key set: 3 redirects, the most allowed. The token is
    accepted and every URL of the chain was requested once."""

    hops = 3

    def test_three_redirects_are_followed(self):
        r = self.call(self.fixture["token"])
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(upload(r.json()).status, 200)
        self.assertEqual(self.jwks.hits["/jwks.json"], 1)
        self.assertEqual({p: self.tls.hits[p] for p in self.chain + ["/keys.json"]}, {p: 1 for p in self.chain + ["/keys.json"]})


class JwksTooManyRedirectsCases(RedirectChain, JwksFixture):
    """http -> 302 https -> 302 -> 302 -> 302 -> key set: the fourth redirect is refused (503)
    and the URL it names is never requested."""

    hops = 4

    def test_fourth_redirect_is_not_followed(self):
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        self.assertEqual(self.jwks.hits["/jwks.json"], 1)
        self.assertEqual({p: self.tls.hits[p] for p in self.chain}, {p: 1 for p in self.chain}, "the first three redirects are followed")
        self.assertEqual(self.tls.hits["/keys.json"], 0, "the URL after the fourth redirect is never requested")


# How much the server may have written of a body when an adapter that stops at the 256 KiB cap
# hangs up: the cap, plus what the kernel buffers between the two sockets on loopback (the
# server's send buffer, at most net.ipv4.tcp_wmem's 4 MiB here, and the client's receive
# buffer, which autotuning grows only while the client keeps reading: a few MiB), plus the
# client library's own read-ahead. Measured on this machine (docs/jwks-fetch-tests.md): 0.7 to
# 2.9 MiB, for the Lambda's hyper client and for a JS Worker in workerd that cancels its reader
# past the cap. A client that buffers the whole body for its 3 s takes everything the server
# offers, STREAM_MAX_BYTES (48 MiB: on loopback a buffering client pulls over 100 MiB/s).
SENT_LIMIT = 32 << 20


class JwksSizeCapCases(JwksFixture):
    """A valid key set padded with JSON whitespace beyond the 256 KiB cap, with its
    Content-Length: refused (503) without the adapter taking the body, whether the length
    is far above the cap (48 MiB) or one byte above; exactly the cap is accepted (so the
    refusals are the size's, not the padding's)."""

    def test_declared_length_above_the_cap_is_refused(self):
        self.jwks.routes["/jwks.json"] = PaddedKeySet(STREAM_MAX_BYTES)
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        self.assertTrue(self.jwks.wait_until_idle(), "the server's answer ends by its own bounds")
        self.assertLess(self.jwks.sent["/jwks.json"], SENT_LIMIT, f"the adapter took {self.jwks.sent['/jwks.json']} bytes of a 48 MiB key set")
        time.sleep(5.2)  # the core retries a failed fetch after 5 s
        self.jwks.routes["/jwks.json"] = PaddedKeySet(KEY_SET_CAP + 1)
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        time.sleep(5.2)
        self.jwks.routes["/jwks.json"] = PaddedKeySet(KEY_SET_CAP)
        r = self.call(self.fixture["token"])
        self.assertEqual(r.status, 200, f"a key set of exactly the cap is accepted: {r.text}")
        self.assertEqual(self.jwks.hits["/jwks.json"], 3)


class JwksEndlessBodyCases(JwksFixture):
    """A chunked answer without Content-Length that never ends (`{"keys":[` and JWK-shaped
    entries, flushed chunk by chunk): the adapter stops reading at the cap and hangs up, 503.
    The server counts what it managed to write before the hang-up."""

    def test_endless_key_set_is_cut_at_the_cap(self):
        self.jwks.routes["/jwks.json"] = EndlessKeySet()
        assert_auth_unavailable(self, self.call(self.fixture["token"]))
        self.assertTrue(self.jwks.wait_until_idle(), "the server's answer ends by its own bounds")
        sent = self.jwks.sent["/jwks.json"]
        self.assertLess(sent, SENT_LIMIT, f"the adapter let the server write {sent} bytes: it buffers past the cap")
        self.assertEqual(self.jwks.hits["/jwks.json"], 1)


# Every case list above, bound to each adapter by test_lambda.py and test_worker.py: the same
# cases for both, by construction.
CASES = {
    "Review": ReviewCases,
    "SingleUse": SingleUseCases,
    "Expiry": ExpiryCases,
    "Jwks": JwksCases,
    "JwksAlgorithms": JwksAlgorithmCases,
    "JwksTimeout": JwksTimeoutCases,
    "JwksRotation": JwksRotationCases,
    "JwksDownAtStart": JwksDownAtStartCases,
    "JwksUntrustedTls": JwksUntrustedTlsCases,
    "JwksTrickleTimeout": JwksTrickleTimeoutCases,
    "JwksTrustedTls": JwksTrustedTlsCases,
    "JwksRedirectToHttp": JwksRedirectToHttpCases,
    "JwksHttpsToHttpRedirect": JwksHttpsToHttpRedirectCases,
    "JwksRedirectLimit": JwksRedirectLimitCases,
    "JwksTooManyRedirects": JwksTooManyRedirectsCases,
    "JwksSizeCap": JwksSizeCapCases,
    "JwksEndlessBody": JwksEndlessBodyCases,
}
