// Node peers for scripts/bench.sh: the same PUT presign (same key, content type, credentials,
// expiry and instant) with @aws-sdk/s3-request-presigner and aws4fetch, in a timed loop.
// Prints one JSON line per library: {"name", "ns_per_op", "iterations"}.
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AwsClient } from "aws4fetch";

const AK = "AKIAIOSFODNN7EXAMPLE", SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const KEY = "content/my-video-001/seg-0.ts", CT = "video/mp2t";
const NOW = new Date(1795930000 * 1000);

async function time(name, fn, iterations) {
  for (let i = 0; i < Math.min(1000, iterations / 10); i++) await fn(); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(JSON.stringify({ name, ns_per_op: ns, iterations }));
}

const s3 = new S3Client({ region: "us-east-1", credentials: { accessKeyId: AK, secretAccessKey: SK } });
await time("@aws-sdk/s3-request-presigner", () =>
  getSignedUrl(s3, new PutObjectCommand({ Bucket: "my-video-bucket", Key: KEY, ContentType: CT }),
    { expiresIn: 300, signingDate: NOW }), 5000);

const aws = new AwsClient({ accessKeyId: AK, secretAccessKey: SK, service: "s3", region: "us-east-1" });
await time("aws4fetch", async () => {
  const url = new URL(`https://my-video-bucket.s3.us-east-1.amazonaws.com/${KEY}`);
  url.searchParams.set("X-Amz-Expires", "300");
  const signed = await aws.sign(new Request(url, { method: "PUT", headers: { "content-type": CT } }),
    { aws: { signQuery: true, datetime: "20261129T000000Z", allHeaders: true } });
  return signed.url;
}, 20000);
