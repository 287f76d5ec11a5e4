"""Drives Uppy 6 (@uppy/core and @uppy/aws-s3, the README's setup) in headless Chromium.

tests/uppy.rs bundles tests/web/uppy/ with esbuild into APP_DIR, starts the
gateway behind a front door, and runs one scenario of this script against it.
This script serves APP_DIR on APP_PORT, another origin than the gateway's,
picks files with the app's file input, waits for what Uppy reports, reads
what the gateway holds, and prints `result: {json}` for the Rust test to
check against what the front door saw.

Usage: uppy.py SCENARIO SCRATCH_DIR APP_DIR APP_PORT GATEWAY_URL JWT_SECRET
  small      a 300 KiB PNG in one presigned PUT
  multipart  a 20 MiB JPEG in three parts
  cancel     a 40 MiB JPEG cancelled once its first part is stored
  refused    under --allowed-types 'image/*' --max-object-size 1MiB: a text file, a 2 MiB PNG,
             a 20 MiB text file (multipart)
"""

import functools
import hashlib
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# The page tests' browser set-up and tokens (this script's folder is on the path).
from page import MiB, PATIENCE, browser, jwt

FOLDER = "uppy/"


def random_file(path: str, size: int) -> str:
    with open(path, "wb") as f:
        for start in range(0, size, 4 * MiB):
            f.write(os.urandom(min(4 * MiB, size - start)))
    return path


def sha256_of(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Run:
    """The app's origin, a browser on it, and the gateway the app uploads to."""

    def __init__(self, scratch: str, app_dir: str, app_port: str, gateway: str, secret: str):
        self.scratch, self.gateway = scratch, gateway
        self.auth = {"Authorization": f"Bearer {jwt(secret, 'ana')}"}
        handler = functools.partial(Quiet, directory=app_dir)
        self.app = http.server.ThreadingHTTPServer(("127.0.0.1", int(app_port)), handler)
        threading.Thread(target=self.app.serve_forever, daemon=True).start()
        self.app_url = f"http://127.0.0.1:{app_port}/index.html"
        self.driver = browser("chromium", os.path.join(scratch, "profile"))

    def close(self):
        self.driver.quit()
        self.app.shutdown()

    def open(self, **settings: str) -> None:
        """Opens the app, telling it the gateway, the token and `settings` in the page's hash."""
        token = self.auth["Authorization"].removeprefix("Bearer ")
        hash_part = urllib.parse.urlencode({"gateway": self.gateway, "token": token, **settings})
        self.driver.get(f"{self.app_url}#{hash_part}")

    def choose(self, *paths: str) -> None:
        """Picks files with the app's file input, as a user would."""
        self.driver.find_element(By.ID, "files").send_keys("\n".join(paths))

    def outcome(self, name: str) -> dict:
        """What Uppy reported for the file `name`: success, error or cancel."""
        try:
            return WebDriverWait(self.driver, PATIENCE, poll_frequency=0.05).until(
                lambda d: d.execute_script("return window.outcomes?.[arguments[0]] ?? null", name))
        except Exception as error:
            raise AssertionError(f"gave up waiting for Uppy to finish {name}; "
                                 f"the page logged {self.driver.get_log('browser')}") from error

    def problems(self) -> list:
        """Uncaught script errors the page logged."""
        return [entry["message"] for entry in self.driver.get_log("browser") if "Uncaught" in entry["message"]]

    def stored(self, name: str):
        """The bytes the gateway serves for FOLDER + `name` (its 307 followed), or None on 404."""
        response = requests.get(f"{self.gateway}/{FOLDER}{name}", headers=self.auth, timeout=PATIENCE)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, f"reading {name} back: {response.status_code} {response.text}"
        return response.content

    def assert_stored(self, path: str) -> None:
        name = os.path.basename(path)
        stored = self.stored(name)
        assert stored is not None, f"{name} is not stored"
        assert hashlib.sha256(stored).hexdigest() == sha256_of(path), f"{name} differs from what was sent"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def result(**fields) -> None:
    print("result: " + json.dumps(fields), flush=True)


def uploaded(run: Run, path: str) -> dict:
    """Uploads `path` through Uppy, checks the gateway serves the same bytes; Uppy's outcome."""
    run.open()
    run.choose(path)
    name = os.path.basename(path)
    got = run.outcome(name)
    assert "message" not in got, f"Uppy failed {name}: {got['message']}"
    assert got["key"] == FOLDER + name, got
    run.assert_stored(path)
    assert not run.problems(), run.problems()
    return got


def small(run: Run) -> None:
    got = uploaded(run, random_file(os.path.join(run.scratch, "small.png"), 300 * 1024))
    print(f"small: one PUT, Uppy's location {got['location']}")
    result(**got)


def multipart(run: Run) -> None:
    got = uploaded(run, random_file(os.path.join(run.scratch, "big.jpg"), 20 * MiB))
    assert got["parts"] == [1, 2, 3], got
    print(f"multipart: parts {got['parts']}, Uppy's location {got['location']}")
    result(**got)


def cancel(run: Run) -> None:
    path = random_file(os.path.join(run.scratch, "cancel.jpg"), 40 * MiB)
    run.open(cancel="after-first-part")
    run.choose(path)
    got = run.outcome("cancel.jpg")
    assert got.get("cancelled") and got["parts"] == [1] and got["upload_id"], got
    # Uppy aborts the multipart upload as it cancels (a DELETE it does not wait for): wait
    # until storage no longer knows the upload.
    parts = f"{run.gateway}/{FOLDER}cancel.jpg?uploadId={urllib.parse.quote(got['upload_id'], safe='')}"
    listed = lambda: requests.get(parts, headers={**run.auth, "Accept": "application/json"}, timeout=PATIENCE)
    deadline = time.monotonic() + PATIENCE
    while (status := listed().status_code) != 404:
        assert status == 200 and time.monotonic() < deadline, f"the cancelled upload's parts: {status}"
        time.sleep(0.05)
    assert run.stored("cancel.jpg") is None, "a cancelled upload left an object"
    after = run.driver.execute_script("return window.outcomes['cancel.jpg']")
    assert after == got, f"Uppy reported more after the cancel: {after}"
    assert not run.problems(), run.problems()
    print(f"cancel: upload {got['upload_id']} aborted after part 1; nothing stored")
    result(**got)


def refused(run: Run) -> None:
    notes = os.path.join(run.scratch, "notes.txt")
    with open(notes, "w") as f:
        f.write("not a picture\n")
    wide = random_file(os.path.join(run.scratch, "wide.png"), 2 * MiB)
    long = random_file(os.path.join(run.scratch, "long.txt"), 20 * MiB)
    run.open()
    run.choose(notes, wide, long)
    got = {os.path.basename(path): run.outcome(os.path.basename(path)) for path in (notes, wide, long)}
    for name, outcome in got.items():
        assert "message" in outcome, f"{name} was not refused: {outcome}"
        assert run.stored(name) is None, f"{name} was stored"
        print(f"refused {name}: Uppy's message {outcome['message']!r}, the app shows {outcome['reason']!r}")
    assert not run.problems(), run.problems()
    result(**got)


if __name__ == "__main__":
    scenario, scratch_dir, *arguments = sys.argv[1:]
    current = Run(scratch_dir, *arguments)
    try:
        {"small": small, "multipart": multipart, "cancel": cancel, "refused": refused}[scenario](current)
    finally:
        current.close()
