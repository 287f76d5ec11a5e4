"""Drives the gateway's web page and its ES module in a browser: headless
Chromium, headless Firefox ESR, or WebKitGTK's MiniBrowser under xvfb-run.

tests/page.rs starts the gateway (and the proxies around it) and runs one
scenario of this script against it; the scenario prints `result: {json}` for
the Rust test to check against what the proxies saw.

Usage: PAGE_BROWSER=chromium|firefox|webkit page.py SCENARIO SCRATCH_DIR PAGE_URL [more, per scenario]
  large     SCRATCH PAGE                  50 MiB through the file input; curl PUT timed beside it
  resume    SCRATCH PAGE                  a reload interrupts a multipart upload; the same file resumes
  apps      SCRATCH PAGE APP_PORT SECRET  another origin uses the module; share, fresh profile, delete
  types     SCRATCH PAGE                  under --allowed-types 'image/*': a PNG goes, a text file is refused
  smoke     SCRATCH PAGE                  one upload through the file input, then the listing shows it
  visitor   SCRATCH PAGE SECRET           --auth jwt, no share links: words for a visitor, uploads after sign-in
  keys      SCRATCH PAGE SECRET           --auth jwt: the Keys view makes, lists and revokes an API key
  signin    SCRATCH PAGE ISSUER           --oidc-client-id: the provider's forms, an upload, a reload, a sign-out
  screenshot SCRATCH PAGE OUT_PNG         the README's picture of the page (Chromium)
  photos    SCRATCH PAGE CATALOG [OUT_PNG] three images in the grid, titled one by one, the viewer, a replace
                                          asked first; with CATALOG=catalog their thumbnails and the upload log

The drivers' paths are always given (CHROMEDRIVER, GECKODRIVER, WEBKITDRIVER),
so Selenium Manager never runs and nothing is downloaded.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromiumService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.firefox.service import Service as FirefoxService
from selenium.webdriver.support.ui import Select, WebDriverWait
from selenium.webdriver.webkitgtk.service import Service as WebKitService

ENGINE = os.environ.get("PAGE_BROWSER", "chromium")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
GECKODRIVER = os.environ.get("GECKODRIVER") or shutil.which("geckodriver") or "geckodriver"
WEBKITDRIVER = os.environ.get("WEBKITDRIVER", "/usr/bin/WebKitWebDriver")
MiB = 1 << 20
# Give-up bounds for waiting on the page, not assertions about speed.
PATIENCE = 300


def browser(engine: str, profile_dir: str, width: int = 1100, height: int = 900, downloads: str = None):
    """A fresh browser of `engine` with its profile in `profile_dir`, saving downloads to `downloads`."""
    driver = {"chromium": chromium, "firefox": firefox, "webkit": webkit}[engine](profile_dir, width, height,
                                                                             downloads)
    driver.set_script_timeout(PATIENCE)
    return driver


def chromium(profile_dir: str, width: int, height: int, downloads: str):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={width},{height}",
                 f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=ChromiumService(CHROMEDRIVER), options=options)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def firefox(profile_dir: str, width: int, height: int, downloads: str):
    options = webdriver.FirefoxOptions()
    options.binary_location = FIREFOX
    os.makedirs(profile_dir, exist_ok=True)
    for flag in ("-headless", f"--width={width}", f"--height={height}", "-profile", profile_dir):
        options.add_argument(flag)
    if downloads:
        # Save every download in `downloads`, without asking.
        options.set_preference("browser.download.folderList", 2)
        options.set_preference("browser.download.dir", downloads)
        options.set_preference("browser.download.useDownloadDir", True)
        options.set_preference("browser.download.always_ask_before_handling_new_types", False)
        options.set_preference("browser.helperApps.neverAsk.saveToDisk", "image/png,application/octet-stream")
    # geckodriver has no browser log; WebDriver BiDi reports the page's uncaught
    # errors and its Content-Security-Policy violations as JavaScript log entries.
    options.enable_bidi = True
    driver = webdriver.Firefox(service=FirefoxService(GECKODRIVER), options=options)
    driver.problems = []
    driver.script.add_javascript_error_handler(lambda entry: driver.problems.append(entry.text))
    return driver


def webkit(profile_dir: str, width: int, height: int, downloads: str):
    # MiniBrowser in automation mode keeps no profile; it needs a display (main() runs under xvfb-run).
    assert downloads is None, "the WebKitGTK smoke test downloads with curl"
    driver = webdriver.WebKitGTK(service=WebKitService(WEBKITDRIVER), options=webdriver.WebKitGTKOptions())
    driver.set_window_size(width, height)
    return driver


RECORD_PROBLEMS = """
window.pageProblems ??= (() => {
  const problems = [];
  addEventListener("error", event => problems.push(`Uncaught ${event.message}`));
  addEventListener("unhandledrejection", event => problems.push(`Uncaught (in promise) ${event.reason}`));
  addEventListener("securitypolicyviolation",
                   event => problems.push(`Content Security Policy: ${event.violatedDirective} ${event.blockedURI}`));
  return problems;
})();
return window.pageProblems;
"""


def watch(driver) -> None:
    """For WebKitGTK, whose driver keeps no log: records the page's problems from now on."""
    if ENGINE == "webkit":
        driver.execute_script(RECORD_PROBLEMS)


def page_problems(driver) -> list:
    """Script errors and Content-Security-Policy violations the page logged."""
    if ENGINE == "chromium":
        return [entry["message"] for entry in driver.get_log("browser")
                if "Content Security Policy" in entry["message"] or "Uncaught" in entry["message"]]
    if ENGINE == "firefox":
        return list(driver.problems)
    return driver.execute_script(RECORD_PROBLEMS)


def logged(driver) -> list:
    """What the page logged, for a message."""
    return driver.get_log("browser") if ENGINE == "chromium" else page_problems(driver)


def wait(driver, what, description: str):
    try:
        # The page redraws its lists as uploads are processed: an element found a moment ago may be gone.
        stale = (StaleElementReferenceException,)
        return WebDriverWait(driver, PATIENCE, poll_frequency=0.05, ignored_exceptions=stale).until(lambda d: what(d))
    except Exception as error:
        raise AssertionError(f"gave up waiting for {description}; the page logged {logged(driver)}") from error


FIND_ROW = """
const [kind, key] = arguments;
return [...document.querySelectorAll(`li.${kind}`)].find(row => row.dataset.key === key) ?? null;
"""


def row(driver, kind: str, key: str):
    return driver.execute_script(FIND_ROW, kind, key)


SETTLED = ("done", "failed", "cancelled", "skipped")


def upload_in(driver, key: str, states):
    """The upload row of `key` once its state is one of `states`."""
    def there(d):
        found = row(d, "upload", key)
        return found if found is not None and found.get_attribute("data-state") in states else None
    return wait(driver, there, f"the upload of {key} to be {' or '.join(states)}")


def finished_upload(driver, key: str):
    """The upload row of `key` once it is done, failed, cancelled or skipped."""
    return upload_in(driver, key, SETTLED)


def listed(driver, key: str):
    return wait(driver, lambda d: row(d, "file", key), f"{key} in the listing")


def choose(driver, *paths: str) -> None:
    """Picks files with the page's file input, as a user would."""
    driver.find_element(By.ID, "files").send_keys("\n".join(paths))


def random_file(path: str, size: int) -> None:
    with open(path, "wb") as f:
        for start in range(0, size, 4 * MiB):
            f.write(os.urandom(min(4 * MiB, size - start)))


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def curl(*args: str) -> str:
    done = subprocess.run(["curl", "--silent", "--show-error", "--fail", *args], capture_output=True, text=True)
    assert done.returncode == 0, f"curl {args}: {done.stderr}"
    return done.stdout


def gateway_json(url: str, headers=None) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def png(path: str, width: int, height: int, colour: tuple) -> None:
    """A small solid-colour PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def result(**fields) -> None:
    print("result: " + json.dumps(fields), flush=True)


def large(scratch: str, page: str) -> None:
    """50 MiB through the page's file input, past a front door refusing bodies over 6 MB."""
    size = 50 * MiB
    original = os.path.join(scratch, "fifty.bin")
    random_file(original, size)

    # The same file as one presigned PUT with curl, for comparison.
    signed = gateway_json(f"{page}/by-curl/fifty.bin?presign=PUT", {"Upload-Length": str(size)})
    curl_seconds = float(curl("--upload-file", original, "--output", "/dev/null", "--write-out", "%{time_total}",
                              signed["url"]))

    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    try:
        driver.get(f"{page}/big/")
        wait(driver, lambda d: d.find_element(By.ID, "status").text == "Nothing here yet.", "the empty listing")
        # The page opened at the folder the URL names, with its trail.
        assert driver.find_element(By.CSS_SELECTOR, '#trail [aria-current="page"]').text == "big"
        choose(driver, original)
        done = finished_upload(driver, "big/fifty.bin")
        words = done.find_element(By.CLASS_NAME, "words").text
        assert done.get_attribute("data-state") == "done", words
        browser_seconds = int(done.get_attribute("data-ms")) / 1000
        shown = listed(driver, "big/fifty.bin")
        assert "50.0 MiB" in shown.text, shown.text

        # Folders: up through the trail, into a folder, and back with the browser.
        driver.find_element(By.LINK_TEXT, "Files").click()
        wait(driver, lambda d: d.find_elements(By.LINK_TEXT, "big/"), "the top level")
        assert driver.current_url == f"{page}/", driver.current_url
        driver.find_element(By.LINK_TEXT, "big/").click()
        listed(driver, "big/fifty.bin")
        assert driver.current_url == f"{page}/big/", driver.current_url
        driver.back()
        wait(driver, lambda d: d.find_elements(By.LINK_TEXT, "by-curl/"), "the top level again")
        assert row(driver, "file", "big/fifty.bin") is None
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()

    back = os.path.join(scratch, "back.bin")
    curl("--location", "--output", back, f"{page}/big/fifty.bin")
    assert sha256(back) == sha256(original), "the download differs from the upload"
    print(f"50 MiB upload: the page {browser_seconds:.2f} s (7 parts, 4 at a time), "
          f"curl's single presigned PUT {curl_seconds:.2f} s")
    result(browser_seconds=browser_seconds, curl_seconds=curl_seconds)


def resume(scratch: str, page: str) -> None:
    """A reload stops a multipart upload; picking the same file again sends only what storage lacks."""
    size = 50 * MiB
    original = os.path.join(scratch, "resumed.bin")
    random_file(original, size)
    key = "resume/resumed.bin"
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    try:
        driver.get(f"{page}/resume/")
        choose(driver, original)
        memory = f"presign-gateway upload  {key}"
        upload_id = wait(driver, lambda d: json.loads(d.execute_script("return localStorage.getItem(arguments[0])",
                                                                        memory) or "null"),
                         "the upload to be remembered")["uploadId"]
        parts = f"{page}/{key}?uploadId={upload_id}"
        wait(driver, lambda d: gateway_json(parts)["parts"], "a part in storage")
        driver.refresh()
        stored = [part["part_number"] for part in gateway_json(parts)["parts"]]
        assert 0 < len(stored) < 7, f"the reload came too late to interrupt anything: {stored}"

        choose(driver, original)
        done = finished_upload(driver, key)
        assert done.get_attribute("data-state") == "done", done.text
        assert not page_problems(driver), page_problems(driver)
        assert driver.execute_script("return localStorage.getItem(arguments[0])", memory) is None

        # Cancel stops an upload in flight and says how to go on.
        other = os.path.join(scratch, "cancelled.bin")
        random_file(other, 20 * MiB)
        choose(driver, other)
        wait(driver, lambda d: row(d, "upload", "resume/cancelled.bin"), "the second upload").find_element(
            By.CLASS_NAME, "cancel").click()
        stopped = finished_upload(driver, "resume/cancelled.bin")
        assert stopped.get_attribute("data-state") == "cancelled", stopped.text
        assert "Choose the same file again" in stopped.text, stopped.text
    finally:
        driver.quit()
    back = os.path.join(scratch, "back.bin")
    curl("--location", "--output", back, f"{page}/{key}")
    assert sha256(back) == sha256(original), "the resumed upload differs from the file"
    print(f"resumed upload {upload_id}: parts {stored} were in storage before the reload")
    result(upload_id=upload_id, stored_before_reload=stored, parts=7)


class App(http.server.BaseHTTPRequestHandler):
    """Another origin's app: a page that imports the module from the gateway."""
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<!doctype html><meta charset=utf-8><title>an app on another origin</title>")

    def log_message(self, *args):
        pass


APP_UPLOADS = """
const [gatewayUrl, token, done] = arguments;
(async () => {
  const { gateway } = await import(gatewayUrl + "/?module");
  let asked = 0;
  const g = gateway(gatewayUrl, { getToken: async () => (asked++, token) });
  const note = new File(["hello from another origin\\n"], "\\u00e9t\\u00e9.txt", { type: "text/plain" });
  const title = "\\u00c9t\\u00e9 2024 \\u2014 caf\\u00e9, 100% sun";
  const small = await g.upload(note, "apps/\\u00e9t\\u00e9.txt", { metadata: { title }, overwrite: false });
  const big = new Blob([new Uint8Array(17 * 1024 * 1024).fill(7)], { type: "application/octet-stream" });
  const seen = [];
  const large = await g.upload(big, "apps/big.bin", { metadata: { title: "plain ascii" },
                                                      onProgress: p => seen.push(p.sent) });
  const again = [];
  for (const [body, key] of [[note, "apps/\\u00e9t\\u00e9.txt"], [big, "apps/big.bin"]]) {
    try { await g.upload(body, key, { overwrite: false }); again.push("replaced"); }
    catch (error) { again.push(`${error.status} ${error.message}`); }
  }
  const { objects, folders } = await g.list("apps/", { metadata: true });
  const top = await g.list("");
  done({ small, large, objects, folders, top: top.folders, asked, again, title,
         progressed: seen.length > 1 && seen[seen.length - 1] === big.size });
})().catch(error => done({ error: String(error), stack: error.stack }));
"""


FOCUS_SHOWN = """
const focused = document.activeElement;
return focused.matches(":focus-visible") && getComputedStyle(focused).outlineStyle === "solid";
"""


def jwt(secret: str, subject: str) -> str:
    def part(data) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    unsigned = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': subject, 'exp': int(time.time()) + 3600})}"
    signature = hmac.new(secret.encode(), unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def apps(scratch: str, page: str, app_port: str, secret: str) -> None:
    """An app on another origin uploads with metadata and lists; the page shares and deletes."""
    app = http.server.ThreadingHTTPServer(("127.0.0.1", int(app_port)), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    token = jwt(secret, "ana")
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    try:
        driver.get(f"http://127.0.0.1:{app_port}/")
        got = driver.execute_async_script(APP_UPLOADS, page, token)
        assert "error" not in got, got
        by_key = {o["key"]: o for o in got["objects"]}
        assert set(by_key) == {"apps/\u00e9t\u00e9.txt", "apps/big.bin"}, got
        assert by_key["apps/\u00e9t\u00e9.txt"]["metadata"] == {"title": got["title"]}, got
        assert by_key["apps/big.bin"]["metadata"] == {"title": "plain ascii"}, got
        assert by_key["apps/big.bin"]["size"] == 17 * MiB and got["large"]["size"] == 17 * MiB, got
        assert got["again"] == ["412 a file with this name exists already"] * 2, got
        assert got["progressed"] and got["asked"] >= 6 and got["top"] == ["apps/"], got
        assert not page_problems(driver), page_problems(driver)

        # The page asks for the token, keeps it in the tab, and shows the title.
        driver.get(f"{page}/apps/")
        field = wait(driver, lambda d: d.find_element(By.ID, "token-value").is_displayed()
                     and d.find_element(By.ID, "token-value"), "the token prompt")
        assert driver.switch_to.active_element == field, "the token field has the focus"
        field.send_keys(token, Keys.ENTER)   # geckodriver types "\n" as text, not as Enter
        note = listed(driver, "apps/\u00e9t\u00e9.txt")
        assert note.find_element(By.CLASS_NAME, "title").text == got["title"], note.text
        stored = driver.execute_script("return [sessionStorage.length, localStorage.length]")
        assert stored == [1, 0], stored

        # Share with a lifetime, by keyboard; the link works in a fresh profile, with no token.
        note.find_element(By.CLASS_NAME, "share").send_keys(Keys.ENTER)
        lifetime = note.find_element(By.CLASS_NAME, "ttl")
        assert driver.switch_to.active_element == lifetime, "the lifetime picker has the focus"
        assert driver.execute_script(FOCUS_SHOWN), "the focus is visible"
        Select(lifetime).select_by_visible_text("1 day")
        note.find_element(By.CLASS_NAME, "mint").send_keys(Keys.ENTER)
        link = wait(driver, lambda d: note.find_element(By.CLASS_NAME, "link").get_attribute("value"), "a link")
        assert "token=" in link, link
        stranger = browser(ENGINE, os.path.join(scratch, "fresh-profile"))
        try:
            stranger.get(link)
            text = stranger.find_element(By.TAG_NAME, "body").text
            assert text == "hello from another origin", text
        finally:
            stranger.quit()

        # Delete asks once more, then the row goes.
        note.find_element(By.CLASS_NAME, "delete").click()
        assert driver.switch_to.active_element == note.find_element(By.CLASS_NAME, "no"), "Keep has the focus"
        note.find_element(By.CLASS_NAME, "yes").click()
        wait(driver, lambda d: row(d, "file", "apps/\u00e9t\u00e9.txt") is None, "the row to go")
        assert row(driver, "file", "apps/big.bin") is not None
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
        app.shutdown()
    listing = gateway_json(f"{page}/apps/", {"Authorization": f"Bearer {token}"})
    assert [o["key"] for o in listing["objects"]] == ["apps/big.bin"], listing
    print("apps: the module uploaded and listed from another origin; the page shared and deleted")
    result(link=True)


DROP = """
const [name, type] = arguments;
const files = new DataTransfer();
files.items.add(new File([new Uint8Array([137, 80, 78, 71])], name, { type }));
const drop = new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true });
document.querySelector("main").dispatchEvent(drop);
"""


def types(scratch: str, page: str) -> None:
    """Under --allowed-types 'image/*' a PNG goes up and a text file is refused, in words."""
    picture = os.path.join(scratch, "dot.png")
    png(picture, 4, 4, (200, 40, 40))
    text = os.path.join(scratch, "notes.txt")
    with open(text, "w") as f:
        f.write("not a picture\n")
    downloads = os.path.join(scratch, "downloads")
    os.makedirs(downloads)
    driver = browser(ENGINE, os.path.join(scratch, "profile"), downloads=downloads)
    try:
        driver.get(f"{page}/")
        driver.find_element(By.ID, "title").send_keys("A red dot")
        choose(driver, picture, text)
        good = finished_upload(driver, "dot.png")
        assert good.get_attribute("data-state") == "done", good.text
        driver.execute_script(DROP, "dropped.png", "image/png")
        dropped = finished_upload(driver, "dropped.png")
        assert dropped.get_attribute("data-state") == "done", dropped.text
        bad = finished_upload(driver, "notes.txt")
        words = bad.find_element(By.CLASS_NAME, "words").text
        expected = "Failed: `text/plain` is not accepted here: uploads must be one of: image/*"
        assert bad.get_attribute("data-state") == "failed" and words == expected, words
        shown = listed(driver, "dot.png")
        assert shown.find_element(By.CLASS_NAME, "title").text == "A red dot", shown.text
        assert row(driver, "file", "notes.txt") is None

        # Download saves the file, whatever the browser would show in place.
        shown.find_element(By.CLASS_NAME, "download").click()
        saved = os.path.join(downloads, "dot.png")
        wait(driver, lambda d: os.path.exists(saved) and sha256(saved) == sha256(picture), "the download")
        assert driver.current_url == f"{page}/", driver.current_url
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print(f"types: the PNG went up; the text file: {words}")
    result(refused=words)


SEED = """
const [gatewayUrl, files, done] = arguments;
(async () => {
  const { gateway } = await import(gatewayUrl + "/?module");
  const g = gateway(gatewayUrl);
  for (const [key, title, size] of files) {
    await g.upload(new Blob([new Uint8Array(size).fill(1)], { type: "image/jpeg" }), key, { metadata: { title } });
  }
  done("ok");
})().catch(error => done(String(error)));
"""


def screenshot(scratch: str, page: str, out: str) -> None:
    """The page at a folder of photos with titles, an upload done, a share link shown."""
    files = [
        ["photos/2024/harbour-at-dawn.jpg", "Harbour at dawn", 2_400_000],
        ["photos/2024/market-day.jpg", "Market day in Arles", 3_100_000],
        ["photos/2024/\u00e9t\u00e9-lake.jpg", "\u00c9t\u00e9 2024 \u2014 the lake", 1_800_000],
        ["photos/2024/scan-0042.jpg", "", 950_000],
        ["photos/2024/albums/cover.jpg", "", 1000],
        ["photos/2024/raw/dsc-0001.jpg", "", 1000],
    ]
    driver = browser("chromium", os.path.join(scratch, "profile"), 1000, 1100)
    try:
        driver.get(f"{page}/")
        assert driver.execute_async_script(SEED, page, files) == "ok"
        upload = os.path.join(scratch, "IMG_2291.jpg")
        random_file(upload, 24 * MiB)
        driver.get(f"{page}/photos/2024/")
        driver.find_element(By.ID, "title").send_keys("Night train")
        choose(driver, upload)
        finished_upload(driver, "photos/2024/IMG_2291.jpg")
        driver.find_element(By.ID, "title").clear()
        market = listed(driver, "photos/2024/market-day.jpg")
        market.find_element(By.CLASS_NAME, "share").click()
        market.find_element(By.CLASS_NAME, "mint").click()
        wait(driver, lambda d: market.find_element(By.CLASS_NAME, "link").get_attribute("value"), "a link")
        driver.execute_script("document.activeElement.blur(); scrollTo(0, 0)")
        driver.save_screenshot(out)
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print(f"screenshot: {out}, {os.path.getsize(out)} bytes")


SHOWN_IMAGE = """
const img = arguments[0];
return img.complete && img.naturalWidth > 0 && getComputedStyle(img).display !== "none" ? img.currentSrc : null;
"""


def photos(scratch: str, page: str, catalog: str, out: str = None) -> None:
    """Three images through the page in the grid, each titled before it goes; thumbnails (with a
    catalog) or file-type placeholders (without); the viewer; a name that exists is asked about."""
    with_catalog = catalog == "catalog"
    colours = {"red": (200, 40, 40), "green": (40, 160, 70), "blue": (40, 80, 200)}
    paths = {}
    for name, colour in colours.items():
        paths[name] = os.path.join(scratch, f"{name}.png")
        png(paths[name], 640, 480, colour)
    keys = [f"photos/{name}.png" for name in colours]
    driver = browser(ENGINE, os.path.join(scratch, "profile"), 1000, 1000)
    try:
        driver.get(f"{page}/photos/")
        wait(driver, lambda d: d.find_element(By.ID, "status").text == "Nothing here yet.", "the empty listing")
        driver.find_element(By.ID, "as-grid").click()
        assert driver.find_element(By.ID, "as-grid").get_attribute("aria-pressed") == "true"

        # Held: each file waits with its own title, the batch title by default.
        driver.find_element(By.ID, "title").send_keys("Holiday")
        driver.find_element(By.ID, "hold").click()
        choose(driver, *paths.values())
        for key in keys:
            upload_in(driver, key, ("waiting",))
        blue = row(driver, "upload", "photos/blue.png").find_element(By.CLASS_NAME, "file-title")
        assert blue.get_attribute("value") == "Holiday", blue.get_attribute("value")
        blue.clear()
        blue.send_keys("The blue one")
        driver.find_element(By.ID, "start").click()
        for key in keys:
            done = finished_upload(driver, key)
            assert done.get_attribute("data-state") == "done", done.text
        titles = {key: listed(driver, key).find_element(By.CLASS_NAME, "title").text for key in keys}
        assert titles == {"photos/red.png": "Holiday", "photos/green.png": "Holiday",
                          "photos/blue.png": "The blue one"}, titles

        def thumbs(d):
            shown = {key: d.execute_script(SHOWN_IMAGE, listed(d, key).find_element(By.CSS_SELECTOR, ".thumb img"))
                     for key in keys}
            return shown if all(shown.values()) else None
        if with_catalog:
            shown = wait(driver, thumbs, "three thumbnails")
            assert all("_renditions/" in url for url in shown.values()), shown
        else:
            for key in keys:
                placeholder = listed(driver, key).find_element(By.CSS_SELECTOR, ".thumb .kind")
                assert placeholder.is_displayed() and placeholder.text == "PNG", placeholder.text
            assert not driver.find_element(By.ID, "show-log").is_displayed(), "Uploads shows without a log"
        if out:
            # Tall enough for the finished uploads and the whole grid, titles included.
            driver.set_window_size(1000, 1100)
            driver.find_element(By.ID, "title").clear()
            driver.execute_script("document.activeElement.blur(); scrollTo(0, 0)")
            driver.save_screenshot(out)
            driver.set_window_size(1000, 1000)

        # The layout is remembered; the viewer shows the picture, its title and its actions.
        driver.refresh()
        wait(driver, lambda d: "grid" in d.find_element(By.ID, "listing").get_attribute("class"), "the grid again")
        listed(driver, "photos/blue.png").find_element(By.CLASS_NAME, "thumb").click()
        viewer = driver.find_element(By.ID, "viewer")
        wait(driver, lambda d: viewer.get_attribute("open") is not None, "the viewer")
        picture = viewer.find_element(By.TAG_NAME, "img")
        assert picture.get_attribute("alt") == "The blue one", picture.get_attribute("alt")
        source = wait(driver, lambda d: d.execute_script(SHOWN_IMAGE, picture), "the picture in the viewer")
        if with_catalog:
            assert "_renditions/" in source or "blue.png" in source, source
        links = driver.execute_script('return document.querySelector("meta[name=presign-gateway]").dataset.links')
        for action in ("download", "delete", "share"):
            shown = viewer.find_element(By.CLASS_NAME, action).is_displayed()
            assert shown == (action != "share" or links == "on"), (action, links)
        viewer.find_element(By.CLASS_NAME, "close").click()
        wait(driver, lambda d: viewer.get_attribute("open") is None, "the viewer to close")

        # A name that exists is asked about: skipped once, replaced the second time.
        driver.find_element(By.ID, "hold").click()
        for answer, state in (("skip", "skipped"), ("replace", "done")):
            driver.execute_script("document.getElementById('uploads').replaceChildren()")
            choose(driver, paths["red"])
            asking = upload_in(driver, "photos/red.png", ("asking",))
            asking.find_element(By.CLASS_NAME, answer).click()
            assert finished_upload(driver, "photos/red.png").get_attribute("data-state") == state

        logged_keys = []
        if with_catalog:
            driver.find_element(By.ID, "show-log").click()
            def entries(d):
                found = d.find_elements(By.CSS_SELECTOR, "#log li.logged")
                return found if len({e.get_attribute("data-key") for e in found}) >= 3 else None
            rows = wait(driver, entries, "three entries in the upload log")
            logged_keys = sorted({e.get_attribute("data-key") for e in rows})
            assert logged_keys == sorted(keys), logged_keys
            assert all("by anonymous" in e.text for e in rows), [e.text for e in rows]
            driver.find_element(By.ID, "show-log").click()

        # Delete from the viewer.
        listed(driver, "photos/green.png").find_element(By.CLASS_NAME, "thumb").click()
        wait(driver, lambda d: viewer.get_attribute("open") is not None, "the viewer")
        viewer.find_element(By.CLASS_NAME, "delete").click()
        viewer.find_element(By.CLASS_NAME, "yes").click()
        wait(driver, lambda d: viewer.get_attribute("open") is None and row(d, "file", "photos/green.png") is None,
             "the viewer to close and the file to go")
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print(f"photos ({catalog}): three images in the grid, the viewer, a replace asked first; log {logged_keys}")
    result(catalog=with_catalog, logged=logged_keys)


def visitor(scratch: str, page: str, secret: str) -> None:
    """A visitor of a site with sign-in and without share links: one "Files", no upload area before
    signing in, refusals in words for a person, and no Share button."""
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    shown = lambda d, element: d.find_element(By.ID, element).is_displayed()
    try:
        driver.get(f"{page}/")
        wait(driver, lambda d: shown(d, "token-value"), "the token prompt")
        header = driver.find_element(By.TAG_NAME, "header").text
        assert header.count("Files") == 1, header
        assert not shown(driver, "add"), "the upload area shows before sign-in"
        driver.execute_script(DROP, "early.png", "image/png")   # a drop before sign-in sends nothing
        assert driver.switch_to.active_element == driver.find_element(By.ID, "token-value"), "the token field"
        assert not driver.find_elements(By.CSS_SELECTOR, "li.upload"), "a drop before sign-in was sent"
        for pasted, told in [
            ("hello", "That does not look like a sign-in token (a JWT)."),
            (jwt("not the site's secret, but as long as one", "ana"), "That sign-in token is not valid."),
        ]:
            driver.find_element(By.ID, "token-value").send_keys(pasted, Keys.ENTER)
            wait(driver, lambda d: shown(d, "token-value") and d.find_element(By.ID, "token-why").text == told,
                 f"{told!r}, not {driver.find_element(By.ID, 'token-why').text!r}")
            assert not shown(driver, "add"), "the upload area shows with a refused token"
            status = driver.find_element(By.ID, "status").text
            assert status == "Sign in to see your files.", status
        driver.find_element(By.ID, "token-value").send_keys(jwt(secret, "ana"), Keys.ENTER)
        wait(driver, lambda d: shown(d, "add"), "the upload area after sign-in")
        original = os.path.join(scratch, "note.txt")
        with open(original, "w") as f:
            f.write("a note\n")
        choose(driver, original)
        done = finished_upload(driver, "note.txt")
        assert done.get_attribute("data-state") == "done", done.find_element(By.CLASS_NAME, "words").text
        note = listed(driver, "note.txt")
        assert not note.find_element(By.CLASS_NAME, "share").is_displayed(), "Share shows with links off"
        assert note.find_element(By.CLASS_NAME, "download").is_displayed()
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print("visitor: one Files, uploads after sign-in, plain refusals, no Share")
    result(visitor=True)


def keys(scratch: str, page: str, secret: str) -> None:
    """A signed-in tenant makes a read-only API key for a folder in the Keys view, sees it once and
    listed, the key reads that folder and writes nothing, and Revoke takes it away."""
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    shown = lambda d, element: d.find_element(By.ID, element).is_displayed()
    try:
        driver.get(f"{page}/")
        wait(driver, lambda d: shown(d, "token-value"), "the token prompt")
        driver.find_element(By.ID, "token-value").send_keys(jwt(secret, "kim"), Keys.ENTER)
        wait(driver, lambda d: shown(d, "show-keys"), "the Keys button after sign-in")
        driver.find_element(By.ID, "show-keys").click()
        wait(driver, lambda d: d.find_element(By.ID, "keys-status").text == "No keys yet.", "an empty key list")
        assert not shown(driver, "files-view"), "the files show beside the keys"
        driver.find_element(By.ID, "key-name").send_keys("backup job")
        driver.find_element(By.ID, "key-prefix").send_keys("in")
        driver.find_element(By.ID, "key-read-only").click()
        driver.find_element(By.ID, "key-name").send_keys(Keys.ENTER)
        key = wait(driver, lambda d: d.find_element(By.ID, "key-secret").get_attribute("value"), "the new key")
        assert key.startswith("pgk_"), key
        made = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "li.api-key"), "the key in the list")
        assert "backup job" in made.text and "read only, in in/" in made.text, made.text
        assert key not in driver.find_element(By.ID, "keys").text, "the list shows the key itself"
        listing = gateway_json(f"{page}/in/", {"Authorization": f"Bearer {key}"})
        assert listing["objects"] == [], listing
        written = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data", "x",
                                  "-H", f"Authorization: Bearer {key}", f"{page}/in/x.txt"],
                                 capture_output=True, text=True).stdout
        assert written == "403", f"a read-only key wrote: {written}"
        made.find_element(By.CLASS_NAME, "revoke").click()
        wait(driver, lambda d: d.find_element(By.ID, "keys-status").text == "No keys yet.", "the key revoked")
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print("keys: made in the page, shown once, read-only in its folder, revoked")
    result(key=key)


def signin(scratch: str, page: str, issuer: str) -> None:
    """A visitor of a gateway with an OpenID client: sent to the provider (tests/oidc/provider.mjs, its
    own login and consent forms) and back to the folder they opened, uploads, stays signed in across a
    reload with the token in this tab's sessionStorage only, and signs out through the provider."""
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    shown = lambda d, element: bool(d.find_elements(By.ID, element)) and d.find_element(By.ID, element).is_displayed()
    at_provider = lambda d: d.current_url.startswith(issuer)
    try:
        driver.get(f"{page}/docs/")
        wait(driver, lambda d: at_provider(d) and d.find_elements(By.NAME, "login"), "the provider's login form")
        assert not driver.find_elements(By.ID, "token-value"), "the page asked for a token"
        driver.find_element(By.NAME, "login").send_keys("ana")
        driver.find_element(By.NAME, "password").send_keys("any password", Keys.ENTER)
        consent = "form input[name=prompt][value=consent]"
        wait(driver, lambda d: at_provider(d) and d.find_elements(By.CSS_SELECTOR, consent), "the consent form")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(driver, lambda d: d.current_url.startswith(page) and shown(d, "add"), "the page, signed in")
        assert driver.current_url == f"{page}/docs/", f"back at {driver.current_url}, not the folder opened"
        assert not shown(driver, "token"), "the paste-a-token box shows with an OpenID client"
        assert driver.find_element(By.ID, "forget").text == "Sign out"
        original = os.path.join(scratch, "note.txt")
        with open(original, "w") as f:
            f.write("a note from ana\n")
        choose(driver, original)
        done = finished_upload(driver, "docs/note.txt")
        assert done.get_attribute("data-state") == "done", done.find_element(By.CLASS_NAME, "words").text
        listed(driver, "docs/note.txt")
        kept = driver.execute_script(
            "return [Object.values(sessionStorage).join(' '), Object.values(localStorage).join(' '), document.cookie]")
        assert "eyJ" in kept[0], "no token in sessionStorage"
        assert "eyJ" not in kept[1] and "eyJ" not in kept[2], f"a token outside sessionStorage: {kept[1:]}"
        # The provider issues ID tokens for 75 seconds here: the page renews this one with its
        # refresh token a minute before it expires, without leaving the page.
        token = "return JSON.parse(sessionStorage.getItem('presign-gateway sign-in')).token"
        first = driver.execute_script(token)
        wait(driver, lambda d: d.execute_script(token) != first, "the token renewed with the refresh token")
        assert driver.current_url == f"{page}/docs/", f"the renewal left the page: {driver.current_url}"

        driver.refresh()
        listed(driver, "docs/note.txt")
        assert driver.current_url == f"{page}/docs/", driver.current_url
        assert shown(driver, "add") and not shown(driver, "signin"), "signed out by a reload"

        driver.find_element(By.ID, "forget").click()
        wait(driver, lambda d: at_provider(d) and d.find_elements(By.NAME, "logout"), "the provider's sign-out form")
        driver.find_element(By.NAME, "logout").click()
        wait(driver, lambda d: d.current_url.startswith(page) and shown(d, "signin"), "the page, signed out")
        told = driver.find_element(By.ID, "signin-why").text
        assert told == "You have signed out.", told
        assert not shown(driver, "add"), "the upload area shows after sign-out"
        left = driver.execute_script("return Object.values(sessionStorage).join(' ')")
        assert "eyJ" not in left, "a token outlived the sign-out"
        assert not page_problems(driver), page_problems(driver)
    finally:
        driver.quit()
    print("signin: to the provider and back to docs/, one upload, a reload, a sign-out")
    result(signin=True)


def smoke(scratch: str, page: str) -> None:
    """One upload through the file input, and the listing shows it: for engines tried less thoroughly."""
    original = os.path.join(scratch, "smoke.bin")
    random_file(original, 3 * MiB)
    driver = browser(ENGINE, os.path.join(scratch, "profile"))
    try:
        driver.get(f"{page}/smoke/")
        wait(driver, lambda d: d.find_element(By.ID, "status").text == "Nothing here yet.", "the empty listing")
        watch(driver)
        choose(driver, original)
        done = finished_upload(driver, "smoke/smoke.bin")
        assert done.get_attribute("data-state") == "done", done.find_element(By.CLASS_NAME, "words").text
        shown = listed(driver, "smoke/smoke.bin")
        assert "3.0 MiB" in shown.text, shown.text
        assert not page_problems(driver), page_problems(driver)
        version = driver.capabilities.get("browserVersion")
    finally:
        driver.quit()
    back = os.path.join(scratch, "back.bin")
    curl("--location", "--output", back, f"{page}/smoke/smoke.bin")
    assert sha256(back) == sha256(original), "the download differs from the upload"
    print(f"smoke in {ENGINE} {version}: one upload, listed")
    result(engine=ENGINE, version=version)


def album(scratch: str, page: str) -> None:
    """The owner shares a folder from its heading (taking uploads) and sees the link in the Links
    view; a stranger opens it as an album, sees the folder and nothing above it, and adds a file;
    the owner revokes the link, and the album says it is gone."""
    for name, body in [("one.txt", "one\n"), ("two.txt", "two\n")]:
        path = os.path.join(scratch, name)
        with open(path, "w") as f:
            f.write(body)
        curl("--location", "--upload-file", path, f"{page}/album/{name}")
    curl("--location", "--upload-file", os.path.join(scratch, "one.txt"), f"{page}/elsewhere.txt")
    owner = browser(ENGINE, os.path.join(scratch, "profile"))
    stranger = None
    shown = lambda d, element: d.find_element(By.ID, element).is_displayed()
    try:
        owner.get(f"{page}/album/")
        listed(owner, "album/one.txt")
        owner.find_element(By.ID, "share-folder").click()
        box = owner.find_element(By.ID, "folder-share")
        Select(box.find_element(By.CLASS_NAME, "ttl")).select_by_visible_text("1 day")
        box.find_element(By.CLASS_NAME, "uploads").click()
        box.find_element(By.CLASS_NAME, "mint").click()
        link = wait(owner, lambda d: box.find_element(By.CLASS_NAME, "link").get_attribute("value"), "a folder link")
        assert "/album/?token=" in link, link

        owner.find_element(By.ID, "show-links").click()
        mine = wait(owner, lambda d: d.find_elements(By.CSS_SELECTOR, "#links li.shared"), "the Links view")
        assert len(mine) == 1 and "album/" in mine[0].text and "used 0 times" in mine[0].text, mine[0].text

        stranger = browser(ENGINE, os.path.join(scratch, "fresh-profile"))
        stranger.get(link)
        listed(stranger, "album/one.txt")
        listed(stranger, "album/two.txt")
        assert row(stranger, "file", "elsewhere.txt") is None
        assert "album" in stranger.find_element(By.TAG_NAME, "body").get_attribute("class")
        trail = stranger.find_element(By.ID, "trail").text
        assert trail == "album", trail
        one = row(stranger, "file", "album/one.txt")
        assert not one.find_element(By.CLASS_NAME, "delete").is_displayed(), "Delete shows in an album"
        assert not one.find_element(By.CLASS_NAME, "share").is_displayed(), "Share shows in an album"
        assert not shown(stranger, "show-links") and not shown(stranger, "show-log")
        added = os.path.join(scratch, "added.txt")
        with open(added, "w") as f:
            f.write("added by a stranger\n")
        choose(stranger, added)
        done = finished_upload(stranger, "album/added.txt")
        assert done.get_attribute("data-state") == "done", done.find_element(By.CLASS_NAME, "words").text
        listed(stranger, "album/added.txt")
        assert not page_problems(stranger), page_problems(stranger)

        # The owner revokes it; the album, reloaded, says so.
        owner.find_element(By.ID, "show-links").click()   # back to files
        owner.find_element(By.ID, "show-links").click()   # and the Links view again, up to date
        mine = wait(owner, lambda d: d.find_elements(By.CSS_SELECTOR, "#links li.shared"), "the Links view again")
        assert "used" in mine[0].text, mine[0].text
        mine[0].find_element(By.CLASS_NAME, "revoke").click()
        wait(owner, lambda d: not d.find_elements(By.CSS_SELECTOR, "#links li.shared"), "the link to go")
        said = owner.find_element(By.ID, "links-status").text
        assert said == "Revoked the link to album/.", said
        stranger.get(link)
        told = wait(stranger, lambda d: "revoked" in d.find_element(By.ID, "status").text
                    and d.find_element(By.ID, "status").text, "the album to say the link was revoked")
        assert not page_problems(owner), page_problems(owner)
    finally:
        owner.quit()
        if stranger:
            stranger.quit()
    assert curl("--location", f"{page}/album/added.txt") == "added by a stranger\n"
    print(f"album: shared from the page, opened as an album, added to, revoked ({told})")
    result(album=True, told=told)


if __name__ == "__main__":
    if ENGINE == "webkit" and not os.environ.get("DISPLAY"):
        # WebKitGTK's MiniBrowser has no headless mode: run again on a virtual display.
        os.execvp("xvfb-run", ["xvfb-run", "--auto-servernum", sys.executable, *sys.argv])
    scenario, *arguments = sys.argv[1:]
    scenarios = {"large": large, "resume": resume, "apps": apps, "types": types, "smoke": smoke, "visitor": visitor, "signin": signin,
                 "screenshot": screenshot, "photos": photos, "keys": keys, "album": album}
    scenarios[scenario](*arguments)
