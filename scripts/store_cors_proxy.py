#!/usr/bin/env python3
"""A CORS layer in front of the local S3-compatible store (s3s-fs sends no CORS headers), so a
browser page can upload to presigned URLs cross-origin, as it would to a bucket with a CORS rule:
single PUTs and multipart uploads (Uppy's signRequest: POST to create and complete, PUT parts,
GET to list them, DELETE to abort or to delete the object).

It answers preflights for the allowed origins with the methods of those operations and the
headers the service signs (content-type, content-length, content-md5, x-amz-checksum-sha256,
if-none-match), forwards everything else unchanged (the Host header too: it is signed), and adds
Access-Control-Allow-Origin to the store's answers, with ETag exposed: a page reads each part's
ETag to build the CompleteMultipartUpload body.

Usage: store_cors_proxy.py --listen 9015 --upstream 127.0.0.1:9014 --origins http://localhost:5173,...
"""

import argparse
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALLOW_METHODS = "GET, HEAD, PUT, POST, DELETE"
# Every header /presign* can sign (docs/contract.md). A browser sets content-length itself and
# never asks for it in a preflight; it is listed for clients that do.
ALLOW_HEADERS = "content-type, content-length, content-md5, x-amz-checksum-sha256, if-none-match"
EXPOSE_HEADERS = "ETag"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection"}


def make_handler(upstream_host, upstream_port, origins):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def allowed_origin(self):
            origin = self.headers.get("Origin")
            return origin if origin and ("*" in origins or origin in origins) else None

        def cors_headers(self, origin):
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Expose-Headers", EXPOSE_HEADERS)
            self.send_header("Vary", "Origin")

        def do_OPTIONS(self):
            origin = self.allowed_origin()
            self.send_response(204 if origin else 403)
            self.cors_headers(origin)
            if origin:
                self.send_header("Access-Control-Allow-Methods", ALLOW_METHODS)
                self.send_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
                self.send_header("Access-Control-Max-Age", "600")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=30)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length" and not k.lower().startswith("access-control-"):
                    self.send_header(k, v)
            self.cors_headers(self.allowed_origin())
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = forward

    return Handler


class CorsProxy:
    def __init__(self, upstream_port, origins, listen_port=0, upstream_host="127.0.0.1"):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", listen_port), make_handler(upstream_host, upstream_port, set(origins)))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", required=True, help="host:port of the store")
    p.add_argument("--origins", required=True, help="comma-separated origins, or *")
    a = p.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    proxy = CorsProxy(int(port), [o.strip() for o in a.origins.split(",") if o.strip()], a.listen, host)
    proxy.thread.join()


if __name__ == "__main__":
    main()
