"""Drives headless Chromium the way a web app uses the gateway.

A page on its own origin uploads with `fetch` (the 307 is followed across
origins, so the store sees `Origin: null`, which `--allow-null-origin` lets in),
reads the files back, and then the browser downloads one with `?download=`, as
a user clicking a link would.

Usage: browser_roundtrip.py GATEWAY_BINARY SCRATCH_DIR [FLAGS OF serve...]
"""

import http.server
import os
import subprocess
import sys
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")

FETCH_ROUND_TRIP = """
const [base, done] = arguments;
(async () => {
  const text = 'hello from the browser, caf\\u00e9\\n';
  const big = new Uint8Array(2 * 1024 * 1024 + 3);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
  const put = await fetch(base + '/browser/hello%20there.txt', {
    method: 'PUT', body: new Blob([text], {type: 'text/plain'}),
  });
  const putBig = await fetch(base + '/browser/big.bin', {method: 'PUT', body: big});
  const get = await fetch(base + '/browser/hello%20there.txt');
  const back = await get.text();
  const bigBack = new Uint8Array(await (await fetch(base + '/browser/big.bin')).arrayBuffer());
  const bigSame = bigBack.length === big.length && bigBack.every((b, i) => b === big[i]);
  done({put: put.status, putBig: putBig.status, get: get.status, redirected: get.redirected,
        type: get.headers.get('content-type'), same: back === text, bigSame});
})().catch(error => done({error: String(error)}));
"""


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>an app on another origin</title>")

    def log_message(self, *args):
        pass


def start_gateway(binary: str, data_dir: str, origin: str, flags: list):
    gateway = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--allowed-origins", origin,
         "--allow-null-origin", *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    banner = gateway.stdout.readline().strip()
    prefix = "presign-gateway listening on "
    assert banner.startswith(prefix), banner
    return gateway, banner[len(prefix):]


def browser(download_dir: str, profile_dir: str):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
    driver.set_script_timeout(60)
    return driver


def read_text(path: str):
    """The file's text, or None while the browser has not saved it whole."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def main(binary: str, scratch: str, flags: list) -> None:
    page = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{page.server_port}"
    gateway, base = start_gateway(binary, os.path.join(scratch, "data"), origin, flags)
    downloads = os.path.join(scratch, "downloads")
    os.makedirs(downloads)
    driver = browser(downloads, os.path.join(scratch, "profile"))
    try:
        driver.get(origin + "/")
        result = driver.execute_async_script(FETCH_ROUND_TRIP, base)
        expected = {"put": 200, "putBig": 200, "get": 200, "redirected": True, "type": "text/plain; charset=utf-8",
                    "same": True, "bigSame": True}
        assert result == expected, result

        driver.get(base + "/browser/hello%20there.txt?download=saved%20copy.txt")
        saved = os.path.join(downloads, "saved copy.txt")
        expected_text = "hello from the browser, caf\u00e9\n"
        deadline = time.time() + 30
        while read_text(saved) != expected_text and time.time() < deadline:
            time.sleep(0.1)
        assert read_text(saved) == expected_text, os.listdir(downloads)
        print("browser: fetch uploads and downloads across origins and a ?download= save all worked")
    finally:
        driver.quit()
        gateway.terminate()
        gateway.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
