// The alternative a Workers user would write: POST /presign signed with aws4fetch, same checks
// reduced to the minimum (HS256 verified with WebCrypto, the same key rule of a prefix). Used
// only by scripts/bench.sh to compare requests per second with our Rust Worker.
import { AwsClient } from "aws4fetch";

const enc = new TextEncoder();
let hmacKey;

function b64urlToBytes(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function verifyHs256(token, secretB64) {
  hmacKey ??= await crypto.subtle.importKey("raw", Uint8Array.from(atob(secretB64), (c) => c.charCodeAt(0)),
    { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const [h, p, s] = token.split(".");
  if (!s) return false;
  const ok = await crypto.subtle.verify("HMAC", hmacKey, b64urlToBytes(s), enc.encode(`${h}.${p}`));
  const claims = JSON.parse(new TextDecoder().decode(b64urlToBytes(p)));
  return ok && typeof claims.exp === "number" && claims.exp > Date.now() / 1000 - 60;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/presign") return new Response("{}", { status: 404 });
    const auth = request.headers.get("authorization") || "";
    if (!(await verifyHs256(auth.replace(/^bearer\s+/i, ""), env.AUTH_JWT_SECRET))) {
      return Response.json({ error: "unauthorized" }, { status: 401 });
    }
    const { key, contentType } = await request.json();
    if (typeof key !== "string" || !key.startsWith("content/")) return Response.json({ error: "invalid_key" }, { status: 400 });
    const aws = new AwsClient({ accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, service: "s3", region: env.S3_REGION });
    const target = new URL(`${env.S3_ENDPOINT}/${env.S3_BUCKET}/${key.split("/").map(encodeURIComponent).join("/")}`);
    target.searchParams.set("X-Amz-Expires", "300");
    const signed = await aws.sign(new Request(target, { method: "PUT", headers: { "content-type": contentType } }),
      { aws: { signQuery: true, allHeaders: true } });
    const expiresAt = new Date(Date.now() + 300_000).toISOString().replace(/\.\d+Z$/, "Z");
    return Response.json({ url: signed.url, method: "PUT", headers: { "content-type": contentType }, expiresAt, key });
  },
};
