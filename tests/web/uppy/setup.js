import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

const MiB = 1024 * 1024;
// Parts of 8 MiB, larger beyond 78 GiB: S3 takes at most 10,000 parts.
const partSize = (size) => Math.max(8 * MiB, Math.ceil(size / 10000));

/** Uppy uploading to the presign-gateway at `gatewayUrl`, each file as `folder` + its name. */
export function gatewayUppy(gatewayUrl, { getToken, folder = "" }) {
  const base = gatewayUrl.replace(/\/+$/, "");
  const at = (key) => `${base}/${key.split("/").map(encodeURIComponent).join("/")}`;
  const bearer = async () => ({ authorization: `Bearer ${await getToken()}` });
  const sizes = new Map(); // key → the file's size: the gateway signs each body's size in

  // The gateway's JSON face signs a storage URL: the bytes never pass the gateway.
  async function presign(url, headers) {
    const response = await fetch(url, { headers: { accept: "application/json", ...(await bearer()), ...headers } });
    const text = await response.text();
    if (!response.ok) throw new Error(gatewayReason(text) || `the gateway answered ${response.status}`);
    const { url: signed, headers: { "content-length": _, ...send } } = JSON.parse(text);
    return { url: signed, headers: send }; // the browser sets Content-Length itself
  }

  async function signRequest({ method, key, uploadId, partNumber, contentType }) {
    const size = sizes.get(key);
    if (partNumber) {
      const part = partSize(size);
      const length = Math.min(part, size - (partNumber - 1) * part);
      const query = `partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}&presign=PUT`;
      return presign(`${at(key)}?${query}`, { "upload-length": String(length) });
    }
    if (method === "PUT") {
      return presign(`${at(key)}?presign=PUT`, { "content-type": contentType, "upload-length": String(size) });
    }
    // Start (POST ?uploads), list parts (GET), complete (POST) or abort (DELETE ?uploadId=ID):
    // the gateway answers these itself, in S3's XML.
    const query = uploadId ? `uploadId=${encodeURIComponent(uploadId)}` : "uploads";
    return { url: `${at(key)}?${query}`, headers: await bearer() };
  }

  return new Uppy().use(AwsS3, {
    signRequest,
    shouldUseMultipart: (file) => file.size > 16 * MiB,
    getChunkSize: ({ size }) => partSize(size),
    generateObjectKey: (file) => {
      const key = folder + file.name;
      sizes.set(key, file.size);
      return key;
    },
  });
}

/** The reason in a refusal's body: the gateway's JSON `message`, S3's XML `<Message>`, or its line of text. */
export function gatewayReason(body) {
  const text = body.trim();
  if (text.startsWith("<")) {
    const xml = new DOMParser().parseFromString(text, "application/xml");
    return xml.querySelector("Error > Message")?.textContent ?? text;
  }
  try {
    return JSON.parse(text).message ?? text;
  } catch {
    return text;
  }
}

/** What to show for Uppy's `upload-error`: its `S3 returned 415` carries the gateway's reason in `body`. */
export const uploadErrorReason = (error) => (error.body ? gatewayReason(error.body) : error.message);
