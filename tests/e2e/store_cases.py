"""End-to-end cases whose outcome the store decides: multipart uploads, the byte fields
(contentLength, contentMd5, checksumSha256), DeleteObject, and what `/presign/request` never
signs. Written once, bound to both adapters by test_lambda.py and test_worker.py (`CASES`).

Every object here is assembled only from URLs the service signed and sent exactly with the
headers it returned (harness.http_exact: no header a client library adds); every outcome is read
back from the store itself with an independently signed GET. The length cases run against both
stores (s3s-fs and SeaweedFS verify a signed content-length); the digest cases only against
SeaweedFS, the one that refuses a bad digest without writing the bytes. s3s-fs 0.14.1 answers
400 BadDigest to a PutObject whose MD5 or SHA-256 differs but writes the bytes anyway (even over
an existing object), and stores a part whose MD5 differs with 200 (measured here).
"""

import base64
import hashlib
import json
import os
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from cases import WithStoreAndTarget, auth_headers
from harness import SeaweedStore, http_exact

MIB = 1 << 20
PART = 5 * MIB  # the part plan's part size with the default PRESIGN_PART_BYTES
SIZE = 12 * MIB + 12345  # three parts: 5 MiB, 5 MiB and 2 MiB + 12345 bytes
MAX_BYTES = 13 * MIB  # PRESIGN_MAX_BYTES of LimitCases


def b64_md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def b64_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def send(answer, body=b""):
    """Sends what a signed answer says: its method, its URL, exactly its headers, the body."""
    return http_exact(answer["method"], answer["url"], answer["headers"], body)


def xml_find(body, tag):
    """The text of every element named `tag` (any namespace) in an S3 XML answer."""
    return [e.text for e in ET.fromstring(body).iter() if e.tag.rsplit("}", 1)[-1] == tag]


def listed_parts(body):
    """ListParts answer -> [(PartNumber, ETag or None, Size)]."""
    out = []
    for e in ET.fromstring(body).iter():
        if e.tag.rsplit("}", 1)[-1] == "Part":
            f = {c.tag.rsplit("}", 1)[-1]: c.text for c in e}
            out.append((int(f["PartNumber"]), f.get("ETag"), int(f["Size"])))
    return out


# Where the two stores answer differently (measured: s3s-fs 0.14.1, SeaweedFS 4.48). Real S3
# answers as SeaweedFS does.
# - Does ListParts give each part's ETag? (s3s-fs lists only number, size and date, and not
#   in the order of the numbers.)
# - After AbortMultipartUpload: the upload's listing, a further part and its completion.
#   (s3s-fs: the listing is 200 with no parts, the others 403; SeaweedFS: 404 NoSuchUpload.)
LISTS_PART_ETAGS = {"s3s-fs": False, "seaweedfs": True}
AFTER_ABORT = {"s3s-fs": {"listing": 200, "part": 403, "complete": 403}, "seaweedfs": {"listing": 404, "part": 404, "complete": 404}}


def complete_xml(etags):
    """CompleteMultipartUpload body from {part number: ETag as the store sent it}."""
    parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(etag)}</ETag></Part>" for n, etag in sorted(etags.items()))
    return f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{parts}</CompleteMultipartUpload>'.encode()


def quoted_md5(data):
    return f'"{hashlib.md5(data).hexdigest()}"'


class SignedCalls:
    """How the cases below call the service and the store, with the checks every call needs."""

    def unique_key(self, name="big.mp4"):
        return f"content/{self.id().rsplit('.', 1)[-1]}-{time.time_ns()}/{name}"

    def call(self, path, fields):
        return self.target.request("POST", path, auth_headers(), json.dumps(fields).encode())

    def sign(self, path="/presign/request", operation=None, **fields):
        """A 200 answer of the service (and the S3 operation it names, when given)."""
        r = self.call(path, fields)
        self.assertEqual(r.status, 200, f"{path} {fields}: {r.text}")
        answer = r.json()
        if operation:
            self.assertEqual(answer["operation"], operation)
        return answer

    def refused(self, path, fields, status, code):
        """The service refuses: that status and error code, and no URL at all."""
        r = self.call(path, fields)
        self.assertEqual((r.status, r.json().get("error")), (status, code), f"{path} {fields}: {r.text}")
        self.assertNotIn("X-Amz-Signature", r.text)
        self.assertNotIn("url", r.json())
        return r.json()

    def seed(self, key, data, content_type="video/mp4"):
        """An object already in the store under `key`, uploaded through the service."""
        answer = self.sign("/presign", key=key, contentType=content_type, contentLength=len(data))
        self.assertEqual(send(answer, data).status, 200)
        self.assert_object(key, data)

    def assert_object(self, key, data):
        back = self.store.get(key)
        self.assertEqual(back.status, 200, back.text[:300])
        self.assertEqual(len(back.body), len(data))
        self.assertTrue(back.body == data, "the object's bytes differ from those uploaded")
        return back

    def assert_no_object(self, key):
        self.assertEqual(self.store.get(key).status, 404)

    def create_upload(self, key, content_type="video/mp4", **fields):
        """CreateMultipartUpload through a signed URL -> the store's UploadId."""
        answer = self.sign(operation="CreateMultipartUpload", method="POST", key=key, contentType=content_type, **fields)
        self.assertEqual((answer["method"], answer["headers"]), ("POST", {"content-type": content_type}))
        self.assertIn("uploads=", answer["url"])
        r = send(answer)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(xml_find(r.body, "Key"), [key])
        (upload_id,) = xml_find(r.body, "UploadId")
        return upload_id

    def list_parts(self, key, upload_id):
        answer = self.sign(operation="ListParts", method="GET", key=key, uploadId=upload_id)
        self.assertEqual((answer["method"], answer["headers"]), ("GET", {}))
        return answer, send(answer)

    def complete(self, key, upload_id, etags):
        answer = self.sign(operation="CompleteMultipartUpload", method="POST", key=key, uploadId=upload_id)
        self.assertEqual((answer["method"], answer["headers"]), ("POST", {}))
        r = send(answer, complete_xml(etags))
        self.assertEqual(r.status, 200, r.text)
        # S3 may answer 200 and still fail: the body says which.
        self.assertEqual(ET.fromstring(r.body).tag.rsplit("}", 1)[-1], "CompleteMultipartUploadResult", r.text)
        return r

    def upload_part(self, answer, data):
        r = send(answer, data)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.headers.get("etag"), quoted_md5(data), "the part's ETag is the MD5 of its bytes")
        return r.headers["etag"]

    def assert_parts(self, key, upload_id, expected):
        """ListParts says exactly `expected`: {part number: bytes}."""
        _, r = self.list_parts(key, upload_id)
        self.assertEqual(r.status, 200, r.text)
        etag = quoted_md5 if LISTS_PART_ETAGS[self.store.name] else lambda d: None
        # sorted: s3s-fs lists parts in directory order, not by number as S3 does
        self.assertEqual(sorted(listed_parts(r.body)), [(n, etag(d), len(d)) for n, d in sorted(expected.items())])


class MultipartCases(SignedCalls, WithStoreAndTarget):
    """Multipart uploads and signed lengths against s3s-fs, with the default configuration
    (SeaweedMultipartCases runs the same against SeaweedFS)."""

    data = None

    @classmethod
    def setUpClass(cls):
        cls.data = os.urandom(SIZE)
        cls.chunks = {n: cls.data[(n - 1) * PART : n * PART] for n in (1, 2, 3)}
        super().setUpClass()

    def test_multipart_part_by_part(self):
        # Uppy's way: every request signed by /presign/request, parts without a declared length.
        key = self.unique_key()
        upload_id = self.create_upload(key)
        etags = {}
        for n, chunk in self.chunks.items():
            answer = self.sign(operation="UploadPart", method="PUT", key=key, uploadId=upload_id, partNumber=n)
            self.assertEqual((answer["method"], answer["headers"]), ("PUT", {}))
            etags[n] = self.upload_part(answer, chunk)
        self.assert_parts(key, upload_id, self.chunks)
        self.assert_no_object(key)  # nothing is visible before CompleteMultipartUpload
        self.complete(key, upload_id, etags)
        back = self.assert_object(key, self.data)
        self.assertEqual(back.headers.get("content-type"), "video/mp4")

    def test_multipart_parts_in_one_call(self):
        # All part URLs from one /presign/parts call, each signed with the part plan's length
        # and the part's MD5, uploaded out of order.
        key = self.unique_key()
        upload_id = self.create_upload(key, contentLength=SIZE)
        order = [3, 1, 2]
        answer = self.sign(
            "/presign/parts", key=key, uploadId=upload_id, contentLength=SIZE, parts=[{"partNumber": n, "contentMd5": b64_md5(self.chunks[n])} for n in order]
        )
        parts = answer["parts"]
        self.assertEqual([p["partNumber"] for p in parts], order)
        etags = {}
        for p in parts:
            chunk = self.chunks[p["partNumber"]]
            self.assertEqual((p["operation"], p["method"]), ("UploadPart", "PUT"))
            self.assertEqual(p["headers"], {"content-length": str(len(chunk)), "content-md5": b64_md5(chunk)})
            etags[p["partNumber"]] = self.upload_part(p, chunk)
        self.assert_parts(key, upload_id, self.chunks)
        self.complete(key, upload_id, etags)
        self.assert_object(key, self.data)

    def test_abort_leaves_nothing(self):
        key = self.unique_key()
        upload_id = self.create_upload(key)
        part = lambda n: self.sign(operation="UploadPart", method="PUT", key=key, uploadId=upload_id, partNumber=n)
        etag = self.upload_part(part(1), self.chunks[1])
        listing, r = self.list_parts(key, upload_id)
        self.assertEqual(r.status, 200, r.text)
        abort = self.sign(operation="AbortMultipartUpload", method="DELETE", key=key, uploadId=upload_id)
        self.assertEqual((abort["method"], abort["headers"]), ("DELETE", {}))
        r = send(abort)
        self.assertEqual(r.status, 204, r.text)
        # The upload is gone: its listing (the URL signed before the abort, still valid) fails
        # or lists nothing, a further part and the completion fail, and no object appeared.
        expected = AFTER_ABORT[self.store.name]
        r = send(listing)
        self.assertEqual(r.status, expected["listing"], r.text)
        if r.status == 200:
            self.assertEqual(listed_parts(r.body), [])
        else:
            self.assertEqual(xml_find(r.body, "Code"), ["NoSuchUpload"])
        self.assertEqual(send(part(2), self.chunks[2]).status, expected["part"])
        done = self.sign(operation="CompleteMultipartUpload", method="POST", key=key, uploadId=upload_id)
        self.assertEqual(send(done, complete_xml({1: etag})).status, expected["complete"])
        self.assert_no_object(key)

    def test_part_of_another_length_is_refused_by_the_store(self):
        key = self.unique_key()
        upload_id = self.create_upload(key, contentLength=SIZE)
        first = self.sign(operation="UploadPart", method="PUT", key=key, uploadId=upload_id, partNumber=1, contentLength=SIZE)
        last = self.sign(operation="UploadPart", method="PUT", key=key, uploadId=upload_id, partNumber=3, contentLength=SIZE)
        self.assertEqual(first["headers"], {"content-length": str(PART)})
        self.assertEqual(last["headers"], {"content-length": str(SIZE - 2 * PART)})
        for answer, body in ((first, self.chunks[1][:-1]), (first, self.chunks[1] + b"x"), (last, self.chunks[1]), (last, self.chunks[3][:-1])):
            r = send(answer, body)
            self.assertEqual(r.status, 403, f"{len(body)} bytes on a URL signed for {answer['headers']}: {r.text}")
        self.assert_parts(key, upload_id, {})
        # The same URLs with the planned lengths work.
        self.upload_part(first, self.chunks[1])
        self.upload_part(last, self.chunks[3])
        self.assert_parts(key, upload_id, {1: self.chunks[1], 3: self.chunks[3]})
        self.assertEqual(send(self.sign(method="DELETE", key=key, uploadId=upload_id)).status, 204)

    def test_part_beyond_the_plan_is_refused_by_the_service(self):
        key = self.unique_key()
        upload_id = self.create_upload(key, contentLength=SIZE)
        self.refused("/presign/request", {"method": "PUT", "key": key, "uploadId": upload_id, "partNumber": 4, "contentLength": SIZE}, 400, "invalid_part")
        error = self.refused(
            "/presign/parts", {"key": key, "uploadId": upload_id, "contentLength": SIZE, "parts": [{"partNumber": 1}, {"partNumber": 4}]}, 400, "invalid_part"
        )
        self.assertEqual(error["index"], 1)
        self.assertNotIn("parts", error)
        self.assertEqual(send(self.sign(method="DELETE", key=key, uploadId=upload_id)).status, 204)

    def test_put_object_of_another_length_is_refused_by_the_store(self):
        data = os.urandom(64 * 1024)
        for path, extra in (("/presign", {}), ("/presign/request", {"method": "PUT"})):
            key = self.unique_key(f"{path.rsplit('/', 1)[-1]}.ts")
            answer = self.sign(path, key=key, contentType="video/mp2t", contentLength=len(data), **extra)
            self.assertEqual(answer["headers"], {"content-type": "video/mp2t", "content-length": str(len(data))})
            for body in (data + b"x", data[:-1], b""):
                r = send(answer, body)
                self.assertEqual(r.status, 403, f"{path}: {len(body)} bytes on a URL signed for {len(data)}: {r.text}")
                self.assert_no_object(key)
            self.assertEqual(send(answer, data).status, 200)
            self.assert_object(key, data)

    def test_delete_object_is_not_allowed_by_default(self):
        key = self.unique_key("keep.ts")
        self.seed(key, b"still here")
        self.refused("/presign/request", {"method": "DELETE", "key": key}, 403, "operation_not_allowed")
        self.assert_object(key, b"still here")

    def test_object_reads_are_never_signed(self):
        key = self.unique_key("existing.ts")
        self.seed(key, b"an existing object")
        for method in ("GET", "HEAD"):
            self.refused("/presign/request", {"method": method, "key": key}, 400, "invalid_operation")


class SeaweedMultipartCases(MultipartCases):
    """The same against SeaweedFS, plus the digests, which only SeaweedFS verifies without
    writing: a body whose MD5 or SHA-256 differs from the signed one is refused, 400 BadDigest,
    and the object already under that key is left as it was."""

    store_class = SeaweedStore

    def assert_bad_digest(self, r):
        self.assertEqual(r.status, 400, r.text)
        self.assertEqual(xml_find(r.body, "Code"), ["BadDigest"])

    def test_put_object_with_another_digest_is_refused(self):
        original, good, bad = os.urandom(4096), os.urandom(65536), os.urandom(65536)
        for field, digest, header in (("contentMd5", b64_md5, "content-md5"), ("checksumSha256", b64_sha256, "x-amz-checksum-sha256")):
            for path, extra in (("/presign", {}), ("/presign/request", {"method": "PUT"})):
                key = self.unique_key(f"{field}.ts")
                self.seed(key, original)
                answer = self.sign(path, key=key, contentType="video/mp2t", **{field: digest(good)}, **extra)
                self.assertEqual(answer["headers"], {"content-type": "video/mp2t", header: digest(good)})
                self.assert_bad_digest(send(answer, bad))
                self.assert_object(key, original)
                self.assertEqual(send(answer, good).status, 200, f"{path} {field}")
                self.assert_object(key, good)

    def test_upload_part_with_another_md5_is_refused(self):
        key = self.unique_key()
        original = os.urandom(4096)
        self.seed(key, original)
        upload_id = self.create_upload(key, contentLength=SIZE)
        chunk = self.chunks[1]
        bad = bytearray(chunk)
        bad[PART // 2] ^= 1  # one bit
        (part,) = self.sign("/presign/parts", key=key, uploadId=upload_id, contentLength=SIZE, parts=[{"partNumber": 1, "contentMd5": b64_md5(chunk)}])["parts"]
        self.assert_bad_digest(send(part, bytes(bad)))
        self.assert_parts(key, upload_id, {})
        self.assert_object(key, original)
        # The same URL with the right bytes: the upload goes on and completes.
        etags = {1: self.upload_part(part, chunk)}
        for n in (2, 3):
            answer = self.sign(
                operation="UploadPart", method="PUT", key=key, uploadId=upload_id, partNumber=n, contentLength=SIZE, contentMd5=b64_md5(self.chunks[n])
            )
            etags[n] = self.upload_part(answer, self.chunks[n])
        self.assert_object(key, original)
        self.complete(key, upload_id, etags)
        self.assert_object(key, self.data)


class LimitCases(SignedCalls, WithStoreAndTarget):
    """PRESIGN_MAX_BYTES and PRESIGN_ALLOW_DELETE, against s3s-fs."""

    extra_env = {"PRESIGN_MAX_BYTES": str(MAX_BYTES), "PRESIGN_ALLOW_DELETE": "true"}

    def test_length_is_required_and_bounded(self):
        key = self.unique_key()
        creating = [
            ("/presign", {"contentType": "video/mp4"}),
            ("/presign/request", {"method": "PUT", "contentType": "video/mp4"}),
            ("/presign/request", {"method": "POST", "contentType": "video/mp4"}),
            ("/presign/request", {"method": "PUT", "uploadId": "an-upload", "partNumber": 1}),
            ("/presign/parts", {"uploadId": "an-upload", "parts": [{"partNumber": 1}]}),
        ]
        for path, fields in creating:
            self.refused(path, dict(fields, key=key), 400, "length_required")
            self.refused(path, dict(fields, key=key, contentLength=MAX_BYTES + 1), 403, "too_large")
        # At the limit: signed with that length, and the store holds the service to it.
        answer = self.sign("/presign/request", operation="PutObject", method="PUT", key=key, contentType="video/mp4", contentLength=MAX_BYTES)
        self.assertEqual(answer["headers"], {"content-type": "video/mp4", "content-length": str(MAX_BYTES)})
        self.assertEqual(send(answer, b"\0" * (MAX_BYTES + 1)).status, 403)
        self.assert_no_object(key)
        self.seed(key, os.urandom(1000))  # within the limit, with its length: uploaded

    def test_delete_object_removes_it(self):
        key = self.unique_key("gone.ts")
        self.seed(key, b"to be deleted")
        answer = self.sign(operation="DeleteObject", method="DELETE", key=key)
        self.assertEqual((answer["method"], answer["headers"]), ("DELETE", {}))
        self.assertNotIn("uploadId", answer["url"])
        r = send(answer)
        self.assertEqual(r.status, 204, r.text)
        self.assert_no_object(key)
        self.refused("/presign/request", {"method": "DELETE", "key": "private/gone.ts"}, 403, "prefix_not_allowed")


# Bound to each adapter by test_lambda.py and test_worker.py (cases.bind).
CASES = {"Multipart": MultipartCases, "MultipartSeaweed": SeaweedMultipartCases, "Limits": LimitCases}
