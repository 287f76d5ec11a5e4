// The page: lists a folder, uploads what is chosen or dropped, and downloads,
// shares and deletes, all through the module other apps import (`/?module`).
// The server fills the page's <meta name="presign-gateway">: the gateway's
// public base URL, the folder the page opened at, whether a token is needed,
// and whether share links are on.

import { gateway, SINGLE_PUT_LIMIT } from "./?module";

const settings = document.querySelector('meta[name="presign-gateway"]').dataset;
const TOKEN = "presign-gateway token";
const g = gateway(settings.base, { getToken: () => sessionStorage.getItem(TOKEN) ?? undefined });
const $ = (id) => document.getElementById(id);
const PAGE = 100;
let folder = settings.folder;
let listed = 0; // the latest listing asked for; older answers are dropped

/** `key` as a URL path under the gateway's base. */
const href = (key) => `${settings.base}/${key.split("/").map(encodeURIComponent).join("/")}`;

function size(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (bytes >= 1024 && unit < units.length - 1) [bytes, unit] = [bytes / 1024, unit + 1];
  return unit === 0 ? `${bytes} bytes` : `${bytes.toFixed(1)} ${units[unit]}`;
}

/** The gateway's one-line reason as a sentence: "That sign-in token has expired." */
const sentence = (reason) => `${reason.charAt(0).toUpperCase()}${reason.slice(1)}${/[.!?]$/.test(reason) ? "" : "."}`;

/** Whether the visitor may act: no token is needed, or one is given. */
const signedIn = () => settings.auth !== "token" || Boolean(sessionStorage.getItem(TOKEN));

/** An error in words, asking for a token when the gateway wants one. */
function explain(error) {
  if (error.status === 401) {
    sessionStorage.removeItem(TOKEN);
    askForToken(sentence(error.message));
  }
  return error.message;
}

function askForToken(why) {
  $("token-why").textContent = why;
  $("token").hidden = false;
  $("forget").hidden = true;
  $("add").hidden = true; // uploads wait for sign-in
  $("token-value").focus();
}

function openFolder(name, { push = false } = {}) {
  folder = name;
  if (push) history.pushState({ folder }, "", href(folder));
  document.title = folder ? `${folder} · Files` : "Files";
  const trail = $("trail"); // the heading: Files / photos / 2024
  trail.replaceChildren();
  const steps = [["Files", ""]];
  let at = "";
  for (const part of folder.split("/").filter(Boolean)) steps.push([part, (at += `${part}/`)]);
  for (const [label, target] of steps) {
    const link = folderLink(label, target);
    if (target === folder) link.setAttribute("aria-current", "page");
    trail.append(...(target ? [" / ", link] : [link]));
  }
  list();
}

function folderLink(label, target) {
  const link = document.createElement("a");
  link.href = href(target);
  link.textContent = label;
  link.addEventListener("click", (event) => {
    if (event.button || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openFolder(target, { push: true });
    $("folder-heading").focus();
  });
  return link;
}

async function list(after) {
  const asked = ++listed;
  const status = $("status");
  if (!after) $("listing").replaceChildren();
  if (!signedIn()) {
    status.textContent = "Sign in to see your files.";
    return askForToken("This site needs a sign-in token.");
  }
  $("add").hidden = false;
  status.textContent = "Loading…";
  try {
    const page = await g.list(folder, { metadata: true, limit: PAGE, after });
    if (asked !== listed) return;
    for (const name of page.folders) {
      const item = document.createElement("li");
      item.className = "folder";
      item.append(folderLink(`${name.slice(folder.length)}`, name));
      $("listing").append(item);
    }
    for (const object of page.objects) $("listing").append(fileRow(object));
    $("more").hidden = !page.next;
    $("more").onclick = () => list(page.next);
    const shown = $("listing").children.length;
    status.textContent = shown ? "" : "Nothing here yet.";
  } catch (error) {
    const reason = explain(error);
    if (asked !== listed) return;
    status.textContent = error.status === 401 ? "Sign in to see your files." : `Cannot list this folder: ${reason}`;
  }
}

function fileRow(object) {
  const row = $("file-row").content.firstElementChild.cloneNode(true);
  const name = object.key.slice(object.key.lastIndexOf("/") + 1);
  const part = (selector) => row.querySelector(selector);
  row.dataset.key = object.key;
  part(".title").textContent = object.metadata?.title ?? "";
  part(".key").textContent = name;
  for (const button of row.querySelectorAll(".actions button")) {
    button.setAttribute("aria-label", `${button.textContent} ${name}`);
  }
  part(".size").textContent = size(object.size);
  if (object.last_modified) {
    part(".when").dateTime = object.last_modified;
    part(".when").textContent = new Date(object.last_modified).toLocaleString();
  }
  const problem = (error) => {
    part(".problem").textContent = explain(error);
    part(".problem").hidden = false;
  };
  const attempt = (work) => async () => {
    part(".problem").hidden = true;
    try {
      await work();
    } catch (error) {
      problem(error);
    }
  };
  part(".download").onclick = attempt(async () => {
    const { url } = await g.presign(object.key, "GET", {}, { download: true });
    location.assign(url);
  });
  part(".share").hidden = settings.links !== "on";
  part(".share").onclick = () => {
    const opening = part(".sharing").hidden;
    part(".sharing").hidden = !opening;
    part(".share").setAttribute("aria-expanded", String(opening));
    if (opening) part(".ttl").focus();
  };
  part(".mint").onclick = attempt(async () => {
    const link = await g.share(object.key, part(".ttl").value);
    part(".link").value = link.url;
    part(".until").textContent = `works until ${new Date(link.expires_at).toLocaleString()}`;
    part(".made").hidden = false;
    part(".link").select();
  });
  part(".copy").onclick = attempt(async () => {
    part(".link").select();
    if (navigator.clipboard) await navigator.clipboard.writeText(part(".link").value);
    else document.execCommand("copy"); // plain http off localhost has no clipboard API
    part(".copy").textContent = "Copied";
  });
  part(".delete").onclick = () => {
    part(".confirm").hidden = false;
    part(".no").focus();
  };
  part(".no").onclick = () => {
    part(".confirm").hidden = true;
    part(".delete").focus();
  };
  part(".yes").onclick = attempt(async () => {
    await g.remove(object.key);
    row.remove();
    $("status").textContent = `Deleted ${name}.`;
  });
  return row;
}

function upload(file) {
  const key = folder + file.name;
  const title = $("title").value.trim();
  const row = $("upload-row").content.firstElementChild.cloneNode(true);
  const words = row.querySelector(".words");
  const bar = row.querySelector("progress");
  const cancel = row.querySelector(".cancel");
  row.querySelector(".name").textContent = key;
  bar.setAttribute("aria-label", `Upload of ${key}`);
  cancel.setAttribute("aria-label", `Cancel the upload of ${key}`);
  row.dataset.key = key;
  row.dataset.state = "sending";
  words.textContent = "Starting…";
  $("uploads").prepend(row);
  const stop = new AbortController();
  cancel.onclick = () => stop.abort();
  const started = performance.now();
  const onProgress = ({ sent, total, rate }) => {
    bar.value = total ? sent / total : 1;
    const left = rate > 0 ? ` · about ${Math.ceil((total - sent) / rate)} s left` : "";
    words.textContent = `${size(sent)} of ${size(total)} · ${size(Math.round(rate))}/s${left}`;
  };
  const finish = (state, text) => {
    row.dataset.state = state;
    words.textContent = text;
    cancel.hidden = true;
  };
  g.upload(file, key, { metadata: title ? { title } : {}, onProgress, signal: stop.signal }).then(
    () => {
      const ms = performance.now() - started;
      row.dataset.ms = Math.round(ms);
      bar.value = 1;
      const rate = size(Math.round((file.size / ms) * 1000));
      finish("done", `Uploaded ${size(file.size)} in ${(ms / 1000).toFixed(1)} s (${rate}/s)`);
      if (key.slice(0, key.lastIndexOf("/") + 1) === folder) list();
    },
    (error) => {
      if (error.name === "AbortError") {
        const resume = file.size > SINGLE_PUT_LIMIT ? " Choose the same file again to go on where it stopped." : "";
        finish("cancelled", `Cancelled.${resume}`);
      } else {
        finish("failed", `Failed: ${explain(error)}`);
      }
    },
  );
}

$("files").addEventListener("change", (event) => {
  for (const file of event.target.files) upload(file);
  event.target.value = ""; // so the same file can be chosen again, to resume it
});
const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
// Files dropped before sign-in are not opened by the browser in place of the page, nor sent.
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  if (!$("add").hidden) document.body.classList.add("dropping");
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) document.body.classList.remove("dropping");
});
document.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  document.body.classList.remove("dropping");
  if ($("add").hidden) return $("token-value").focus();
  for (const file of event.dataTransfer.files) upload(file);
});

$("token").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN, $("token-value").value.trim());
  $("token-value").value = "";
  $("token").hidden = true;
  $("forget").hidden = false;
  list();
});
$("forget").onclick = () => {
  sessionStorage.removeItem(TOKEN);
  list();
};
$("forget").hidden = settings.auth !== "token" || !sessionStorage.getItem(TOKEN);
$("folder-heading").tabIndex = -1;
addEventListener("popstate", (event) => openFolder(event.state?.folder ?? settings.folder));
history.replaceState({ folder }, "");
openFolder(folder);
