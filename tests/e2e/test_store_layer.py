"""The local run's store layer: scripts/store_cors_proxy.py in front of s3s-fs, as scripts/dev.sh
runs it. A browser page on an allowed origin may send every request of a multipart upload (its
preflights pass with the headers the service signs) and may read each part's ETag; other
origins get no CORS headers. The URLs are signed by the Lambda release binary for the layer's
address, as in the local run."""

import os
import sys
import time
import unittest

from harness import ORIGIN, ROOT, LambdaTarget, Store, base_env, http, http_exact
from store_cases import SignedCalls, complete_xml, quoted_md5, xml_find

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from store_cors_proxy import CorsProxy  # noqa: E402

SIGNED_HEADERS = ["content-type", "content-length", "content-md5", "x-amz-checksum-sha256", "if-none-match"]


class StoreCorsLayer(SignedCalls, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = Store()
        cls.proxy = CorsProxy(cls.store.port, [ORIGIN])
        cls.endpoint = f"http://127.0.0.1:{cls.proxy.port}"

        class Layer:  # what base_env needs: the endpoint the service signs for
            endpoint = cls.endpoint

        cls.target = LambdaTarget(base_env(Layer))

    @classmethod
    def tearDownClass(cls):
        cls.target.stop()
        cls.proxy.stop()
        cls.store.stop()

    def preflight(self, method, origin=ORIGIN, headers=None):
        headers = ", ".join(SIGNED_HEADERS) if headers is None else headers
        return http(
            "OPTIONS",
            f"{self.endpoint}/videos/content/a/b.mp4",
            {"origin": origin, "access-control-request-method": method, "access-control-request-headers": headers},
        )

    def test_preflights_allow_the_multipart_methods_and_signed_headers(self):
        for method in ("PUT", "POST", "GET", "DELETE", "HEAD"):
            r = self.preflight(method)
            self.assertEqual(r.status, 204, method)
            self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN)
            self.assertIn(method, [m.strip() for m in r.headers["access-control-allow-methods"].split(",")])
            allowed = [h.strip() for h in r.headers["access-control-allow-headers"].split(",")]
            self.assertEqual([h for h in SIGNED_HEADERS if h not in allowed], [])
        r = self.preflight("PUT", origin="http://evil.localhost")
        self.assertEqual(r.status, 403)
        self.assertIsNone(r.headers.get("access-control-allow-origin"))

    def send(self, answer, body=b"", origin=ORIGIN):
        r = http_exact(answer["method"], answer["url"], dict(answer["headers"], origin=origin), body)
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN if origin == ORIGIN else None)
        return r

    def test_a_multipart_upload_through_the_layer_exposes_etags(self):
        key = f"content/layer-{time.time_ns()}/big.mp4"
        data = os.urandom(6 * 1024 * 1024)
        chunks = {1: data[: 5 * 1024 * 1024], 2: data[5 * 1024 * 1024 :]}
        create = self.sign(operation="CreateMultipartUpload", method="POST", key=key, contentType="video/mp4", contentLength=len(data))
        self.assertTrue(create["url"].startswith(f"{self.endpoint}/videos/{key}?"))
        r = self.send(create)
        self.assertEqual(r.status, 200, r.text)
        (upload_id,) = xml_find(r.body, "UploadId")
        etags = {}
        parts = self.sign("/presign/parts", key=key, uploadId=upload_id, contentLength=len(data), parts=[{"partNumber": 1}, {"partNumber": 2}])["parts"]
        for p in parts:
            r = self.send(p, chunks[p["partNumber"]])
            self.assertEqual(r.status, 200, r.text)
            self.assertIn("ETag", [h.strip() for h in r.headers["access-control-expose-headers"].split(",")])
            self.assertEqual(r.headers["etag"], quoted_md5(chunks[p["partNumber"]]))
            etags[p["partNumber"]] = r.headers["etag"]
        r = self.send(self.sign(operation="ListParts", method="GET", key=key, uploadId=upload_id))
        self.assertEqual(r.status, 200, r.text)
        r = self.send(self.sign(operation="CompleteMultipartUpload", method="POST", key=key, uploadId=upload_id), complete_xml(etags))
        self.assertEqual(r.status, 200, r.text)
        self.assert_object(key, data)
        # A page on another origin gets the store's answer without CORS headers (the browser
        # then hides it from the page).
        r = self.send(self.sign(operation="ListParts", method="GET", key=key, uploadId=upload_id), origin="http://evil.localhost")
        self.assertNotIn("access-control-expose-headers", r.headers)


if __name__ == "__main__":
    unittest.main()
