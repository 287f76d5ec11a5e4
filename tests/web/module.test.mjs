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
    calls.push({ url: String(url), method: init.method ?? "GET", headers: new Headers(init.headers), body: init.body });
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
