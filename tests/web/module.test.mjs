// Unit tests of the browser module (src/gateway/page/gateway.js) under node:
// `fetch` is stubbed to record each request and answer as the gateway or
// storage would, so nothing here needs a server. The module's browser-only
// paths (XMLHttpRequest for uploaded bytes) are left to the browser tests.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, describe, test } from "node:test";

import {
  checkKey,
  decodeMetadata,
  encodeMetadata,
  gateway,
  GatewayError,
  PART_SIZE,
  SINGLE_PUT_LIMIT,
} from "../../src/gateway/page/gateway.js";

const BASE = "https://files.example.com";
const rules = JSON.parse(readFileSync(new URL("../data/key-rules.json", import.meta.url), "utf8"));

/** Replaces `fetch` with `answer(url, init)`; returns the requests made. */
function stubFetch(answer = () => new Response("unexpected", { status: 599 })) {
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    calls.push({
      url: String(url),
      method: init.method ?? "GET",
      headers: new Headers(init.headers),
      body: init.body,
      redirect: init.redirect,
    });
    return answer(String(url), init);
  };
  return calls;
}

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
  delete globalThis.location;
  delete globalThis.localStorage;
});

/** `key` quoted, its control characters spelled out. */
const shown = (key) =>
  JSON.stringify(key).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

describe("checkKey", () => {
  for (const { key, refused } of rules.cases) {
    test(`${shown(key)}: ${refused ?? "accepted"}`, () => {
      if (refused === null) {
        assert.equal(checkKey(key), undefined);
      } else {
        assert.throws(
          () => checkKey(key),
          (error) => error instanceof GatewayError && error.message === refused && error.status === 400,
        );
      }
    });
  }

  test("a lone surrogate, which has no UTF-8 form", () => {
    assert.throws(() => checkKey("a\ud800b"), { message: "the key is not valid UTF-8 once percent-decoded" });
  });

  test("a key that is not a string", () => {
    assert.throws(() => checkKey(42), TypeError);
    assert.throws(() => checkKey(undefined), TypeError);
  });
});

describe("metadata", () => {
  const values = ["Été 2024", "plain ascii", "100% done", " padded ", "a%20b", "tab\there", "✓ 🐈", "", "~!@#$^&*()"];
  for (const value of values) {
    test(`${JSON.stringify(value)} survives a round trip as printable ASCII`, () => {
      const encoded = encodeMetadata(value);
      assert.match(encoded, /^[\x20-\x7e]*$/);
      assert.equal(decodeMetadata(encoded), value);
    });
  }

  test("plain ASCII travels as it is", () => {
    assert.equal(encodeMetadata("Summer 2024"), "Summer 2024");
    assert.equal(encodeMetadata("Été 2024"), "%C3%89t%C3%A9%202024");
  });

  test("a value that is not percent-encoding is read as written", () => {
    assert.equal(decodeMetadata("100% done"), "100% done");
    assert.equal(decodeMetadata("%E0%A4%A"), "%E0%A4%A");
  });
});

describe("refusals", () => {
  const refusedWith = (status, body, headers = {}) => stubFetch(() => new Response(body, { status, headers }));

  test("the gateway's JSON: its message", async () => {
    const body = JSON.stringify({ code: "UnsupportedMediaType", message: "only image/* may be uploaded", request_id: "r1" });
    refusedWith(415, body, { "content-type": "application/json" });
    await assert.rejects(gateway(BASE).presign("a.txt", "PUT"), { message: "only image/* may be uploaded", status: 415 });
  });

  test("the gateway's plain text: the line", async () => {
    refusedWith(403, "this token may not write here\n");
    await assert.rejects(gateway(BASE).list(""), { message: "this token may not write here", status: 403 });
  });

  test("storage's XML: its code and message", async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message><RequestId>R</RequestId></Error>`;
    const calls = stubFetch((url) =>
      url.startsWith(BASE)
        ? json({ url: "https://storage.example.com/b/a.txt?X-Amz-Signature=s", method: "DELETE", headers: {}, expires_at: "2030-01-01T00:00:00Z" })
        : new Response(xml, { status: 403, headers: { "content-type": "application/xml" } }),
    );
    await assert.rejects(gateway(BASE).remove("a.txt"), {
      message: "storage refused it: AccessDenied: Request has expired",
      status: 403,
    });
    assert.deepEqual(
      calls.map(({ method, url }) => `${method} ${url}`),
      [`GET ${BASE}/a.txt?presign=DELETE`, "DELETE https://storage.example.com/b/a.txt?X-Amz-Signature=s"],
    );
  });

  test("a condition that failed: the file exists", async () => {
    refusedWith(412, JSON.stringify({ code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" }));
    await assert.rejects(gateway(BASE).share("a.txt"), { message: "a file with this name exists already", status: 412 });
  });

  test("text that only looks like JSON, and nothing at all", async () => {
    refusedWith(400, "{not json");
    await assert.rejects(gateway(BASE).share("a.txt"), { message: "{not json" });
    refusedWith(502, "");
    await assert.rejects(gateway(BASE).share("a.txt"), { message: "the server answered 502", status: 502 });
  });
});

describe("a gateway that cannot be reached", () => {
  const failing = () => stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));

  test("from a page on another origin: names the origin to allow", async () => {
    globalThis.location = { origin: "https://app.example.com", href: "https://app.example.com/upload" };
    failing();
    await assert.rejects(gateway(BASE).list(""), {
      status: 0,
      message:
        "cannot reach the gateway at https://files.example.com (Failed to fetch): it is down, or it does not allow " +
        "this page's origin https://app.example.com: start it with --allowed-origins https://app.example.com",
    });
  });

  test("from its own origin, or outside a browser: no CORS to blame", async () => {
    globalThis.location = { origin: "https://files.example.com", href: "https://files.example.com/photos/" };
    failing();
    await assert.rejects(gateway("").list(""), {
      message: "cannot reach the gateway at https://files.example.com (Failed to fetch): is it running?",
    });
    delete globalThis.location;
    await assert.rejects(gateway(BASE).list(""), {
      message: "cannot reach the gateway at https://files.example.com (Failed to fetch): is it running?",
    });
  });

  test("a cancel is the signal's reason, not a refusal", async () => {
    const stop = new AbortController();
    stubFetch(() => {
      stop.abort(new DOMException("stopped", "AbortError"));
      return Promise.reject(new TypeError("Failed to fetch"));
    });
    await assert.rejects(gateway(BASE).list("", { signal: stop.signal }), { name: "AbortError", message: "stopped" });
  });
});

describe("a key the gateway would refuse fails before any request", () => {
  const bad = [
    ["presign", (g) => g.presign("photos/../x")],
    ["presign PUT", (g) => g.presign("a/./b", "PUT", { "upload-length": "1" })],
    ["remove", (g) => g.remove("a/../x")],
    ["share", (g) => g.share("..", "1h")],
    ["upload", (g) => g.upload(new Blob(["x"]), "a//b")],
    ["upload in parts", (g) => g.upload({ size: SINGLE_PUT_LIMIT + 1, type: "", slice() {} }, "a\\b")],
    ["list", (g) => g.list("photos/../")],
    ["list without the slash", (g) => g.list("a//b")],
  ];
  for (const [name, act] of bad) {
    test(name, async () => {
      const calls = stubFetch();
      let asked = 0;
      const g = gateway(BASE, { getToken: async () => (asked++, "t") });
      await assert.rejects(act(g), (error) => error instanceof GatewayError && error.status === 400);
      assert.equal(calls.length, 0);
      assert.equal(asked, 0);
    });
  }

  test("good keys and folders reach the gateway percent-encoded", async () => {
    const calls = stubFetch((url) =>
      url.includes("?presign") ? json({ url: "u", method: "GET", headers: {}, expires_at: "t" }) : json({ objects: [], folders: [], next: null }),
    );
    const g = gateway(`${BASE}/`, { getToken: () => "t" });
    await g.presign("été/a b+c%d#e?f.txt");
    await g.presign("...", "put", {}, { download: "x y.txt" });
    await g.list("");
    await g.list("/");
    await g.list("photos/2024");
    await g.list("/photos/2024/", { limit: 10, after: "k", metadata: true });
    assert.deepEqual(
      calls.map(({ url }) => url.slice(BASE.length)),
      [
        "/%C3%A9t%C3%A9/a%20b%2Bc%25d%23e%3Ff.txt?presign",
        "/...?download=x%20y.txt&presign=PUT",
        "/%2F",
        "/%2F",
        "/photos/2024/",
        "/photos/2024/?limit=10&after=k&metadata",
      ],
    );
    for (const { headers } of calls) {
      assert.equal(headers.get("accept"), "application/json");
      assert.equal(headers.get("authorization"), "Bearer t");
    }
  });
});

describe("resuming a multipart upload", () => {
  const key = "videos/big.bin";
  const file = { name: "big.bin", size: 3 * PART_SIZE, lastModified: 1700000000000, type: "video/mp4", slice() {} };

  /** A browser that remembers an upload of `file` to `key` as `U1`. */
  function remembered() {
    const saved = new Map([
      [
        `presign-gateway upload ${BASE} ${key}`,
        JSON.stringify({ key, name: file.name, size: file.size, lastModified: file.lastModified, uploadId: "U1", partSize: PART_SIZE }),
      ],
    ]);
    globalThis.localStorage = {
      getItem: (name) => saved.get(name) ?? null,
      setItem: (name, value) => saved.set(name, value),
      removeItem: (name) => saved.delete(name),
    };
    return saved;
  }

  const part = (n) => ({ part_number: n, etag: `e${n}`, size: PART_SIZE });
  const completed = { key, etag: "abc-3", size: file.size, checksum_crc64nvme: "AAAAAAAAAAA=", checksum_type: "FULL_OBJECT" };

  test("reads every page of parts, then completes without sending one", async () => {
    const saved = remembered();
    const calls = stubFetch((url, { method }) => {
      if (method === "POST") return json(completed);
      if (url.endsWith("part-number-marker=2"))
        return json({ key, upload_id: "U1", parts: [part(3)], is_truncated: false });
      return json({ key, upload_id: "U1", parts: [part(1), part(2)], is_truncated: true, next_part_number_marker: 2 });
    });
    const done = await gateway(BASE).upload(file, key);
    assert.deepEqual(done, completed);
    assert.deepEqual(
      calls.map(({ method, url }) => `${method} ${url.slice(BASE.length)}`),
      [
        "GET /videos/big.bin?uploadId=U1",
        "GET /videos/big.bin?uploadId=U1&part-number-marker=2",
        "POST /videos/big.bin?uploadId=U1",
      ],
    );
    assert.deepEqual(JSON.parse(calls[2].body), {
      parts: [1, 2, 3].map((n) => ({ part_number: n, etag: `e${n}` })),
    });
    assert.equal(saved.size, 0, "a completed upload is forgotten");
  });

  test("stops on a marker that does not move on, and on an answer without paging", async () => {
    for (const first of [
      { parts: [part(1), part(2), part(3)] },
      { parts: [part(1), part(2), part(3)], is_truncated: true, next_part_number_marker: 0 },
      { parts: [part(1), part(2), part(3)], is_truncated: true },
    ]) {
      remembered();
      const calls = stubFetch((url, { method }) => (method === "POST" ? json(completed) : json({ key, upload_id: "U1", ...first })));
      await gateway(BASE).upload(file, key);
      assert.deepEqual(
        calls.map(({ method }) => method),
        ["GET", "POST"],
      );
    }
  });
});

describe("the catalog: upload log, status, renditions", () => {
  const entry = {
    key: "photos/\u00e9t\u00e9.jpg",
    size: 2048,
    type: "image/jpeg",
    metadata: { title: "%C3%89t%C3%A9%202024", camera: "X100" },
    title: "%C3%89t%C3%A9%202024",
    uploaded_by: "link:0123456789abcdef",
    uploaded_at: "2026-12-07T10:00:00Z",
    status: "ready",
    renditions: { thumb: { width: 320, height: 240 } },
  };
  const signed = { url: "https://storage.example.com/b/r.jpg?X-Amz-Signature=s", method: "GET", headers: {}, expires_at: "t" };

  test("log: a page of entries, newest first as the gateway sends them, metadata and title decoded", async () => {
    const failed = { ...entry, key: "b.txt", status: "failed", reason: "not a supported image", metadata: {} };
    delete failed.title;
    const calls = stubFetch(() => json({ entries: [entry, failed], next: "c2" }));
    const g = gateway(BASE, { getToken: () => "t" });
    const page = await g.log({ limit: 2, after: "c 1", status: "failed" });
    assert.equal(calls[0].url, `${BASE}/%2F?log&limit=2&after=c%201&status=failed`);
    assert.equal(calls[0].headers.get("authorization"), "Bearer t");
    assert.equal(calls[0].headers.get("accept"), "application/json");
    assert.equal(calls[0].redirect, "manual", "a gateway without the log must not send the browser elsewhere");
    assert.deepEqual(page.next, "c2");
    assert.deepEqual(page.entries[0], {
      ...entry,
      metadata: { title: "\u00c9t\u00e9 2024", camera: "X100" },
      title: "\u00c9t\u00e9 2024",
    });
    assert.equal(page.entries[1].reason, "not a supported image");
    assert.equal("title" in page.entries[1], false);
    await g.log();
    assert.equal(calls[1].url, `${BASE}/%2F?log`);
  });

  test("log: the last page's next is null, also when the gateway leaves it out", async () => {
    stubFetch(() => json({ entries: [] }));
    assert.deepEqual(await gateway(BASE).log(), { entries: [], next: null });
  });

  test("log: a gateway without a catalog is a 404 (or its 400), however it says so", async () => {
    // One that predates the log ignores `?log` and lists the top level.
    stubFetch(() => json({ objects: [], folders: [], next: null }));
    await assert.rejects(gateway(BASE).log(), (error) => error instanceof GatewayError && error.status === 404);
    const off = "the upload log is off: the gateway keeps it with --state-dir or --state-table";
    stubFetch(() => json({ error: "CatalogOff", message: off, status: null }, 404));
    await assert.rejects(gateway(BASE).log(), { status: 404, code: "CatalogOff", message: off });
    stubFetch(() => new Response("unknown parameter: log", { status: 400 }));
    await assert.rejects(gateway(BASE).log(), { status: 400 });
  });

  test("status: one entry; a missing record is a 404 NoSuchKey", async () => {
    const calls = stubFetch(() => json({ ...entry, status: "processing", renditions: undefined }));
    const g = gateway(BASE);
    const one = await g.status("photos/a b.jpg");
    assert.equal(calls[0].url, `${BASE}/photos/a%20b.jpg?status`);
    assert.equal(calls[0].redirect, "manual");
    assert.equal(one.status, "processing");
    assert.equal(one.title, "\u00c9t\u00e9 2024");
    stubFetch(() => json({ error: "NoSuchKey", message: "no such key: nope.jpg" }, 404));
    await assert.rejects(g.status("nope.jpg"), { status: 404, code: "NoSuchKey", message: "no such key: nope.jpg" });
  });

  test("status: a gateway that redirects to the object instead knows no status", async () => {
    stubFetch(() => new Response(null, { status: 307, headers: { location: "https://storage.example.com/b/a.jpg" } }));
    await assert.rejects(gateway(BASE).status("a.jpg"), { status: 404, code: "NotSupported" });
  });

  test("rendition: the presigned GET, asked with ?rendition=NAME&presign", async () => {
    const calls = stubFetch(() => json(signed));
    assert.deepEqual(await gateway(BASE).rendition("photos/été.jpg", "large"), signed);
    assert.equal(calls[0].url, `${BASE}/photos/%C3%A9t%C3%A9.jpg?rendition=large&presign`);
  });

  test("rendition: not ready yet is a 404 RenditionNotReady with Retry-After's seconds", async () => {
    stubFetch(() =>
      new Response(JSON.stringify({ error: "RenditionNotReady", message: "the rendition is being made; try again shortly", status: "processing" }), {
        status: 404,
        headers: { "content-type": "application/json", "retry-after": "2" },
      }),
    );
    await assert.rejects(gateway(BASE).rendition("a.jpg", "thumb"), (error) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 404);
      assert.equal(error.code, "RenditionNotReady");
      assert.equal(error.retryAfter, 2);
      assert.equal(error.message, "the rendition is being made; try again shortly");
      return true;
    });
  });

  test("rendition: a failure carries its reason; a non-image and an unknown preset say so", async () => {
    // The body's `status` is the object's; the error's is the response's.
    const reason = "the rendition could not be made: not a supported image";
    stubFetch(() => json({ error: "RenditionFailed", message: reason, status: "failed" }, 404));
    await assert.rejects(gateway(BASE).rendition("a.jpg", "thumb"), { status: 404, code: "RenditionFailed", message: reason });
    const text = "the object is not an image, so it has no renditions";
    stubFetch(() => json({ error: "NotAnImage", message: text, status: null }, 404));
    await assert.rejects(gateway(BASE).rendition("a.txt", "thumb"), { status: 404, code: "NotAnImage", message: text });
    const unknown = "no rendition is called `huge`: the gateway makes those --renditions / RENDITIONS names";
    stubFetch(() => json({ error: "UnknownRendition", message: unknown, status: null }, 400));
    const refused = await gateway(BASE).rendition("a.jpg", "huge").catch((error) => error);
    assert.equal(refused.code, "UnknownRendition");
    assert.equal(refused.retryAfter, undefined);
  });

  test("Retry-After as an HTTP date", async () => {
    const later = new Date(Date.now() + 5000).toUTCString();
    stubFetch(() => new Response("busy", { status: 503, headers: { "retry-after": later } }));
    const error = await gateway(BASE).status("a.jpg").catch((e) => e);
    assert.ok(error.retryAfter >= 3 && error.retryAfter <= 5, String(error.retryAfter));
  });

  test("renditionUrl: the gateway's redirecting URL, asked nothing", () => {
    const calls = stubFetch();
    assert.equal(gateway(`${BASE}/`).renditionUrl("photos/a b.jpg", "thumb"), `${BASE}/photos/a%20b.jpg?rendition=thumb`);
    assert.equal(gateway("").renditionUrl("x.png", "upside-2"), "/x.png?rendition=upside-2");
    assert.equal(calls.length, 0);
  });

  test("a bad rendition name or key fails before any request", async () => {
    const calls = stubFetch();
    const g = gateway(BASE);
    for (const name of ["", "Thumb", "-x", "a/b", "x".repeat(33), undefined]) {
      assert.throws(() => g.renditionUrl("a.jpg", name), { status: 400, code: "UnknownRendition" });
      await assert.rejects(g.rendition("a.jpg", name), { status: 400 });
      await assert.rejects(g.list("", { renditions: [name] }), { status: 400 });
    }
    await assert.rejects(g.rendition("a/../b.jpg", "thumb"), { status: 400 });
    await assert.rejects(g.status("a//b.jpg"), { status: 400 });
    assert.throws(() => g.renditionUrl("..", "thumb"), { status: 400 });
    assert.equal(calls.length, 0);
  });

  test("list: renditions=NAME[,NAME] after the other options, each object's renditions as sent", async () => {
    const thumb = { url: "https://storage.example.com/b/t.jpg?X-Amz-Signature=s", width: 320, height: 240 };
    const calls = stubFetch(() =>
      json({ objects: [{ key: "a.jpg", size: 1, last_modified: null, etag: "e", status: "ready", renditions: { thumb } }], folders: [], next: null }),
    );
    const g = gateway(BASE);
    const page = await g.list("photos/", { metadata: true, renditions: ["thumb"], limit: 5 });
    await g.list("", { renditions: ["thumb", "large"] });
    await g.list("", { renditions: "thumb" });
    await g.list("", { renditions: [] });
    assert.deepEqual(
      calls.map(({ url }) => url.slice(BASE.length)),
      ["/photos/?limit=5&metadata&renditions=thumb", "/%2F?renditions=thumb,large", "/%2F?renditions=thumb", "/%2F"],
    );
    assert.deepEqual(page.objects[0].renditions, { thumb });
    assert.equal(page.objects[0].status, "ready");
  });
});

describe("exists", () => {
  const signedHead = { url: "https://storage.example.com/b/a.jpg?X-Amz-Signature=s", method: "HEAD", headers: { host: "x" }, expires_at: "t" };

  for (const [status, expected] of [
    [200, true],
    [404, false],
  ]) {
    test(`storage's ${status} is ${expected}`, async () => {
      const calls = stubFetch((url) => (url.startsWith(BASE) ? json(signedHead) : new Response(null, { status })));
      assert.equal(await gateway(BASE).exists("photos/a.jpg"), expected);
      assert.deepEqual(
        calls.map(({ method, url }) => `${method} ${url}`),
        [`GET ${BASE}/photos/a.jpg?presign=HEAD`, `HEAD ${signedHead.url}`],
      );
      assert.equal(calls[1].headers.has("host"), false);
    });
  }

  test("any other answer rejects: the page then relies on If-None-Match", async () => {
    stubFetch((url) => (url.startsWith(BASE) ? json(signedHead) : new Response(null, { status: 403 })));
    await assert.rejects(gateway(BASE).exists("a.jpg"), { status: 403 });
  });
});

describe("GatewayError", () => {
  test("carries the gateway's error name from its JSON code", async () => {
    stubFetch(() => json({ code: "UnsupportedMediaType", message: "only image/* may be uploaded" }, 415));
    await assert.rejects(gateway(BASE).presign("a.txt", "PUT"), { code: "UnsupportedMediaType", status: 415 });
  });

  test("made by hand: code and retryAfter only when given", () => {
    const plain = new GatewayError("refused", 400);
    assert.equal("code" in plain, false);
    assert.equal("retryAfter" in plain, false);
    const busy = new GatewayError("later", 404, { code: "RenditionNotReady", retryAfter: 2 });
    assert.equal(busy.code, "RenditionNotReady");
    assert.equal(busy.retryAfter, 2);
  });
});

describe("API keys", () => {
  const key = {
    id: "0123456789abcdef",
    name: "nightly",
    read_only: true,
    prefix: "backups/",
    created: "2026-12-07T10:00:00Z",
    expires: null,
    last_used: null,
  };

  test("keys: the list as the gateway sends it, asked without following redirects", async () => {
    const calls = stubFetch(() => json({ keys: [key] }));
    assert.deepEqual(await gateway(BASE, { getToken: () => "t" }).keys(), [key]);
    assert.equal(calls[0].url, `${BASE}/%2F?keys`);
    assert.equal(calls[0].method, "GET");
    assert.equal(calls[0].headers.get("authorization"), "Bearer t");
    assert.equal(calls[0].redirect, "manual");
  });

  test("createKey: the terms as JSON, only those given; the key once", async () => {
    const calls = stubFetch(() => json({ ...key, key: "pgk_x" }, 201));
    const g = gateway(BASE);
    const made = await g.createKey({ readOnly: true, prefix: "backups", ttl: "90d", name: "nightly" });
    assert.equal(made.key, "pgk_x");
    assert.equal(calls[0].url, `${BASE}/%2F?keys`);
    assert.equal(calls[0].method, "POST");
    assert.equal(calls[0].headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(calls[0].body), { read_only: true, prefix: "backups", ttl: "90d", name: "nightly" });
    await g.createKey();
    assert.deepEqual(JSON.parse(calls[1].body), {});
  });

  test("revokeKey: DELETE ?keys=ID, and an id that is none is refused before any request", async () => {
    const calls = stubFetch(() => new Response(null, { status: 204 }));
    const g = gateway(BASE);
    assert.equal(await g.revokeKey(key.id), undefined);
    assert.equal(calls[0].url, `${BASE}/%2F?keys=${key.id}`);
    assert.equal(calls[0].method, "DELETE");
    for (const id of ["../x", "0123456789ABCDEF", "", 42]) {
      await assert.rejects(g.revokeKey(id), { status: 400 });
    }
    assert.equal(calls.length, 1);
  });

  test("a gateway without keys says why; one that predates them is a 404", async () => {
    const off = "API keys are off on this gateway: they need --auth jwt (the gateway verifying bearer tokens itself)";
    stubFetch(() => json({ error: "ApiKeysOff", message: off }, 404));
    await assert.rejects(gateway(BASE).keys(), { status: 404, code: "ApiKeysOff", message: off });
    stubFetch(() => json({ objects: [], folders: [], next: null }));
    await assert.rejects(gateway(BASE).keys(), { status: 404, code: "NotSupported" });
    const refused = "an API key cannot create, list or revoke API keys: sign in";
    stubFetch(() => json({ error: "AccessDenied", message: refused }, 403));
    await assert.rejects(gateway(BASE).createKey(), { status: 403, message: refused });
  });
});

describe("links", () => {
  test("share: a folder (ending in /), and max_uses", async () => {
    const calls = stubFetch(() => json({ url: `${BASE}/photos/2024/?token=t`, key: "photos/2024/", id: "a".repeat(32), max_uses: 3 }, 201));
    const link = await gateway(BASE).share("photos/2024 trip/", "1d", { methods: ["GET", "PUT"], maxUses: 3 });
    assert.equal(link.id, "a".repeat(32));
    assert.equal(calls[0].method, "POST");
    assert.equal(calls[0].url, `${BASE}/photos/2024%20trip/?share&ttl=1d&methods=GET%2CPUT&max_uses=3`);
    for (const bad of ["/", "a/../", "a//"]) {
      await assert.rejects(gateway(BASE).share(bad), (error) => error instanceof GatewayError && error.status === 400, bad);
    }
    assert.equal(calls.length, 1, "nothing asked for a bad folder");
  });

  test("links and revoke: the owner's routes at the top", async () => {
    const entry = { id: "0".repeat(32), key: "a.txt", methods: "GET,HEAD", uses: 1, max_uses: null, last_use: null };
    const calls = stubFetch((url, init) => (init.method === "DELETE" ? new Response(null, { status: 204 }) : json({ links: [entry] })));
    const g = gateway(BASE, { getToken: () => "jwt" });
    assert.deepEqual(await g.links(), [entry]);
    await g.revoke(entry.id);
    assert.deepEqual(
      calls.map(({ method, url, headers }) => `${method} ${url} ${headers.get("authorization")}`),
      [`GET ${BASE}/%2F?links Bearer jwt`, `DELETE ${BASE}/%2F?links=${entry.id} Bearer jwt`],
    );
    await assert.rejects(g.revoke("../x"), { status: 400 });
    assert.equal(calls.length, 2);
  });

  test("a gateway without records says so", async () => {
    stubFetch(() => json({ error: "LinkRecordsOff", message: "share links here keep no records" }, 404));
    await assert.rejects(gateway(BASE).links(), { status: 404 });
  });

  test("linkToken: every gateway request goes through the link, with no bearer", async () => {
    const calls = stubFetch((url) =>
      url.includes("presign")
        ? json({ url: "https://storage.example.com/b/k?X-Amz-Signature=s", method: "GET", headers: {}, expires_at: "2030-01-01T00:00:00Z" })
        : json({ objects: [], folders: [], next: null }),
    );
    const g = gateway(BASE, { getToken: () => "jwt", linkToken: "v2.k1.a+b" });
    await g.list("photos/2024/");
    await g.presign("photos/2024/a.jpg");
    assert.equal(g.renditionUrl("photos/2024/a.jpg", "thumb"), `${BASE}/photos/2024/a.jpg?rendition=thumb&token=v2.k1.a%2Bb`);
    assert.deepEqual(
      calls.map(({ url, headers }) => `${url} ${headers.get("authorization")}`),
      [`${BASE}/photos/2024/?token=v2.k1.a%2Bb null`, `${BASE}/photos/2024/a.jpg?presign&token=v2.k1.a%2Bb null`],
    );
  });
});
