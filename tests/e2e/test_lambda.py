"""The shared cases against the Lambda release binary through the Runtime API, plus what only
the Lambda has: API Gateway v1 events with a stage, base64 bodies, init failure, session tokens."""

import json
import os
import subprocess
import time
import unittest

import cases
import store_cases
from harness import LAMBDA_BIN, SECRET_KEY, LambdaTarget, RuntimeApi, Store, base_env


class LambdaV2(cases.AdapterCases, unittest.TestCase):
    @staticmethod
    def make_target(env):
        return LambdaTarget(env, "v2")

    def test_rest_api_v1_event_with_stage(self):
        key = self.unique_key()
        body = json.dumps({"key": key, "contentType": "video/mp2t"}).encode()
        r = self.target.request("POST", "/presign", cases.auth_headers(), body, event_version="v1")
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(cases.upload(r.json()).status, 200)
        self.assertEqual(self.store.get(key).body, cases.SEGMENT)

    def test_base64_encoded_body(self):
        for version in ("v1", "v2"):
            key = self.unique_key(f"{version}.ts")
            body = json.dumps({"key": key, "contentType": "video/mp2t"}).encode()
            r = self.target.request("POST", "/presign", cases.auth_headers(**{"x-test-base64": "1"}), body, event_version=version)
            self.assertEqual(r.status, 200, r.text)

    def test_logs_are_json_lines_with_request_fields(self):
        self.target.request("GET", "/health")
        lines = [json.loads(line) for line in self.target.logs().splitlines() if line.startswith("{")]
        health = [line for line in lines if line.get("route") == "/health"]
        self.assertTrue(health)
        self.assertEqual(set(health[-1]) >= {"requestId", "method", "route", "status", "latencyMs", "error"}, True)
        self.assertTrue(health[-1]["requestId"])


class LambdaV1(cases.AdapterCases, unittest.TestCase):
    """The same cases with REST API (payload 1.0) events."""

    @staticmethod
    def make_target(env):
        return LambdaTarget(env, "v1")


# The shared cases (cases.CASES), and multipart, the byte fields and DeleteObject, whose outcomes
# the store decides (store_cases.CASES, against s3s-fs and SeaweedFS): the same for both adapters.
globals().update(cases.bind("Lambda", LambdaTarget, cases.CASES | store_cases.CASES))


class LambdaInit(unittest.TestCase):
    def run_init(self, env):
        runtime = RuntimeApi()
        full = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "presign",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "g",
            "AWS_LAMBDA_LOG_STREAM_NAME": "s",
        }
        full.update(env)
        try:
            return subprocess.run([LAMBDA_BIN], env=full, capture_output=True, timeout=10)
        finally:
            runtime.stop()

    def test_invalid_config_fails_init_naming_the_variable(self):
        env = {
            "ENABLE_PRESIGN": "true",
            "S3_BUCKET": "b",
            "AWS_ACCESS_KEY_ID": "AK",
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AUTH_JWT_SECRET": "dG9vLXNob3J0",
            "MASTER_KEY_HEX": "deadbeefcafe",
        }
        done = self.run_init(env)
        out = (done.stdout + done.stderr).decode()
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("AUTH_JWT_SECRET", out)
        self.assertEqual(len([line for line in out.splitlines() if "config_invalid" in line]), 1)
        for secret in (SECRET_KEY, "dG9vLXNob3J0", "deadbeefcafe"):
            self.assertNotIn(secret, out)

    def test_missing_bucket_fails_init(self):
        done = self.run_init({"ENABLE_PRESIGN": "true"})
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("S3_BUCKET", done.stdout.decode())


class LambdaEventErrors(unittest.TestCase):
    """A payload that is not an HTTP event fails the invocation with a message that names the
    category and position of the problem, never a value from it (finding 7 of the adversarial
    review: the message quoted a bearer token)."""

    def test_the_error_never_quotes_the_payload(self):
        store = Store()
        target = LambdaTarget(base_env(store))
        token = cases.hs256_token()
        try:
            event = {"httpMethod": "POST", "path": "/presign", "headers": {"authorization": f"Bearer {token}"}, "isBase64Encoded": f"yes {token}"}
            kind, body = target.runtime.invoke_raw(event)
            self.assertEqual(kind, "error")
            self.assertIn(b"at line 1 column", body)
            self.assertNotIn(token.encode(), body)
            self.assertNotIn(b"yes ", body)
            self.assertNotIn(token, target.logs())
            # The function goes on answering.
            self.assertEqual(target.request("GET", "/health").status, 200)
        finally:
            target.stop()
            store.stop()


class LambdaSessionToken(unittest.TestCase):
    """With AWS_SESSION_TOKEN (as a Lambda execution role sets it) the URL carries a signed
    X-Amz-Security-Token. s3s-fs has no temporary credentials, so the store cannot accept the
    token; the signature itself is checked against the AWS SDK by the differential test."""

    def test_session_token_is_in_the_signed_url(self):
        store = Store()
        target = LambdaTarget(base_env(store, AWS_SESSION_TOKEN="FwoGZXIvYXdzE+token/with=chars"))
        try:
            r = cases.presign(target, f"content/token-{time.time_ns()}.ts")
            self.assertEqual(r.status, 200, r.text)
            url = r.json()["url"]
            self.assertIn("&X-Amz-Security-Token=FwoGZXIvYXdzE%2Btoken%2Fwith%3Dchars&X-Amz-SignedHeaders=", url)
        finally:
            target.stop()
            store.stop()


if __name__ == "__main__":
    unittest.main()
