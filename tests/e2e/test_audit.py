"""The request log as an operator reads it, on both adapters: for a single presign, a batch, a
multipart sequence and a refusal, the `audit` of each line (who, which operation, which keys,
upload id, part numbers, signed lengths, expiry) is the same on the Lambda and the Worker; the
Lambda's lines are CloudWatch Embedded Metric Format; no line holds a token, a URL, a signature
or a secret."""

import json
import re
import time
import unittest

from harness import SECRETS, LambdaTarget, Store, WorkerTarget, base_env, hs256_token

MIB = 1024 * 1024


def request_lines(logs):
    """The request lines (JSON objects with a `route`) an adapter wrote, wherever they sit in
    its output (wrangler dev prefixes nothing to console.log, but mixes in its own lines)."""
    lines = []
    for raw in logs.splitlines():
        start = raw.find("{")
        if start < 0:
            continue
        try:
            line = json.loads(raw[start:])
        except ValueError:
            continue
        if isinstance(line, dict) and "route" in line and "status" in line:
            lines.append(line)
    return lines


def check_emf(test, line):
    """The rules of the EMF specification that CloudWatch enforces."""
    aws = line["_aws"]
    test.assertIsInstance(aws["Timestamp"], int)
    for directive in aws["CloudWatchMetrics"]:
        test.assertTrue(1 <= len(directive["Namespace"]) <= 255)
        for dimension_set in directive["Dimensions"]:
            test.assertTrue(1 <= len(dimension_set) <= 30)
            for name in dimension_set:
                test.assertIsInstance(line[name], str, f"dimension {name} must be a string member")
        for metric in directive["Metrics"]:
            test.assertIsInstance(line[metric["Name"]], (int, float), f"metric {metric['Name']} must be a number member")
            test.assertIn(metric.get("Unit", "None"), ("Count", "Milliseconds", "None"))


class AuditParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = Store()
        env = base_env(cls.store)
        cls.targets = {"lambda": LambdaTarget(env), "worker": WorkerTarget(env)}

    @classmethod
    def tearDownClass(cls):
        for t in cls.targets.values():
            t.stop()
        cls.store.stop()

    def send(self, target, path, body, sub="auditor-1"):
        token = hs256_token({"sub": sub})
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        return target.request("POST", path, headers, json.dumps(body).encode())

    def sequence(self, target):
        """A single upload, a batch, a multipart sequence and two refusals."""
        key = "content/audit/film.mp4"
        statuses = [
            self.send(target, "/presign", {"key": "content/audit/seg-0.ts", "contentType": "video/mp2t", "contentLength": 1000}).status,
            self.send(
                target,
                "/presign/batch",
                {"files": [{"key": "content/audit/a.ts", "contentType": "video/mp2t"}, {"key": "content/audit/b.ts", "contentType": "video/mp2t"}]},
            ).status,
            self.send(target, "/presign/request", {"method": "POST", "key": key, "contentType": "video/mp4", "contentLength": 12 * MIB}).status,
            self.send(
                target,
                "/presign/parts",
                {"key": key, "uploadId": "upload-1", "contentLength": 12 * MIB, "parts": [{"partNumber": 1}, {"partNumber": 2}, {"partNumber": 3}]},
            ).status,
            self.send(target, "/presign/request", {"method": "POST", "key": key, "uploadId": "upload-1"}).status,
            self.send(target, "/presign", {"key": "private/nope.ts", "contentType": "video/mp2t"}, sub="intruder").status,
            target.request("POST", "/presign", {"content-type": "application/json"}, b"{}").status,
        ]
        self.assertEqual(statuses, [200, 200, 200, 200, 200, 403, 401])

    def test_both_adapters_log_the_same_audit(self):
        audits = {}
        for name, target in self.targets.items():
            self.sequence(target)
            # wrangler dev forwards console lines a moment after the answer: wait for them (a
            # line too many still fails below).
            deadline = time.time() + 5
            while True:
                lines = [line for line in request_lines(target.logs()) if line["route"].startswith("/presign")]
                if len(lines) >= 7 or time.time() > deadline:
                    break
                time.sleep(0.1)
            self.assertEqual(len(lines), 7, f"{name}: one line per request")
            audits[name] = [{k: v for k, v in (line.get("audit") or {}).items() if k != "expiresAt"} for line in lines]
            for line in lines:
                if line["status"] == 200:
                    self.assertRegex(line["audit"]["expiresAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            if name == "lambda":
                for line in lines:
                    check_emf(self, line)
                    self.assertEqual(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "PresignService")
        self.assertEqual(audits["lambda"], audits["worker"])
        single, batch, create, parts, complete, refused, unauthenticated = audits["lambda"]
        self.assertEqual(single, {"caller": "auditor-1", "operation": "PutObject", "count": 1, "keys": ["content/audit/seg-0.ts"], "lengths": [1000]})
        self.assertEqual(batch, {"caller": "auditor-1", "operation": "PutObject", "count": 2, "keys": ["content/audit/a.ts", "content/audit/b.ts"]})
        self.assertEqual(create, {"caller": "auditor-1", "operation": "CreateMultipartUpload", "count": 1, "keys": ["content/audit/film.mp4"]})
        self.assertEqual(
            parts,
            {
                "caller": "auditor-1",
                "operation": "UploadPart",
                "count": 3,
                "keys": ["content/audit/film.mp4"],
                "uploadId": "upload-1",
                "partNumbers": [1, 2, 3],
                "lengths": [5 * MIB, 5 * MIB, 2 * MIB],
            },
        )
        self.assertEqual(
            complete, {"caller": "auditor-1", "operation": "CompleteMultipartUpload", "count": 1, "keys": ["content/audit/film.mp4"], "uploadId": "upload-1"}
        )
        self.assertEqual(refused, {"caller": "intruder", "count": 0})
        self.assertEqual(unauthenticated, {}, "a request refused before auth names no caller")

    def test_zz_no_token_url_signature_or_secret_in_any_line(self):
        for name, target in self.targets.items():
            logs = target.logs()
            self.assertTrue(request_lines(logs), name)
            for secret in SECRETS:
                self.assertNotIn(secret, logs, name)
            self.assertNotIn("X-Amz-Signature", logs, name)
            self.assertNotIn("X-Amz-Credential", logs, name)
            self.assertIsNone(re.search(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ", logs), f"{name}: a JWT in the log")
            self.assertNotIn("http://127.0.0.1:" + str(self.store.port), logs, f"{name}: a store URL in the log")


class AuditWithoutKeys(unittest.TestCase):
    """LOG_OBJECT_KEYS=false: the audit keeps who and what, but no key."""

    def test_keys_are_left_out(self):
        store = Store()
        target = LambdaTarget(base_env(store, LOG_OBJECT_KEYS="false"))
        try:
            token = hs256_token({"sub": "private-person"})
            headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
            r = target.request("POST", "/presign", headers, json.dumps({"key": "content/people/jane-doe.ts", "contentType": "video/mp2t"}).encode())
            self.assertEqual(r.status, 200, r.text)
            logs = target.logs()
            self.assertNotIn("jane-doe", logs)
            audit = [line["audit"] for line in request_lines(logs) if line.get("audit")][-1]
            self.assertEqual((audit["caller"], audit["count"], audit["keysOmitted"]), ("private-person", 1, True))
        finally:
            target.stop()
            store.stop()
