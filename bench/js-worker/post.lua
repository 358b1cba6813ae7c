-- wrk script: POST /presign with a bearer token from the TOKEN environment variable.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"key":"content/my-video-001/seg-0.ts","contentType":"video/mp2t"}'
