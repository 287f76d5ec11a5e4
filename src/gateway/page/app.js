// The page: lists a folder (as a list, or a grid of thumbnails), uploads what
// is chosen or dropped, and downloads, shares and deletes, all through the
// module other apps import (`/?module`); where the gateway keeps a catalog,
// it shows each file's processing status and the upload log too.
// The server fills the page's <meta name="presign-gateway">: the gateway's
// public base URL, the folder the page opened at, whether a token is needed,
// and whether share links are on. Opened at a folder link (`?token=`), it is
// that folder's album: everything goes through the link, nothing above it.
// Its owner shares a folder from its heading, and sees and revokes their
// links in the Links view. When a token is needed, `/?config` says whether
// the page signs visitors in with an OpenID provider (`./?signin`) or asks
// them to paste a token.

import { gateway, SINGLE_PUT_LIMIT } from "./?module";
import { openidSignIn } from "./?signin";

const settings = document.querySelector('meta[name="presign-gateway"]').dataset;
const TOKEN = "presign-gateway token";
const TRIED = "presign-gateway sign-in tried"; // when the page last sent the visitor to the provider
let signInFailure; // why the provider's answer did not sign the visitor in
const VIEW = "presign-gateway view"; // "grid" or "list", per browser
const HOLD = "presign-gateway hold"; // "on": uploads wait for Start
// A share link's token, when the page was opened through one: a folder link's album.
const LINK = new URLSearchParams(location.search).get("token") || undefined;
const ROOT = LINK ? settings.folder : ""; // a link's holder goes no higher than its folder
// A link's holder signs in nowhere: the link is their credential.
const config =
  settings.auth === "token" && !LINK
    ? await fetch(`${settings.base}/?config`).then((r) => r.json()).catch(() => ({}))
    : {};
// The provider sends visitors back to the top level, whatever folder they signed in from.
const signin = config.client_id ? openidSignIn(config, new URL(`${settings.base}/`, location.href).href) : null;
const pastedToken = () => sessionStorage.getItem(TOKEN) ?? undefined;
const g = gateway(settings.base, { getToken: signin ? () => signin.token() : pastedToken, linkToken: LINK });
const $ = (id) => document.getElementById(id);
const PAGE = 100;
const AT_ONCE = 2; // uploads running together; the others wait, their titles editable
let folder = settings.folder;
let listed = 0; // the latest listing asked for; older answers are dropped
// What the gateway turned out to offer: `undefined` until known.
const offers = { thumbs: true, large: undefined, log: undefined, keys: undefined };
const recent = new Set(); // keys uploaded from this page, whose thumbnails are on their way

/** localStorage, which a private window may refuse. */
const remembered = (name) => {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
};
const remember = (name, value) => {
  try {
    localStorage.setItem(name, value);
  } catch {
    // the choice lasts until the page is left
  }
};

/** `key` as a URL path under the gateway's base (through the link, in an album). */
const href = (key) =>
  `${settings.base}/${key.split("/").map(encodeURIComponent).join("/")}${LINK ? `?token=${encodeURIComponent(LINK)}` : ""}`;

function size(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (bytes >= 1024 && unit < units.length - 1) [bytes, unit] = [bytes / 1024, unit + 1];
  return unit === 0 ? `${bytes} bytes` : `${bytes.toFixed(1)} ${units[unit]}`;
}

/** The gateway's one-line reason as a sentence: "That sign-in token has expired." */
const sentence = (reason) => `${reason.charAt(0).toUpperCase()}${reason.slice(1)}${/[.!?]$/.test(reason) ? "" : "."}`;

/** Whether the visitor may act: no token is needed, or one is given. */
const signedIn = () =>
  Boolean(LINK) || settings.auth !== "token" || (signin ? signin.signedIn() : Boolean(sessionStorage.getItem(TOKEN)));

/** An error in words, asking for a token when the gateway wants one. */
function explain(error) {
  if (error.status === 401) {
    sessionStorage.removeItem(TOKEN);
    signin?.forget();
    askForToken(sentence(error.message));
  }
  return error.message;
}

function askForToken(why) {
  if (signin) return askToSignIn(why);
  $("token-why").textContent = why;
  $("token").hidden = false;
  $("forget").hidden = true;
  $("add").hidden = true; // uploads wait for sign-in
  $("token-value").focus();
}

/**
 * Sends the visitor to the provider, unless they just signed out, or were
 * sent there less than a minute ago and still got no token the gateway takes
 * (then they are told why, with a button to try again).
 */
function askToSignIn(why) {
  $("add").hidden = true;
  $("forget").hidden = true;
  const tried = Number(sessionStorage.getItem(TRIED) ?? 0);
  if (!signin.signedOut() && Date.now() - tried > 60_000) {
    sessionStorage.setItem(TRIED, String(Date.now()));
    $("signin-why").textContent = "Taking you to sign in…";
    $("signin").hidden = false;
    signin.start(folder).catch((error) => showSignIn(`Cannot reach the sign-in provider: ${error.message}`));
    return;
  }
  showSignIn(signInFailure ?? (signin.signedOut() ? "You have signed out." : why));
}

function showSignIn(why) {
  $("signin-why").textContent = why;
  $("signin").hidden = false;
  $("add").hidden = true;
  $("forget").hidden = true;
}

function openFolder(name, { push = false } = {}) {
  folder = name;
  if (push) history.pushState({ folder }, "", href(folder));
  document.title = folder ? `${folder} · Files` : "Files";
  const trail = $("trail"); // the heading: Files / photos / 2024 (an album: 2024 / trip)
  trail.replaceChildren();
  const steps = LINK ? [[ROOT.split("/").filter(Boolean).pop() ?? "Shared", ROOT]] : [["Files", ""]];
  let at = ROOT;
  for (const part of folder.slice(ROOT.length).split("/").filter(Boolean)) steps.push([part, (at += `${part}/`)]);
  for (const [label, target] of steps) {
    const link = folderLink(label, target);
    if (target === folder) link.setAttribute("aria-current", "page");
    trail.append(...(target !== steps[0][1] ? [" / ", link] : [link]));
  }
  $("folder-share").hidden = Boolean(LINK) || settings.links !== "on" || folder === "";
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
  $("signin").hidden = true;
  $("forget").hidden = settings.auth !== "token";
  status.textContent = "Loading…";
  if (offers.log === undefined && !LINK) probeLog();
  if (offers.keys === undefined && settings.auth === "token" && !LINK) probeKeys();
  $("show-links").hidden = Boolean(LINK) || settings.links !== "on";
  try {
    const page = await listPage(after);
    if (asked !== listed) return;
    for (const name of page.folders) {
      const item = document.createElement("li");
      item.className = "folder";
      item.append(folderLink(`${name.slice(folder.length)}`, name));
      $("listing").append(item);
    }
    for (const object of page.objects) $("listing").append(fileRow(object));
    watchProgress(asked);
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

/** A page of the folder, with thumbnails unless the gateway makes none. */
async function listPage(after) {
  // Metadata is the owner's: a link lists names and sizes.
  const options = { metadata: !LINK, limit: PAGE, after };
  if (!offers.thumbs) return g.list(folder, options);
  try {
    return await g.list(folder, { ...options, renditions: ["thumb"] });
  } catch (error) {
    if (error.status !== 400 || !/rendition/i.test(`${error.code} ${error.message}`)) throw error;
    offers.thumbs = false; // started with --renditions none
    return g.list(folder, options);
  }
}

/** Shows the Uploads button if the gateway keeps a log; asked once a page load. */
async function probeLog() {
  offers.log = null; // asking
  try {
    await g.log({ limit: 1 });
    offers.log = true;
  } catch (error) {
    offers.log = error.status === 401 ? undefined : false; // a catalog-less gateway: 404 or 400
  }
  $("show-log").hidden = !offers.log;
}

/** Whether the caller may make API keys here (a signed-in tenant on a gateway that keeps them). */
async function probeKeys() {
  offers.keys = null; // asking
  try {
    await g.keys();
    offers.keys = true;
  } catch (error) {
    offers.keys = error.status === 401 ? undefined : false; // off here (404), or a key itself (403)
  }
  $("show-keys").hidden = !offers.keys;
}

const IMAGE = /\.(jpe?g|png|gif|webp|avif|bmp|tiff?|heic)$/i;
/** The file type a placeholder shows: "PDF", "TXT", or "FILE". */
const kind = (key) => /\.([a-z0-9]{1,5})$/i.exec(key)?.[1].toUpperCase() ?? "FILE";

/** Shows `state` ("processing", "failed" with `reason`) on a row's badge; hides it otherwise. */
function badge(element, state, reason) {
  element.dataset.status = state ?? "";
  const shown = state === "processing" || state === "failed";
  element.hidden = !shown;
  element.textContent = state === "failed" ? `Failed${reason ? `: ${reason}` : ""}` : shown ? "Processing…" : "";
}

/** Puts `url` in the row's thumbnail, in place of the file-type placeholder. */
function showThumb(row, url) {
  const img = row.querySelector(".thumb img");
  img.src = url;
  img.hidden = false;
  row.querySelector(".thumb .kind").hidden = true;
  row.querySelector(".thumb").removeAttribute("aria-label"); // named by the picture's alt
  row.dataset.thumb = "yes";
}

/**
 * Follows rows still on their way by `?status`, backing off from 1 s to 16 s,
 * until none is or the folder changes: those processing, and images just
 * uploaded that the log has no record of yet (storage reports an upload a
 * moment after it ends). Failures get their reason.
 */
async function watchProgress(asked) {
  if (LINK) return; // records are the owner's
  if (watchProgress.asked === asked) return; // already following this listing
  watchProgress.asked = asked;
  const pending = () =>
    [...$("listing").querySelectorAll("li.file")].filter((row) => {
      const state = row.dataset.status;
      if (state === "failed" && !row.dataset.reason) return true;
      if (state === "processing") return true;
      return !state && recent.has(row.dataset.key) && IMAGE.test(row.dataset.key) && !row.dataset.thumb;
    });
  for (let round = 0; round < 40; round++) {
    const rows = pending().slice(0, 20);
    if (!rows.length || asked !== listed) return;
    await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** Math.min(round, 4)));
    let moved = false;
    for (const row of rows) {
      if (asked !== listed) return;
      try {
        const entry = await g.status(row.dataset.key);
        moved ||= entry.status !== row.dataset.status;
        follow(row, entry);
        if (entry.status === "ready" && offers.thumbs && !row.dataset.thumb) {
          const { url } = await g.rendition(row.dataset.key, "thumb");
          showThumb(row, url);
        }
      } catch (error) {
        if (error.code === "CatalogOff" || error.code === "NotSupported") return; // no log to follow
        // No record yet, or a rendition still being made: asked again next round.
        if (error.code !== "NoSuchKey" && error.code !== "RenditionNotReady") recent.delete(row.dataset.key);
      }
    }
    if (moved) round = -1; // something changed: look again soon
  }
}

/** A row brought up to date with its log entry. */
function follow(row, entry) {
  row.dataset.status = entry.status;
  if (entry.reason) row.dataset.reason = entry.reason;
  badge(row.querySelector(".badge"), entry.status, entry.reason);
  recent.delete(row.dataset.key); // its record is here: its status says the rest
  const title = entry.title ?? entry.metadata?.title;
  if (title) row.querySelector(".title").textContent = title;
}

function fileRow(object) {
  const row = $("file-row").content.firstElementChild.cloneNode(true);
  const name = object.key.slice(object.key.lastIndexOf("/") + 1);
  const part = (selector) => row.querySelector(selector);
  const title = object.metadata?.title ?? "";
  row.dataset.key = object.key;
  part(".title").textContent = title;
  part(".key").textContent = name;
  for (const button of row.querySelectorAll(".actions button")) {
    button.setAttribute("aria-label", `${button.textContent} ${name}`);
  }
  part(".size").textContent = size(object.size);
  if (object.last_modified) {
    part(".when").dateTime = object.last_modified;
    part(".when").textContent = new Date(object.last_modified).toLocaleString();
  }
  part(".thumb img").alt = title || name;
  part(".thumb .kind").textContent = kind(name);
  part(".thumb").setAttribute("aria-label", `${title || name} (${kind(name)} file)`);
  const thumb = object.renditions?.thumb;
  if (thumb) showThumb(row, thumb.url);
  if (object.status) row.dataset.status = object.status;
  if (object.reason) row.dataset.reason = object.reason;
  badge(part(".badge"), object.status, object.reason);
  part(".thumb").onclick = () => openViewer(object, row);
  wire(row, object, () => {
    row.remove();
    $("status").textContent = `Deleted ${name}.`;
  });
  return row;
}

/**
 * Download, Share and Delete for `object` in `box` (a row, or the viewer),
 * found by class; `deleted` runs once storage has removed it.
 */
function wire(box, object, deleted) {
  const part = (selector) => box.querySelector(selector);
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
  part(".share").hidden = settings.links !== "on" || Boolean(LINK); // a link makes no links
  part(".delete").hidden = Boolean(LINK);
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
    deleted();
  });
}

/** The viewer: the `large` rendition if the gateway makes one, else the original, and the actions. */
async function openViewer(object, row) {
  const dialog = $("viewer");
  const body = $("viewer-body").content.firstElementChild.cloneNode(true);
  const part = (selector) => body.querySelector(selector);
  const name = object.key.slice(object.key.lastIndexOf("/") + 1);
  const title = row.querySelector(".title").textContent || name;
  part(".title").textContent = title;
  part(".key").textContent = object.key;
  const img = part("img");
  img.alt = title;
  if (row.dataset.status === "processing" || row.dataset.status === "failed") {
    badge(part(".badge"), row.dataset.status, row.dataset.reason);
  }
  dialog.replaceChildren(body);
  part(".close").onclick = () => dialog.close();
  wire(body, object, () => {
    dialog.close();
    row.remove();
    $("status").textContent = `Deleted ${name}.`;
  });
  dialog.onclose = () => (row.isConnected ? row.querySelector(".thumb") : $("folder-heading")).focus();
  dialog.showModal();
  part(".close").focus();
  const shown = row.querySelector(".thumb img");
  if (!shown.hidden) img.src = shown.src; // while the larger one comes
  else if (!IMAGE.test(name)) return showKind(part, name);
  try {
    img.src = await largeUrl(object.key);
  } catch (error) {
    if (shown.hidden) showKind(part, name);
    part(".problem").textContent = `Cannot show it: ${explain(error)}`;
    part(".problem").hidden = false;
  }
}

function showKind(part, name) {
  part("img").hidden = true;
  part(".kind").textContent = kind(name);
  part(".kind").hidden = false;
}

/** The URL of `key`'s `large` rendition, or of the original when there is none (yet). */
async function largeUrl(key) {
  if (offers.large !== false) {
    try {
      const { url } = await g.rendition(key, "large");
      offers.large = true;
      return url;
    } catch (error) {
      if (error.status === 400) offers.large = false; // no such preset here
      else if (error.status !== 404) throw error; // not ready, failed: the original
    }
  }
  return (await g.presign(key, "GET")).url;
}

/** Uploads waiting for a free slot (or for Start), in order. */
const queue = [];
let running = 0;

function pump() {
  while (running < AT_ONCE && queue.length && !(held() && !pump.started)) {
    running++;
    const job = queue.shift();
    job.run().finally(() => {
      running--;
      pump();
    });
  }
  if (!queue.length) pump.started = false;
  $("start").hidden = !(held() && queue.length && !pump.started);
}
const held = () => $("hold").checked;

/** Queues `file` for upload, its title editable until it starts. */
function upload(file) {
  const key = folder + file.name;
  const row = $("upload-row").content.firstElementChild.cloneNode(true);
  const words = row.querySelector(".words");
  const bar = row.querySelector("progress");
  const cancel = row.querySelector(".cancel");
  const titled = row.querySelector(".file-title");
  row.querySelector(".name").textContent = key;
  bar.setAttribute("aria-label", `Upload of ${key}`);
  cancel.setAttribute("aria-label", `Cancel the upload of ${key}`);
  titled.setAttribute("aria-label", `Title of ${key}`);
  titled.value = $("title").value.trim();
  row.dataset.key = key;
  row.dataset.state = "waiting";
  words.textContent = "Waiting…";
  $("uploads").prepend(row);
  const stop = new AbortController();
  const job = { run: () => send(file, key, row, stop) };
  cancel.onclick = () => {
    stop.abort();
    const waiting = queue.indexOf(job);
    if (waiting >= 0) {
      queue.splice(waiting, 1);
      settle(row, "cancelled", "Cancelled.");
      pump();
    }
  };
  queue.push(job);
  pump();
}

function settle(row, state, text) {
  row.dataset.state = state;
  row.querySelector(".words").textContent = text;
  row.querySelector(".cancel").hidden = true;
  row.querySelector(".file-title").readOnly = true;
}

/** Asks in `row` whether to replace `key`; resolves to the answer (no, when cancelled). */
function replace(row, key, stop) {
  const confirm = row.querySelector(".confirm");
  row.dataset.state = "asking";
  row.querySelector(".replace").setAttribute("aria-label", `Replace ${key}`);
  row.querySelector(".skip").setAttribute("aria-label", `Skip ${key}`);
  confirm.hidden = false;
  row.querySelector(".skip").focus();
  return new Promise((resolve) => {
    const answer = (yes) => () => {
      confirm.hidden = true;
      resolve(yes);
    };
    row.querySelector(".replace").onclick = answer(true);
    row.querySelector(".skip").onclick = answer(false);
    stop.signal.addEventListener("abort", answer(false), { once: true });
  });
}

/**
 * Sends `file` as `key`: asks first when storage holds the name (a `HEAD`),
 * and keeps `If-None-Match: *` against another upload taking it meanwhile.
 */
async function send(file, key, row, stop) {
  const words = row.querySelector(".words");
  const bar = row.querySelector("progress");
  const title = row.querySelector(".file-title").value.trim();
  row.querySelector(".file-title").readOnly = true;
  row.dataset.state = "sending";
  words.textContent = "Starting…";
  let overwrite = false;
  // A HEAD storage will not answer (403 without list rights) leaves the guard to If-None-Match.
  if (await g.exists(key, { signal: stop.signal }).catch(() => false)) {
    if (!(await replace(row, key, stop))) {
      return settle(row, ...(stop.signal.aborted ? ["cancelled", "Cancelled."] : ["skipped", "Skipped: a file with this name exists."]));
    }
    overwrite = true;
    row.dataset.state = "sending";
  }
  const started = performance.now();
  const onProgress = ({ sent, total, rate }) => {
    bar.value = total ? sent / total : 1;
    const left = rate > 0 ? ` · about ${Math.ceil((total - sent) / rate)} s left` : "";
    words.textContent = `${size(sent)} of ${size(total)} · ${size(Math.round(rate))}/s${left}`;
  };
  const metadata = title ? { title } : {};
  try {
    try {
      await g.upload(file, key, { metadata, onProgress, signal: stop.signal, overwrite });
    } catch (error) {
      if (error.status !== 412 || !(await replace(row, key, stop))) throw error; // taken meanwhile: ask
      row.dataset.state = "sending";
      await g.upload(file, key, { metadata, onProgress, signal: stop.signal, overwrite: true });
    }
    const ms = performance.now() - started;
    row.dataset.ms = Math.round(ms);
    bar.value = 1;
    const rate = size(Math.round((file.size / ms) * 1000));
    settle(row, "done", `Uploaded ${size(file.size)} in ${(ms / 1000).toFixed(1)} s (${rate}/s)`);
    recent.add(key);
    if (key.slice(0, key.lastIndexOf("/") + 1) === folder) list();
  } catch (error) {
    if (error.name === "AbortError") {
      const resume = file.size > SINGLE_PUT_LIMIT ? " Choose the same file again to go on where it stopped." : "";
      settle(row, "cancelled", `Cancelled.${resume}`);
    } else if (error.status === 412) {
      settle(row, "skipped", "Skipped: a file with this name exists.");
    } else {
      settle(row, "failed", `Failed: ${explain(error)}`);
    }
  }
}

/** Who uploaded, in words. */
const who = (by) =>
  by.startsWith("link:") ? `by a share link (${by.slice(5)})` : by === "unknown" ? "by someone unknown" : `by ${by}`;

/** The upload log, a page at a time, newest first. */
async function showLog(after) {
  const status = $("log-status");
  if (!after) $("log").replaceChildren();
  status.textContent = "Loading…";
  try {
    const page = await g.log({ limit: PAGE, after, status: $("log-failed").checked ? "failed" : undefined });
    for (const entry of page.entries) $("log").append(logRow(entry));
    $("log-more").hidden = !page.next;
    $("log-more").onclick = () => showLog(page.next);
    status.textContent = $("log").children.length ? "" : "No uploads yet.";
  } catch (error) {
    status.textContent = `Cannot read the upload log: ${explain(error)}`;
  }
}

function logRow(entry) {
  const row = $("log-row").content.firstElementChild.cloneNode(true);
  const part = (selector) => row.querySelector(selector);
  row.dataset.key = entry.key;
  row.dataset.status = entry.status;
  part(".title").textContent = entry.title ?? entry.metadata?.title ?? "";
  part(".key").textContent = entry.key;
  part(".badge").textContent = entry.status;
  part(".badge").dataset.status = entry.status;
  part(".who").textContent = who(entry.uploaded_by);
  part(".when").dateTime = entry.uploaded_at;
  part(".when").textContent = new Date(entry.uploaded_at).toLocaleString();
  part(".reason").textContent = entry.reason ?? "";
  return row;
}

/** The Files view, the Uploads view (`log`), the Keys view or the Links view. */
function showView(view) {
  $("files-view").hidden = view !== "files";
  $("log-view").hidden = view !== "log";
  $("keys-view").hidden = view !== "keys";
  $("links-view").hidden = view !== "links";
  $("show-log").setAttribute("aria-pressed", String(view === "log"));
  $("show-log").textContent = view === "log" ? "Back to files" : "Uploads";
  $("show-keys").setAttribute("aria-pressed", String(view === "keys"));
  $("show-keys").textContent = view === "keys" ? "Back to files" : "Keys";
  $("show-links").setAttribute("aria-pressed", String(view === "links"));
  $("show-links").textContent = view === "links" ? "Back to files" : "Links";
  if (view === "log") {
    showLog();
    $("log-heading").focus();
  }
  if (view === "keys") {
    $("key-made").hidden = true;
    showKeys();
    $("keys-heading").focus();
  }
  if (view === "links") {
    showLinks();
    $("links-heading").focus();
  }
}
$("show-log").onclick = () => showView($("log-view").hidden ? "log" : "files");
$("show-keys").onclick = () => showView($("keys-view").hidden ? "keys" : "files");
$("show-links").onclick = () => showView($("links-view").hidden ? "links" : "files");

/** The caller's API keys, each with what it may do and a Revoke button. */
async function showKeys() {
  const status = $("keys-status");
  status.textContent = "Loading…";
  try {
    const keys = await g.keys();
    $("keys").replaceChildren(...keys.map(keyRow));
    status.textContent = keys.length ? "" : "No keys yet.";
  } catch (error) {
    status.textContent = `Cannot list your keys: ${explain(error)}`;
  }
}

function keyRow(key) {
  const row = $("key-row").content.firstElementChild.cloneNode(true);
  const part = (selector) => row.querySelector(selector);
  const when = (time) => new Date(time).toLocaleString();
  row.dataset.id = key.id;
  part(".title").textContent = key.name || "(no name)";
  part(".id").textContent = key.id;
  part(".scope").textContent = `${key.read_only ? "read only" : "read and write"}, ${key.prefix ? `in ${key.prefix}` : "all files"}`;
  part(".dates").textContent = [
    `made ${when(key.created)}`,
    key.expires ? `works until ${when(key.expires)}` : "works until revoked",
    key.last_used ? `last used ${when(key.last_used)}` : "never used",
  ].join(", ");
  part(".revoke").onclick = async () => {
    try {
      await g.revokeKey(key.id);
      row.remove();
      $("keys-status").textContent = $("keys").children.length ? "" : "No keys yet.";
    } catch (error) {
      $("keys-status").textContent = `Cannot revoke the key: ${explain(error)}`;
    }
  };
  return row;
}

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const terms = {
    name: $("key-name").value.trim(),
    prefix: $("key-prefix").value.trim(),
    ttl: $("key-ttl").value,
    readOnly: $("key-read-only").checked,
  };
  try {
    const made = await g.createKey(terms);
    $("key-secret").value = made.key;
    $("key-made").hidden = false;
    $("key-form").reset();
    showKeys();
  } catch (error) {
    $("keys-status").textContent = `Cannot make a key: ${explain(error)}`;
  }
});


/** The owner's live share links, each with Revoke. */
async function showLinks() {
  const status = $("links-status");
  $("links").replaceChildren();
  status.textContent = "Loading…";
  try {
    for (const entry of await g.links()) $("links").append(linkRow(entry));
    status.textContent = $("links").children.length ? "" : "No live share links.";
  } catch (error) {
    status.textContent =
      error.code === "LinkRecordsOff" ? "This site keeps no record of its links." : `Cannot list your links: ${explain(error)}`;
  }
}

function linkRow(entry) {
  const row = $("link-row").content.firstElementChild.cloneNode(true);
  const part = (selector) => row.querySelector(selector);
  row.dataset.id = entry.id;
  part(".key").textContent = entry.key;
  const uploads = /PUT/.test(entry.methods) ? "download and upload" : "download";
  part(".methods").textContent = `${entry.key.endsWith("/") ? "folder" : "file"}, ${uploads}`;
  part(".uses").textContent =
    entry.max_uses == null ? `used ${entry.uses} times` : `used ${entry.uses} of ${entry.max_uses} times`;
  part(".until").textContent = `until ${new Date(entry.expires_at).toLocaleString()}`;
  part(".last").textContent = entry.last_use ? `last ${new Date(entry.last_use).toLocaleString()}` : "";
  part(".revoke").setAttribute("aria-label", `Revoke the link to ${entry.key}`);
  part(".revoke").onclick = async () => {
    part(".problem").hidden = true;
    try {
      await g.revoke(entry.id);
      row.remove();
      $("links-status").textContent = `Revoked the link to ${entry.key}.`;
    } catch (error) {
      part(".problem").textContent = explain(error);
      part(".problem").hidden = false;
    }
  };
  return row;
}

/** Share this folder: a link to it and everything in it, optionally taking uploads. */
{
  const box = $("folder-share");
  const part = (selector) => box.querySelector(selector);
  $("share-folder").onclick = () => {
    const opening = part(".sharing").hidden;
    part(".sharing").hidden = !opening;
    $("share-folder").setAttribute("aria-expanded", String(opening));
    if (opening) part(".ttl").focus();
  };
  part(".mint").onclick = async () => {
    part(".problem").hidden = true;
    try {
      const methods = part(".uploads").checked ? "GET,PUT" : "GET";
      const link = await g.share(folder, part(".ttl").value, { methods });
      part(".link").value = link.url;
      part(".until").textContent = `works until ${new Date(link.expires_at).toLocaleString()}`;
      part(".made").hidden = false;
      part(".link").select();
    } catch (error) {
      part(".problem").textContent = explain(error);
      part(".problem").hidden = false;
    }
  };
  part(".copy").onclick = async () => {
    part(".link").select();
    if (navigator.clipboard) await navigator.clipboard.writeText(part(".link").value).catch(() => {});
    else document.execCommand("copy");
    part(".copy").textContent = "Copied";
  };
}
$("log-failed").onchange = () => showLog();

/** List or grid; a choice is remembered per browser (nothing is stored until one is made). */
function layout(grid) {
  $("listing").classList.toggle("grid", grid);
  $("as-grid").setAttribute("aria-pressed", String(grid));
  $("as-list").setAttribute("aria-pressed", String(!grid));
}
$("as-grid").onclick = () => (layout(true), remember(VIEW, "grid"));
$("as-list").onclick = () => (layout(false), remember(VIEW, "list"));
// An album opens as a grid unless this browser chose otherwise.
layout((remembered(VIEW) ?? (LINK ? "grid" : "list")) === "grid");

$("hold").checked = remembered(HOLD) === "on";
$("hold").onchange = () => {
  remember(HOLD, $("hold").checked ? "on" : "off");
  pump();
};
$("start").onclick = () => {
  pump.started = true;
  pump();
};

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
  if ($("add").hidden) return (signin ? $("signin-go") : $("token-value")).focus();
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
$("forget").onclick = async () => {
  sessionStorage.removeItem(TOKEN);
  await signin?.signOut();
  list();
};
$("signin-go").onclick = () => {
  sessionStorage.removeItem(TRIED);
  signin.start(folder).catch((error) => showSignIn(`Cannot reach the sign-in provider: ${error.message}`));
};
if (signin) {
  $("forget").textContent = "Sign out";
  try {
    const back = await signin.finish(); // the provider's answer, if it sent the visitor here
    if (back !== null) {
      folder = back;
      history.replaceState({ folder }, "", href(folder));
    }
  } catch (error) {
    signInFailure = `Sign-in failed: ${sentence(error.message)}`;
  }
}
$("forget").hidden = Boolean(LINK) || settings.auth !== "token" || !signedIn();
if (LINK) document.body.classList.add("album");
$("folder-heading").tabIndex = -1;
addEventListener("popstate", (event) => openFolder(event.state?.folder ?? settings.folder));
history.replaceState({ folder }, "");
openFolder(folder);
