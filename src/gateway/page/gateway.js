// presign-gateway's browser client: upload, list, share and delete files
// through a presign-gateway, each file's bytes going straight to storage.
//
//   import { gateway } from "https://files.example.com/?module";
//   const g = gateway("https://files.example.com", { getToken: async () => token });
//   await g.upload(file, `photos/${file.name}`, { metadata: { title: "Été 2024" } });
//
// Every call asks the gateway's JSON face (`?presign`, `?uploads`, a folder
// listing) and sends the bytes to the presigned URL it answers, so the
// gateway never sees a file's body and a front door's body limit (6 MB
// before Lambda, 1 MB before an ALB) does not matter. No dependencies, no
// build step: the gateway serves this file at `/?module` with CORS, or copy
// it from `src/gateway/page/gateway.js`, or install that folder as the npm
// package `presign-gateway`. Its types are gateway.d.ts, written by hand:
// declare there what is exported here.
//
// Where the gateway keeps a catalog (issue 21), `log` reads the upload log,
// `status` one object's record, and `rendition`/`renditionUrl` a resized
// version. Their refusals are JSON, `{"error": CODE, "message", "status"}`
// (`status` being the object's, such as "processing"; the HTTP status is the
// response's), read into a `GatewayError`'s `code` and message, with
// `retryAfter` from the `Retry-After` header. A gateway without a catalog
// answers 404 `CatalogOff` (one that predates it: `NotSupported`), which an
// app takes as "not here" rather than as a failure.

const MiB = 1024 * 1024;
/** Files up to this size go up in one presigned PUT; larger ones in parts. */
export const SINGLE_PUT_LIMIT = 16 * MiB;
/** The part size, unless a file needs more than 10,000 parts of it. */
export const PART_SIZE = 8 * MiB;
/** Parts in flight at once. */
export const PARALLEL_PARTS = 4;
const MAX_PARTS = 10000;
const ATTEMPTS = 3;

/** A refusal, with the gateway's (or storage's) one-line reason as its message. */
export class GatewayError extends Error {
  /**
   * `status` is the HTTP status, 0 when the server could not be reached;
   * `code` the gateway's error name when it gave one (`NoSuchKey`,
   * `RenditionNotReady`, …); `retryAfter` the seconds its `Retry-After` asked for.
   */
  constructor(message, status, { code, retryAfter } = {}) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    if (code !== undefined) this.code = code;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

/** A rendition's name, as `--renditions` names presets. */
const RENDITION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * A client for the gateway at `baseUrl` (such as "https://files.example.com",
 * or "" for the page's own origin). `getToken` is awaited before each request
 * to the gateway, so a token that expires during a long upload can be
 * refreshed; whatever it returns is sent as `Authorization: Bearer …`.
 * `linkToken` (a share link's `token=` value) acts through that link instead:
 * every request to the gateway carries it, and no bearer token is sent, so a
 * folder link's holder lists, downloads and (if it allows) uploads there.
 */
export function gateway(baseUrl, { getToken, linkToken } = {}) {
  const base = String(baseUrl ?? "").replace(/\/+$/, "");
  const through = linkToken ? `token=${encodeURIComponent(linkToken)}` : "";
  /** `target` with the link's token added to its query. */
  const withLink = (target) => (through ? `${target}${target.includes("?") ? "&" : "?"}${through}` : target);

  /**
   * A request to the gateway; the response if it is a success. `redirect:
   * "manual"` is for answers that must be the gateway's own JSON: a gateway
   * that predates them redirects to the object instead.
   */
  async function call(method, target, { headers = {}, body, signal, redirect } = {}) {
    const sent = new Headers(headers);
    if (!sent.has("accept")) sent.set("accept", "application/json");
    const token = getToken && !through ? await getToken() : undefined;
    if (token) sent.set("authorization", `Bearer ${token}`);
    let response;
    try {
      response = await fetch(base + withLink(target), { method, headers: sent, body, signal, cache: "no-store", redirect });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw unreachable(base, error);
    }
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      throw new GatewayError("this gateway does not answer that: it predates the upload log", 404, { code: "NotSupported" });
    }
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw refusal(response.status, text, response.headers.get("retry-after"));
    }
    return response;
  }

  const json = async (method, target, options) => (await call(method, target, options)).json();

  /** A presigned request for `query` on `key`: `{url, method, headers, expires_at}`. */
  const presignAt = (key, query, headers, signal) => json("GET", `${path(key)}?${query}`, { headers, signal });

  /**
   * The presigned request for `method` on `key`: `{url, method, headers,
   * expires_at}`. `headers` are those to sign in (`upload-length`,
   * `content-type`, `content-md5`, `if-none-match`, `x-amz-meta-*`);
   * `download` (true, or a file name) makes a GET save the file rather than
   * open it. Send every header of the answer but `content-length`.
   */
  async function presign(key, method = "GET", headers = {}, { download, signal } = {}) {
    checkKey(key);
    const verb = method.toUpperCase();
    const query = [verb === "GET" ? "presign" : `presign=${verb}`];
    if (download) query.unshift(download === true ? "download" : `download=${encodeURIComponent(download)}`);
    return presignAt(key, query.join("&"), headers, signal);
  }

  /**
   * Uploads `file` (a File or Blob) as `key`; resolves to `{key, etag, size}`.
   * `metadata` becomes `x-amz-meta-*` (values percent-encoded unless plain
   * ASCII); `contentType` defaults to `file.type`; `onProgress({sent, total,
   * rate})` follows the bytes (rate in bytes per second); aborting `signal`
   * stops every request in flight; `overwrite: false` refuses to replace an
   * existing object. A file above SINGLE_PUT_LIMIT goes up in parts, several
   * at once; if it is stopped (a reload, a lost connection, `signal`), upload
   * the same file to the same key again and only the missing parts are sent.
   */
  async function upload(file, key, { metadata = {}, contentType, onProgress, signal, overwrite = true } = {}) {
    checkKey(key);
    signal?.throwIfAborted();
    const object = {};
    const type = contentType ?? file.type;
    if (type) object["content-type"] = type;
    for (const [name, value] of Object.entries(metadata)) {
      if (value != null && value !== "") object[`x-amz-meta-${name.toLowerCase()}`] = encodeMetadata(String(value));
    }
    const condition = overwrite ? {} : { "if-none-match": "*" };
    if (file.size <= SINGLE_PUT_LIMIT) {
      const progress = meter(file.size, 0, onProgress);
      const headers = { ...object, ...condition, "upload-length": String(file.size) };
      const signed = await presign(key, "PUT", headers, { signal });
      const sent = await send(signed, file, signal, (bytes) => progress.moving(1, bytes));
      progress.stored(1, file.size);
      return { key, etag: unquote(sent.getResponseHeader("etag")), size: file.size };
    }
    return uploadParts(file, key, object, condition, onProgress, signal);
  }

  /** Every part storage holds of `uploadId`, page after page as S3's ListParts answers. */
  async function storedParts(key, uploadId, signal) {
    const parts = [];
    let marker = 0;
    for (;;) {
      const after = marker ? `&part-number-marker=${marker}` : "";
      const page = await json("GET", `${path(key)}?uploadId=${encodeURIComponent(uploadId)}${after}`, { signal });
      parts.push(...page.parts);
      const next = page.next_part_number_marker;
      // A marker that does not move on would ask for the same page forever;
      // the parts not listed are merely sent again.
      if (!page.is_truncated || !(next > marker)) return parts;
      marker = next;
    }
  }

  async function uploadParts(file, key, object, condition, onProgress, signal) {
    const partSize = Math.max(PART_SIZE, Math.ceil(file.size / MAX_PARTS / MiB) * MiB);
    const count = Math.ceil(file.size / partSize);
    const sizeOf = (n) => Math.min(partSize, file.size - (n - 1) * partSize);
    const memory = resumable(base, key, file);
    const etags = new Map();
    let uploadId = memory.match?.partSize === partSize ? memory.match.uploadId : undefined;
    if (uploadId) {
      try {
        for (const { part_number: n, size, etag } of await storedParts(key, uploadId, signal)) {
          if (n <= count && size === sizeOf(n)) etags.set(n, etag);
        }
      } catch (error) {
        if (error.status !== 404) throw error;
        uploadId = undefined; // completed, aborted or expired: start afresh
      }
    } else if (memory.other) {
      // Another file was interrupted on its way to this key: drop its parts.
      call("DELETE", `${path(key)}?uploadId=${encodeURIComponent(memory.other.uploadId)}`).catch(() => {});
    }
    if (!uploadId) {
      ({ upload_id: uploadId } = await json("POST", `${path(key)}?uploads`, { headers: object, signal }));
      memory.remember({ uploadId, partSize });
    }

    const missing = [];
    let stored = 0;
    for (let n = 1; n <= count; n++) {
      if (etags.has(n)) stored += sizeOf(n);
      else missing.push(n);
    }
    const progress = meter(file.size, stored, onProgress);
    const upload = `uploadId=${encodeURIComponent(uploadId)}`;
    const sendPart = async (n, stop) => {
      const start = (n - 1) * partSize;
      const bytes = file.slice(start, start + sizeOf(n));
      for (let attempt = 1; ; attempt++) {
        try {
          const query = `partNumber=${n}&${upload}&presign=PUT`;
          const signed = await presignAt(key, query, { "upload-length": String(bytes.size) }, stop);
          const sent = await send(signed, bytes, stop, (done) => progress.moving(n, done));
          const etag = sent.getResponseHeader("etag");
          if (!etag) throw new GatewayError("storage hides the part's ETag: its CORS rules must expose ETag", 0);
          progress.stored(n, bytes.size);
          return unquote(etag);
        } catch (error) {
          progress.moving(n, 0);
          const passing = error.status === 0 || error.status >= 500;
          if (stop.aborted || attempt === ATTEMPTS || !passing) throw error;
          await pause(500 * 2 ** attempt, stop);
        }
      }
    };

    // PARALLEL_PARTS workers take parts in order; the first failure stops them all.
    const stop = new AbortController();
    const cancel = () => stop.abort(signal.reason);
    signal?.addEventListener("abort", cancel, { once: true });
    let failure;
    const worker = async () => {
      while (missing.length && !stop.signal.aborted) {
        const n = missing.shift();
        try {
          etags.set(n, await sendPart(n, stop.signal));
        } catch (error) {
          failure ??= error;
          stop.abort(error);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_PARTS }, worker));
    signal?.removeEventListener("abort", cancel);
    if (failure) throw failure;

    const parts = Array.from({ length: count }, (_, i) => ({ part_number: i + 1, etag: etags.get(i + 1) }));
    try {
      const headers = { "content-type": "application/json", ...condition };
      const done = await json("POST", `${path(key)}?${upload}`, { headers, body: JSON.stringify({ parts }), signal });
      memory.forget();
      return done;
    } catch (error) {
      if (error.status === 412) await call("DELETE", `${path(key)}?${upload}`).catch(() => {}); // nothing to resume
      if (error.status === 404 || error.status === 412) memory.forget();
      throw error;
    }
  }

  /**
   * One page of `folder` ("" or "/" for the top level):
   * `{objects: [{key, size, last_modified, etag, metadata?, status?, renditions?}], folders, next}`.
   * `metadata: true` adds each object's metadata, decoded (at most 100 a page
   * without a catalog; with one, each object's `status` too); `renditions`
   * (`["thumb"]`) adds each ready one as `{url, width, height}`; pass `next` as
   * `after` for the following page.
   */
  async function list(folder = "", { metadata = false, renditions, after, limit, signal } = {}) {
    const name = folder.replace(/^\/+/, "");
    const segments = name.endsWith("/") ? name.slice(0, -1) : name;
    if (segments !== "") checkSegments(segments);
    // `/%2F`, not `/`: behind API Gateway `GET /` is the page's own route.
    const at = name === "" ? "/%2F" : `${encodePath(segments)}/`;
    const query = [];
    if (limit != null) query.push(`limit=${limit}`);
    if (after) query.push(`after=${encodeURIComponent(after)}`);
    if (metadata) query.push("metadata");
    const names = [renditions ?? []].flat();
    if (names.length) query.push(`renditions=${names.map(checkRendition).join(",")}`);
    const page = await json("GET", query.length ? `${at}?${query.join("&")}` : at, { signal });
    for (const object of page.objects) {
      for (const [name, value] of Object.entries(object.metadata ?? {})) object.metadata[name] = decodeMetadata(value);
    }
    return page;
  }

  /**
   * A share link for `key` living `ttl` ("1h", "7d", …): `{url, key, methods,
   * expires_at, max_size, id, max_uses}`. A `key` ending in `/` shares that
   * folder (everything under it, listed too). `methods: "PUT"` (with
   * `maxSize`) makes an upload link; `maxUses` ends it after that many uses
   * (where the gateway keeps links' records: `id` names the record, else `null`).
   */
  async function share(key, ttl = "7d", { methods, maxSize, maxUses, signal } = {}) {
    const query = ["share", `ttl=${encodeURIComponent(ttl)}`];
    if (methods) query.push(`methods=${encodeURIComponent([methods].flat().join(","))}`);
    if (maxSize != null) query.push(`max_size=${maxSize}`);
    if (maxUses != null) query.push(`max_uses=${maxUses}`);
    return json("POST", `${sharedPath(key)}?${query.join("&")}`, { signal });
  }

  /**
   * The caller's live share links, newest first: `[{id, key, methods,
   * max_size, created_by, created_at, expires_at, max_uses, uses, last_use}]`
   * (never a link's URL: it is shown once, when made). A gateway that keeps
   * no records of links rejects with 404 (`LinkRecordsOff`).
   */
  async function links({ signal } = {}) {
    const answer = await json("GET", "/%2F?links", { signal, redirect: "manual" });
    if (!Array.isArray(answer?.links)) throw new GatewayError("this gateway keeps no records of links", 404, { code: "NotSupported" });
    return answer.links;
  }

  /** Revokes the caller's link `id`: its holder gets 410 from then on. 404 (`NoSuchLink`) if it is not one of theirs. */
  async function revoke(id, { signal } = {}) {
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) {
      throw new GatewayError(`${JSON.stringify(id)} is not a link's id`, 400, { code: "InvalidRequest" });
    }
    await call("DELETE", `/%2F?links=${id}`, { signal });
  }

  /** Deletes `key` (storage answers success for a key that is not there). */
  async function remove(key, { signal } = {}) {
    checkKey(key);
    const signed = await presign(key, "DELETE", {}, { signal });
    const response = await fetch(signed.url, { method: "DELETE", headers: storageHeaders(signed), signal });
    if (!response.ok) throw refusal(response.status, await response.text().catch(() => ""));
  }

  /**
   * Whether storage holds `key`: a presigned `HEAD`. Rejects when storage
   * answers neither (a 403 where the gateway's role may not list the bucket:
   * S3 then hides whether a key exists).
   */
  async function exists(key, { signal } = {}) {
    checkKey(key);
    const signed = await presign(key, "HEAD", {}, { signal });
    let response;
    try {
      response = await fetch(signed.url, { method: "HEAD", headers: storageHeaders(signed), signal, cache: "no-store" });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new GatewayError(`cannot reach storage (${error.message})`, 0);
    }
    if (response.ok) return true;
    if (response.status === 404) return false;
    throw refusal(response.status, "");
  }

  /**
   * One page of the upload log, newest first: `{entries, next}`. `status:
   * "failed"` keeps the failures only; pass `next` as `after` for the
   * following page. A gateway without a catalog rejects with 404 (`CatalogOff`).
   */
  async function log({ limit, after, status, signal } = {}) {
    const query = ["log"];
    if (limit != null) query.push(`limit=${limit}`);
    if (after) query.push(`after=${encodeURIComponent(after)}`);
    if (status) query.push(`status=${encodeURIComponent(status)}`);
    const page = await json("GET", `/%2F?${query.join("&")}`, { signal, redirect: "manual" });
    // A gateway that predates the log ignores `?log` and lists the top level.
    if (!Array.isArray(page?.entries)) throw noCatalog();
    return { entries: page.entries.map(decodeEntry), next: page.next ?? null };
  }

  /** `key`'s record in the log: an entry as `log` gives, or a 404 `GatewayError`. */
  async function status(key, { signal } = {}) {
    const entry = await json("GET", `${path(key)}?status`, { signal, redirect: "manual" });
    if (typeof entry?.status !== "string") throw noCatalog();
    return decodeEntry(entry);
  }

  /**
   * The gateway's URL of `key`'s rendition `name`: it answers a 307 to the
   * rendition, so it fits an `<img src>` where no token is needed. Checks the
   * key and the name; asks nothing.
   */
  function renditionUrl(key, name) {
    return `${base}${withLink(`${path(key)}?rendition=${checkRendition(name)}`)}`;
  }

  /**
   * The presigned request for `key`'s rendition `name` (`{url, method,
   * headers, expires_at}`), for an `<img src>` where a token is needed.
   * Rejects with a 404 `GatewayError` whose `code` is `RenditionNotReady`
   * (and `retryAfter` the seconds to wait) while it is made, or
   * `RenditionFailed` (the reason as its message), `NotAnImage`; 400
   * `UnknownRendition` for a name the gateway does not make.
   */
  async function rendition(key, name, { signal } = {}) {
    checkKey(key);
    return presignAt(key, `rendition=${checkRendition(name)}&presign`, {}, signal);
  }

  /**
   * The caller's API keys, oldest first: `[{id, name, read_only, prefix,
   * created, expires, last_used}]`, never a key itself. For a tenant signed
   * in with a token: an API key is refused (403), and a gateway without keys
   * answers 404 (`ApiKeysOff`) saying why.
   */
  async function keys({ signal } = {}) {
    const answer = await json("GET", "/%2F?keys", { signal, redirect: "manual" });
    // A gateway that predates keys ignores `?keys` and lists the top level.
    if (!Array.isArray(answer?.keys)) throw noKeys();
    return answer.keys;
  }

  /**
   * A new API key for an external system: `{key, id, name, read_only,
   * prefix, created, expires, last_used}`, its `key` (`pgk_…`, to send as
   * `Authorization: Bearer`) shown this once. `readOnly` keeps it to
   * downloads and listings, `prefix` to a folder, `ttl` ("90d") to a time.
   */
  async function createKey({ readOnly, prefix, ttl, name, signal } = {}) {
    const terms = {};
    if (readOnly != null) terms.read_only = Boolean(readOnly);
    for (const [field, value] of [["prefix", prefix], ["ttl", ttl], ["name", name]]) {
      if (value != null && value !== "") terms[field] = String(value);
    }
    const headers = { "content-type": "application/json" };
    const created = await json("POST", "/%2F?keys", { headers, body: JSON.stringify(terms), signal, redirect: "manual" });
    if (typeof created?.key !== "string") throw noKeys();
    return created;
  }

  /** Revokes the caller's key `id` (as `keys()` lists it): refused everywhere within 5 seconds. */
  async function revokeKey(id, { signal } = {}) {
    if (typeof id !== "string" || !KEY_ID.test(id)) {
      throw new GatewayError(`${JSON.stringify(id)} is no key id: 16 lowercase hex digits`, 400, { code: "InvalidRequest" });
    }
    await call("DELETE", `/%2F?keys=${id}`, { signal, redirect: "manual" });
  }

  return {
    upload, list, share, links, revoke, remove, presign, exists, log, status, rendition, renditionUrl, keys, createKey, revokeKey,
  };
}

/** A key's path, or with a trailing `/` a folder's (never the top level), checked as keys are. */
function sharedPath(key) {
  if (typeof key === "string" && key.endsWith("/")) {
    const segments = key.replace(/^\/+/, "").slice(0, -1);
    if (segments === "") throw new GatewayError("share a file or a folder, not the top level", 400, { code: "InvalidRequest" });
    checkSegments(segments);
    return `${encodePath(segments)}/`;
  }
  return path(key);
}

/** An API key's id, as the gateway lists it. */
const KEY_ID = /^[0-9a-f]{16}$/;

/** The error for a gateway that keeps no API keys but answered as if it did not know the question. */
const noKeys = () => new GatewayError("this gateway keeps no API keys", 404, { code: "NotSupported" });

/** The error for a gateway that keeps no catalog but answered as if it did not know the question. */
const noCatalog = () => new GatewayError("this gateway keeps no upload log", 404, { code: "NotSupported" });

/** `name` if it can name a rendition; a 400 `GatewayError` before any request if not. */
function checkRendition(name) {
  if (typeof name !== "string" || !RENDITION_NAME.test(name)) {
    throw new GatewayError(`${JSON.stringify(name)} cannot name a rendition: a-z, 0-9 and -, at most 32`, 400, {
      code: "UnknownRendition",
    });
  }
  return name;
}

/** A log entry with its metadata (and title) decoded, as `list` decodes metadata. */
function decodeEntry(entry) {
  const metadata = {};
  for (const [name, value] of Object.entries(entry.metadata ?? {})) metadata[name] = decodeMetadata(value);
  const decoded = { ...entry, metadata };
  if (typeof entry.title === "string") decoded.title = decodeMetadata(entry.title);
  return decoded;
}

/**
 * `key` as a URL path, each segment percent-encoded (the gateway decodes it
 * once). Checked first: a `..` segment would be collapsed by the browser's
 * URL parser and name another key.
 */
function path(key) {
  checkKey(key);
  return encodePath(key);
}

function encodePath(name) {
  return `/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * Throws the `GatewayError` (400) the gateway would answer for `key`, with its
 * reason, so a bad key fails before any request. The gateway's 1,024-byte
 * limit is left to it: it counts a key prefix and tenant folder this side
 * cannot know.
 */
export function checkKey(key) {
  if (typeof key !== "string") throw new TypeError(`a key is a string, not ${typeof key}`);
  if (key === "") throw refused("the key is empty: name a file, as in /reports/2024.pdf");
  checkSegments(key);
}

// The same rules in the same order as the gateway's (src/core/key.rs), and
// its reasons word for word: tests/data/key-rules.json holds both to them.
function checkSegments(name) {
  try {
    encodeURIComponent(name);
  } catch {
    throw refused("the key is not valid UTF-8 once percent-decoded"); // a lone surrogate
  }
  if (name.includes("\\")) throw refused("the key contains a backslash");
  // Rust's `char::is_control`: the C0 and C1 controls and DEL.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw refused("the key contains a control character");
  for (const segment of name.split("/")) {
    if (segment === "") throw refused("the key has an empty path segment (`//`, or a `/` at the start or end)");
    if (segment === "." || segment === "..") throw refused("the key has a `.` or `..` segment");
  }
}

const refused = (reason) => new GatewayError(reason, 400);

/** A metadata value as an HTTP header carries it: ASCII, `%` escaped. */
export function encodeMetadata(value) {
  const plain = /^[\x20-\x24\x26-\x7e]*$/.test(value) && value === value.trim();
  return plain ? value : encodeURIComponent(value);
}

/** A metadata value as written, whether or not the writer percent-encoded it. */
export function decodeMetadata(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // not percent-encoded ("100% done")
  }
}

/** The headers a presigned request must carry, but those the browser sets itself. */
function storageHeaders(signed) {
  return Object.entries(signed.headers).filter(([name]) => name !== "content-length" && name !== "host");
}

/**
 * An error for a refused request: the gateway's JSON `message` (its multipart
 * routes, asked with `Accept: application/json`), storage's XML `<Message>`,
 * or the gateway's one line of text (its other routes); with the gateway's
 * error name (JSON `code`, or `error` as the catalog's answers spell it) or
 * storage's `<Code>`, and `Retry-After` in seconds.
 */
function refusal(status, text, retryAfter) {
  const field = (name) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  let reason = text.trim();
  const { message, code } = reason.startsWith("{") ? jsonError(reason) : { code: field("Code") };
  if (status === 412) reason = "a file with this name exists already";
  else if (message) reason = message;
  else if (field("Message")) reason = `storage refused it: ${field("Code") ?? status}: ${field("Message")}`;
  return new GatewayError(reason || `the server answered ${status}`, status, { code, retryAfter: seconds(retryAfter) });
}

function jsonError(text) {
  try {
    const { message, code, error } = JSON.parse(text);
    const name = [code, error].find((value) => typeof value === "string");
    return { message: typeof message === "string" ? message.trim() : undefined, code: name };
  } catch {
    return {}; // text that merely starts with a brace
  }
}

/** A `Retry-After` value (seconds, or an HTTP date) in seconds from now. */
function seconds(retryAfter) {
  if (retryAfter == null || retryAfter === "") return undefined;
  if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
  const at = Date.parse(retryAfter);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * The error for a gateway that `fetch` could not reach. A page cannot tell a
 * refused CORS preflight from a server that is down (both are "Failed to
 * fetch"), so a page on another origin is told both, and what to allow.
 */
function unreachable(base, error) {
  const page = globalThis.location?.origin; // undefined outside a browser
  const reason = `cannot reach the gateway at ${base || page || "this origin"} (${error.message})`;
  let other = false;
  try {
    other = Boolean(page && base && new URL(base, globalThis.location.href).origin !== page);
  } catch {
    // not a URL: fetch failed on it before any CORS check
  }
  if (!other) return new GatewayError(`${reason}: is it running?`, 0);
  const allow = `it does not allow this page's origin ${page}: start it with --allowed-origins ${page}`;
  return new GatewayError(`${reason}: it is down, or ${allow}`, 0);
}

/** Sends `body` with the presigned request `signed`; resolves to the XHR when storage accepts it. */
function send(signed, body, signal, onProgress) {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const xhr = new XMLHttpRequest();
    xhr.open(signed.method, signed.url);
    for (const [name, value] of storageHeaders(signed)) xhr.setRequestHeader(name, value);
    const abort = () => xhr.abort();
    signal?.addEventListener("abort", abort, { once: true });
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onloadend = () => signal?.removeEventListener("abort", abort);
    xhr.onload = () => (xhr.status < 300 ? resolve(xhr) : reject(refusal(xhr.status, xhr.responseText)));
    xhr.onerror = () => reject(new GatewayError("the connection to storage failed", 0));
    xhr.onabort = () => reject(signal?.reason ?? new DOMException("the upload was stopped", "AbortError"));
    xhr.send(body);
  });
}

/** Progress over parts: bytes stored (`stored` counts those already there) plus bytes in flight. */
function meter(total, stored, onProgress) {
  const started = performance.now();
  const already = stored;
  const moving = new Map();
  const report = () => {
    if (!onProgress) return;
    let sent = stored;
    for (const bytes of moving.values()) sent += bytes;
    const seconds = (performance.now() - started) / 1000;
    onProgress({ sent, total, rate: seconds > 0 ? (sent - already) / seconds : 0 });
  };
  return {
    moving(part, bytes) {
      moving.set(part, bytes);
      report();
    },
    stored(part, bytes) {
      moving.delete(part);
      stored += bytes;
      report();
    },
  };
}

/** What this browser remembers of an interrupted multipart upload to `key`. */
function resumable(base, key, file) {
  const name = `presign-gateway upload ${base} ${key}`;
  let saved;
  try {
    saved = JSON.parse(localStorage.getItem(name));
  } catch {
    saved = null; // no storage (a worker, a private window) or nothing readable
  }
  // Only a File (a name and a time) can be recognised when picked again.
  const known = typeof file.name === "string" && Number.isFinite(file.lastModified);
  const same =
    known && saved?.name === file.name && saved.size === file.size && saved.lastModified === file.lastModified;
  const store = (write) => {
    try {
      write();
    } catch {
      // Without local storage an upload cannot resume, but still works.
    }
  };
  return {
    match: same ? saved : undefined,
    other: saved && !same ? saved : undefined,
    remember: ({ uploadId, partSize }) =>
      known &&
      store(() => {
        const record = { key, name: file.name, size: file.size, lastModified: file.lastModified, uploadId, partSize };
        localStorage.setItem(name, JSON.stringify(record));
      }),
    forget: () => store(() => localStorage.removeItem(name)),
  };
}

function unquote(etag) {
  return etag ? etag.replace(/^(W\/)?"|"$/g, "") : null;
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}
