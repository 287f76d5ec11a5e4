// Types for presign-gateway's browser module, gateway.js beside this file,
// written by hand: a function added to gateway.js is declared here too, and
// tests/web/consumer.ts type-checks them together. Field names are the
// gateway's JSON (src/wire.rs), so they are snake_case.

/** Files up to this size (16 MiB) go up in one presigned PUT; larger ones in parts. */
export declare const SINGLE_PUT_LIMIT: number;
/** The part size (8 MiB), unless a file needs more than 10,000 parts of it. */
export declare const PART_SIZE: number;
/** Parts in flight at once. */
export declare const PARALLEL_PARTS: number;

/** A refusal, with the gateway's (or storage's) one-line reason as its message. */
export declare class GatewayError extends Error {
  constructor(message: string, status: number, details?: GatewayErrorDetails);
  name: "GatewayError";
  /** The HTTP status; 0 when the server could not be reached. */
  status: number;
  /** The gateway's error name, when it gave one (or storage's `<Code>`). */
  code?: ErrorCode;
  /** The seconds the answer's `Retry-After` asked to wait. */
  retryAfter?: number;
}

export interface GatewayErrorDetails {
  code?: ErrorCode | undefined;
  retryAfter?: number | undefined;
}

/**
 * Error names an app may act on, as the upload log's routes answer them
 * (`{"error", "message", "status"}`). `NoSuchKey` (404): no record of the
 * object, or none yet; `RenditionNotReady` (404, with `retryAfter`): still
 * being made; `RenditionFailed` (404): it will not be, the reason is the
 * message; `NotAnImage` (404): the object has no renditions;
 * `UnknownRendition` (400): no such preset; `CatalogOff` (404): the gateway
 * was started without a state store; `NotSupported` (404): it predates the
 * upload log. Others pass through as the gateway or storage named them.
 */
export type ErrorCode =
  | "NoSuchKey"
  | "RenditionNotReady"
  | "RenditionFailed"
  | "NotAnImage"
  | "UnknownRendition"
  | "CatalogOff"
  | "NotSupported"
  | "LinkRecordsOff"
  | "NoSuchLink"
  | "LinkRevoked"
  | "LinkUsedUp"
  | (string & {});

/**
 * Throws the `GatewayError` (status 400) the gateway would answer for `key`,
 * with the gateway's reason; returns nothing for a key it accepts (but for
 * its 1,024-byte limit, which counts a prefix only the gateway knows).
 */
export declare function checkKey(key: string): void;

/** A metadata value as an HTTP header carries it: ASCII, `%` escaped. */
export declare function encodeMetadata(value: string): string;

/** A metadata value as written, whether or not the writer percent-encoded it. */
export declare function decodeMetadata(value: string): string;

/**
 * A client for the gateway at `baseUrl` (such as "https://files.example.com",
 * or "" for the page's own origin).
 */
export declare function gateway(baseUrl: string, options?: GatewayOptions): Gateway;

export interface GatewayOptions {
  /**
   * Awaited before each request to the gateway, so a token can be refreshed
   * during a long upload; a value is sent as `Authorization: Bearer …`,
   * nothing (`undefined`, `null`, `""`) sends no `Authorization`.
   */
  getToken?: () => string | null | undefined | PromiseLike<string | null | undefined>;
  /**
   * A share link's `token=` value: every request to the gateway goes through
   * that link (no `Authorization` is sent), so a folder link's holder lists,
   * downloads and, if the link allows, uploads in its folder.
   */
  linkToken?: string;
}

/** What `gateway()` returns. */
export interface Gateway {
  /**
   * Uploads `file` as `key`: in one presigned PUT up to SINGLE_PUT_LIMIT,
   * in parts beyond (resumed when the same File goes to the same key again).
   * Rejects with a `GatewayError`, or the signal's reason when aborted.
   */
  upload(file: Blob, key: string, options?: UploadOptions): Promise<Uploaded>;
  /** One page of `folder` ("" or "/" for the top level; "photos/" or "photos"). */
  list(folder?: string, options?: ListOptions): Promise<FolderPage>;
  /**
   * A share link for `key` living `ttl` ("1h", "7d", …; default "7d"); a key
   * ending in `/` shares that folder and everything under it.
   */
  share(key: string, ttl?: string, options?: ShareOptions): Promise<ShareLink>;
  /**
   * The caller's live share links, newest first, without their URLs. A
   * gateway without a state store rejects with 404 (`LinkRecordsOff`).
   */
  links(options?: SignalOptions): Promise<LinkEntry[]>;
  /** Revokes the caller's link `id`; 404 (`NoSuchLink`) if it is not theirs or no longer live. */
  revoke(id: string, options?: SignalOptions): Promise<void>;
  /** Deletes `key` (storage answers success for a key that is not there). */
  remove(key: string, options?: RemoveOptions): Promise<void>;
  /**
   * The presigned request for `method` (default "GET") on `key`. `headers`
   * are those to sign in; send every header of the answer but `content-length`.
   */
  presign(key: string, method?: Method, headers?: SignedHeaders, options?: PresignOptions): Promise<Presigned>;
  /**
   * Whether storage holds `key` (a presigned `HEAD`); rejects when storage
   * answers neither 2xx nor 404.
   */
  exists(key: string, options?: SignalOptions): Promise<boolean>;
  /**
   * One page of the upload log, newest first. A gateway without a catalog
   * rejects with a `GatewayError` of status 404 (`CatalogOff`, or
   * `NotSupported` from one that predates the log).
   */
  log(options?: LogOptions): Promise<LogPage>;
  /** `key`'s record in the log; a 404 `GatewayError` (`NoSuchKey`) when it has none. */
  status(key: string, options?: SignalOptions): Promise<LogEntry>;
  /**
   * The presigned `GET` of `key`'s rendition `name` ("thumb", "large", …).
   * Rejects with a `GatewayError`: 404 `RenditionNotReady` (with
   * `retryAfter`) while it is made, 404 `RenditionFailed`, 404 `NotAnImage`,
   * 400 `UnknownRendition`.
   */
  rendition(key: string, name: string, options?: SignalOptions): Promise<Presigned>;
  /**
   * The gateway's URL of `key`'s rendition `name`, answered with a 307 to it:
   * for an `<img src>` where no token is needed. Asks nothing.
   */
  renditionUrl(key: string, name: string): string;
  /**
   * The caller's API keys, oldest first, never a key itself. For a tenant
   * signed in with a token; rejects with a `GatewayError`: 403 for an API
   * key, 404 `ApiKeysOff` (with the reason) on a gateway without keys.
   */
  keys(options?: SignalOptions): Promise<ApiKey[]>;
  /** A new API key; its `key` is shown this once. 409 `TooManyApiKeys` at 100. */
  createKey(options?: CreateKeyOptions): Promise<NewApiKey>;
  /** Revokes the caller's key `id`; 404 `NoSuchApiKey` for one that is not the caller's. */
  revokeKey(id: string, options?: SignalOptions): Promise<void>;
}

/** An API key as listed. Times are RFC 3339. */
export interface ApiKey {
  /** 16 lowercase hex digits, to revoke it with. */
  id: string;
  name: string;
  /** Downloads, listings and the log only. */
  read_only: boolean;
  /** The folder it is confined to ("photos/"), "" for all the tenant's files. */
  prefix: string;
  created: string;
  /** `null`: until revoked. */
  expires: string | null;
  /** To the minute; `null`: never used. */
  last_used: string | null;
}

/** A new API key, with the key itself. */
export interface NewApiKey extends ApiKey {
  /** `pgk_…`: send it as `Authorization: Bearer <key>`. */
  key: string;
}

export interface CreateKeyOptions {
  /** No upload or delete. */
  readOnly?: boolean;
  /** A folder ("backups" and "backups/" are one). */
  prefix?: string;
  /** How long it works ("90d", "12h", seconds); until revoked when left out. */
  ttl?: string;
  /** A name for people. */
  name?: string;
  signal?: AbortSignal;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface LogOptions {
  /** Entries a page. */
  limit?: number;
  /** The previous page's `next`. */
  after?: string | null;
  /** `"failed"` keeps the failures only. */
  status?: "failed";
  signal?: AbortSignal;
}

/** One page of the upload log. */
export interface LogPage {
  /** Newest first. */
  entries: LogEntry[];
  /** The cursor of the next page (`after`), `null` on the last. */
  next: string | null;
}

/**
 * Where an upload stands: `stored` (in storage, nothing to render or not yet
 * started), `processing` (renditions being made), `ready`, `failed` (see `reason`).
 */
export type EntryStatus = "stored" | "processing" | "ready" | "failed";

/**
 * Who uploaded: a token's `sub`, `link:` and 16 hex digits for a share link,
 * `anonymous`, or `unknown` (a PUT the gateway could not tie to its URL).
 */
export type UploadedBy = "anonymous" | "unknown" | `link:${string}` | (string & {});

/** A record of the upload log. */
export interface LogEntry {
  /** As you name it (never with the tenant folder or key prefix). */
  key: string;
  size: number;
  /** The content type, when storage has one. */
  type?: string;
  /** `x-amz-meta-*` names without the prefix, values decoded. */
  metadata: Record<string, string>;
  /** The `title` metadata value, decoded. */
  title?: string;
  uploaded_by: UploadedBy;
  /** RFC 3339. */
  uploaded_at: string;
  status: EntryStatus;
  /** Why it failed, one line; with `failed` only. */
  reason?: string;
  /** The renditions made, by preset name. */
  renditions?: Record<string, Dimensions>;
}

export interface Dimensions {
  width: number;
  height: number;
}

/** A ready rendition in a listing: its presigned URL, stable for an hour or so. */
export interface Rendition extends Dimensions {
  url: string;
}

/** The methods `?presign` signs; any case. */
export type Method = "GET" | "HEAD" | "PUT" | "DELETE" | "get" | "head" | "put" | "delete";

/**
 * Headers to sign into a presigned request, lowercase: `upload-length` (a
 * PUT's size), `content-type`, `content-md5`, `if-none-match`, `x-amz-meta-*`.
 */
export type SignedHeaders = Record<string, string>;

export interface PresignOptions {
  /** A GET that saves the file rather than opening it; a string names the file. */
  download?: boolean | string;
  signal?: AbortSignal;
}

/** `?presign`'s answer. */
export interface Presigned {
  url: string;
  method: "GET" | "HEAD" | "PUT" | "DELETE";
  /** Every header the request must carry for the signature to hold, lowercase. */
  headers: Record<string, string>;
  /** When storage stops taking it, RFC 3339. */
  expires_at: string;
}

export interface UploadOptions {
  /** Kept as `x-amz-meta-<name>`; values percent-encoded unless plain ASCII; empty ones left out. */
  metadata?: Record<string, string | number | boolean | null | undefined>;
  /** Defaults to `file.type`. */
  contentType?: string;
  /** Follows the bytes. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting it stops every request in flight. */
  signal?: AbortSignal;
  /** `false` refuses to replace an existing object (`If-None-Match: *`); default `true`. */
  overwrite?: boolean;
}

export interface UploadProgress {
  /** Bytes stored or on their way. */
  sent: number;
  total: number;
  /** Bytes per second since the upload started. */
  rate: number;
}

/** An uploaded object. */
export interface Uploaded {
  key: string;
  /** Without quotes; `null` when storage's CORS rules hide the ETag of a single PUT. */
  etag: string | null;
  size: number;
  /** A multipart upload's checksum, as storage computed it (at most one is set). */
  checksum_crc32?: string;
  checksum_crc32c?: string;
  checksum_crc64nvme?: string;
  checksum_sha1?: string;
  checksum_sha256?: string;
  checksum_type?: "FULL_OBJECT" | "COMPOSITE";
}

export interface ListOptions {
  /** Adds each object's metadata, decoded (at most 100 objects a page). */
  metadata?: boolean;
  /** The previous page's `next`. */
  after?: string | null;
  /** Objects and folders a page; default and most 1000. */
  limit?: number;
  /** Adds each object's ready renditions of these presets (`["thumb"]`) as `renditions`. */
  renditions?: string | string[];
  signal?: AbortSignal;
}

/** One page of a folder. */
export interface FolderPage {
  /** The objects directly in the folder. */
  objects: FolderObject[];
  /** The folders directly in it, as you name them, ending in `/`. */
  folders: string[];
  /** The cursor of the next page (`after`), `null` on the last. */
  next: string | null;
}

export interface FolderObject {
  /** As you name it (never with the tenant folder or key prefix). */
  key: string;
  size: number;
  /** RFC 3339. */
  last_modified: string | null;
  /** Without quotes. */
  etag: string;
  /** `x-amz-meta-*` names without the prefix, values decoded; with `metadata: true` only. */
  metadata?: Record<string, string>;
  /** Where processing stands; with `metadata: true` from a gateway with a catalog only. */
  status?: EntryStatus;
  /** Why processing failed, one line; with `status: "failed"` only. */
  reason?: string;
  /** The ready renditions `renditions` asked for; one not ready yet is absent. */
  renditions?: Record<string, Rendition>;
}

export interface ShareOptions {
  /** What the link allows: `"GET,HEAD"` by default; `"PUT"` makes an upload link. */
  methods?: string | string[];
  /** An upload link's largest upload, in bytes. */
  maxSize?: number;
  /** How many uses (downloads, uploads: each URL handed out) before the link ends; needs a state store. */
  maxUses?: number;
  signal?: AbortSignal;
}

/** A new share link. */
export interface ShareLink {
  /** The link itself: a bearer credential. */
  url: string;
  /** The key it opens, as you name it. */
  key: string;
  /** What it allows, such as `GET,HEAD`. */
  methods: string;
  /** When it stops working, RFC 3339. */
  expires_at: string;
  /** The largest upload it takes, for upload links. */
  max_size?: number | null;
  /** Its record's id, to revoke it with; `null` where links keep no records. */
  id?: string | null;
  /** How many uses it allows; `null`: any number. */
  max_uses?: number | null;
}

/** One of the caller's live links, as `links()` lists them. */
export interface LinkEntry {
  /** Its id, for `revoke()`. */
  id: string;
  /** The key it opens, or the folder (ending in `/`). */
  key: string;
  /** What it allows, such as `GET,HEAD`. */
  methods: string;
  /** The largest upload it takes, for upload links. */
  max_size: number | null;
  /** Who made it: the token's `sub`, `anonymous`, or `presign-gateway share`. */
  created_by: string;
  /** When, RFC 3339. */
  created_at: string;
  /** When it stops working, RFC 3339. */
  expires_at: string;
  /** How many uses it allows; `null`: any number. */
  max_uses: number | null;
  /** How many it has had. */
  uses: number;
  /** When it was last used, RFC 3339, or `null`. */
  last_use: string | null;
}

export interface RemoveOptions {
  signal?: AbortSignal;
}
