// The test app of tests/clients/uppy.py: the README's Uppy setup (setup.js)
// on a page of its own origin, fed files from a file input. The page's hash
// names the gateway and the token (`#gateway=URL&token=JWT`); with
// `&cancel=after-first-part` it cancels every upload as its first part is
// stored, as a user pressing Cancel would. What happened to each file is
// kept in `window.outcomes`, by file name.
import { gatewayUppy, uploadErrorReason } from "./setup.js";

const settings = new URLSearchParams(location.hash.slice(1));
const uppy = gatewayUppy(settings.get("gateway"), { getToken: async () => settings.get("token"), folder: "uppy/" });
const outcomes = (window.outcomes = {});
const parts = {};

uppy.on("s3-multipart:part-uploaded", (file, part) => {
  (parts[file.name] ??= []).push(part.PartNumber);
  if (settings.get("cancel") === "after-first-part") {
    const uploadId = uppy.getFile(file.id).s3Multipart?.uploadId;
    outcomes[file.name] = { cancelled: true, upload_id: uploadId, parts: parts[file.name] };
    uppy.cancelAll();
  }
});
uppy.on("upload-success", (file, response) => {
  outcomes[file.name] = { key: response.body.key, location: response.uploadURL, parts: parts[file.name] ?? [] };
});
uppy.on("upload-error", (file, error) => {
  outcomes[file.name] = { message: error.message, reason: uploadErrorReason(error), parts: parts[file.name] ?? [] };
});

document.getElementById("files").addEventListener("change", (event) => {
  for (const file of event.target.files) uppy.addFile({ name: file.name, type: file.type, data: file });
  uppy.upload().catch((error) => (window.failure = String(error)));
});
