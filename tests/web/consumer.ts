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
  type FolderPage,
  type Gateway,
  type Presigned,
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
  void next;
}
