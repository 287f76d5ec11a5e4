// A TypeScript app using the package as one installs it (package.json's
// `exports`, so the hand-written gateway.d.ts): every export, the option
// objects and the answers' shapes. Type-checked only (`tsc -p .`), never run.
// The `@ts-expect-error` lines are mistakes the types must catch: tsc fails
// if any of them type-checks.

import {
  checkKey,
  decodeMetadata,
  encodeMetadata,
  gateway,
  GatewayError,
  PARALLEL_PARTS,
  PART_SIZE,
  SINGLE_PUT_LIMIT,
  type ApiKey,
  type EntryStatus,
  type FolderPage,
  type Gateway,
  type LinkEntry,
  type LogEntry,
  type LogPage,
  type NewApiKey,
  type Presigned,
  type Rendition,
  type ShareLink,
  type Uploaded,
} from "presign-gateway";

declare const file: File;
declare const bar: HTMLProgressElement;

export async function app(): Promise<void> {
  let token: string | undefined = "t";
  const g: Gateway = gateway("https://files.example.com", { getToken: async () => token });
  gateway("", { getToken: () => null });
  gateway("");

  const controller = new AbortController();
  const done: Uploaded = await g.upload(file, `photos/${file.name}`, {
    metadata: { title: "Été 2024", year: 2024, draft: null },
    contentType: file.type,
    onProgress: ({ sent, total, rate }) => {
      bar.value = sent / total;
      bar.title = `${Math.round(rate)} B/s`;
    },
    signal: controller.signal,
    overwrite: false,
  });
  const etag: string | null = done.etag;
  const size: number = done.size + SINGLE_PUT_LIMIT + PART_SIZE * PARALLEL_PARTS;
  const checksum: string | undefined = done.checksum_crc64nvme;
  if (done.checksum_type === "FULL_OBJECT" || done.checksum_type === "COMPOSITE") void checksum;
  await g.upload(new Blob(["hello"]), "notes/hello.txt");

  let page: FolderPage = await g.list("photos/", { metadata: true, limit: 100 });
  while (page.next !== null) page = await g.list("photos/", { after: page.next, signal: controller.signal });
  await g.list();
  for (const object of page.objects) {
    const title: string | undefined = object.metadata?.["title"];
    const when: string | null = object.last_modified;
    void [object.key, object.size, object.etag, title, when];
  }
  const folders: string[] = page.folders;

  const link: ShareLink = await g.share(`photos/${file.name}`, "7d");
  const upload = await g.share("inbox/report.pdf", "1h", { methods: "PUT", maxSize: 5 << 20 });
  await g.share("a.txt", undefined, { methods: ["GET", "HEAD"] });
  const maxSize: number | null | undefined = upload.max_size;
  void [link.url, link.key, link.methods, link.expires_at, maxSize];

  // Folder links, links with a number of uses, and the owner's view of them.
  const album = await g.share("photos/2024/", "1d", { methods: ["GET", "PUT"], maxUses: 10 });
  const id: string | null | undefined = album.id;
  const maxUses: number | null | undefined = album.max_uses;
  const mine: LinkEntry[] = await g.links({ signal: controller.signal });
  for (const entry of mine) {
    const used: number = entry.uses;
    const last: string | null = entry.last_use;
    const limit: number | null = entry.max_uses;
    void [entry.id, entry.key, entry.methods, entry.created_by, entry.created_at, entry.expires_at, used, last, limit];
  }
  if (id) await g.revoke(id);
  void maxUses;
  const visitor: Gateway = gateway("", { linkToken: "v2.k1.token" });
  await visitor.list("photos/2024/");

  const { url }: Presigned = await g.presign(`photos/${file.name}`, "GET", {}, { download: true });
  const put = await g.presign("a.bin", "PUT", { "upload-length": "5", "x-amz-meta-title": "x" });
  await g.presign("a.bin", "head", {}, { download: "report.pdf", signal: controller.signal });
  await g.presign("a.bin");
  const headers: Record<string, string> = put.headers;
  const method: "GET" | "HEAD" | "PUT" | "DELETE" = put.method;
  void [url, headers, method, put.expires_at];

  await g.remove(`photos/${file.name}`);
  const removed: void = await g.remove("a.txt", { signal: controller.signal });
  void removed;

  checkKey("photos/2024/cat.jpg");
  const value: string = decodeMetadata(encodeMetadata("Été 2024"));
  void [etag, size, folders, value];

  try {
    await g.remove("a/../x");
  } catch (error) {
    if (error instanceof GatewayError) {
      const status: number = error.status;
      const message: string = error.message;
      void [status, message];
    }
  }
  const made = new GatewayError("the key is empty", 400);
  void made;

  // The catalog: the upload log, one object's record, renditions.
  let log: LogPage = await g.log({ limit: 50, signal: controller.signal });
  while (log.next !== null) log = await g.log({ after: log.next, status: "failed" });
  await g.log();
  for (const entry of log.entries) {
    const state: EntryStatus = entry.status;
    const who: string = entry.uploaded_by;
    const fromLink: boolean = entry.uploaded_by.startsWith("link:");
    const title: string = entry.title ?? entry.metadata["title"] ?? entry.key;
    const reason: string | undefined = state === "failed" ? entry.reason : undefined;
    const thumb = entry.renditions?.["thumb"];
    const wide: number | undefined = thumb?.width;
    void [who, fromLink, title, reason, wide, entry.size, entry.type, entry.uploaded_at];
  }
  const one: LogEntry = await g.status(`photos/${file.name}`, { signal: controller.signal });
  if (one.status === "processing" || one.status === "stored" || one.status === "ready") void one.renditions;

  const pictures = await g.list("photos/", { metadata: true, renditions: ["thumb"] });
  await g.list("photos/", { renditions: "thumb" });
  for (const object of pictures.objects) {
    const thumb: Rendition | undefined = object.renditions?.["thumb"];
    const src: string | undefined = thumb?.url;
    const state: EntryStatus | undefined = object.status;
    void [src, thumb?.width, thumb?.height, state];
  }
  const img = document.createElement("img");
  img.src = g.renditionUrl(`photos/${file.name}`, "thumb");
  try {
    const large: Presigned = await g.rendition(`photos/${file.name}`, "large", { signal: controller.signal });
    img.src = large.url;
  } catch (error) {
    if (error instanceof GatewayError && error.code === "RenditionNotReady") {
      const wait: number = (error.retryAfter ?? 2) * 1000;
      void wait;
    }
  }
  const there: boolean = await g.exists(`photos/${file.name}`);
  void there;
  const busy = new GatewayError("still processing", 404, { code: "RenditionNotReady", retryAfter: 2 });
  void busy;

  // API keys for external systems.
  const newKey: NewApiKey = await g.createKey({ readOnly: true, prefix: "backups", ttl: "90d", name: "nightly" });
  const listed: ApiKey[] = await g.keys({ signal: controller.signal });
  const expiry: string | null = listed[0]?.expires ?? null;
  await g.revokeKey(newKey.id);
  void [newKey.key, expiry];

  // Mistakes the types refuse.
  // @ts-expect-error a key is a string
  checkKey(42);
  // @ts-expect-error a key is a string
  await g.remove(7);
  // @ts-expect-error an option upload() does not have
  await g.upload(file, "a.txt", { overwrites: false });
  // @ts-expect-error an option list() does not have
  await g.list("photos/", { recursive: true });
  // @ts-expect-error a method `?presign` does not sign
  await g.presign("a.txt", "POST");
  // @ts-expect-error next is null on the last page, not undefined
  const next: string | undefined = page.next;
  // @ts-expect-error the file comes first
  await g.upload("a.txt", file);
  // @ts-expect-error getToken is a function
  gateway("", { getToken: "t" });
  // @ts-expect-error GatewayError needs its status
  new GatewayError("refused");
  // @ts-expect-error the log filters failures only
  await g.log({ status: "ready" });
  // @ts-expect-error a status is one of four words
  const unknown: EntryStatus = "done";
  // @ts-expect-error renditionUrl answers at once, a string
  const later: Promise<string> = g.renditionUrl("a.jpg", "thumb");
  // @ts-expect-error a log page's next is null on the last page
  const after: string | undefined = log.next;
  // @ts-expect-error a listed key has no key
  const leaked: string | undefined = listed[0]?.key;
  // @ts-expect-error read-only is readOnly in options
  await g.createKey({ read_only: true });
  void [unknown, later, after, leaked];
  void next;
}
