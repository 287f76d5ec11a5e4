"""Uploads and downloads through the gateway with Python `requests`.

`requests` sends the body with the first request (it has no Expect support),
so this proves the gateway drains it and that requests resends it after the
307, from bytes and from a file it has to rewind.

Usage: requests_roundtrip.py GATEWAY_URL SCRATCH_DIR
"""

import hashlib
import os
import sys

import requests


def main(base: str, scratch: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = hashlib.sha256(data).hexdigest()

    put = requests.put(f"{base}/py/from-bytes.bin", data=data, timeout=60)
    assert put.status_code == 200, (put.status_code, put.text)
    assert [r.status_code for r in put.history] == [307], put.history

    path = os.path.join(scratch, "upload.bin")
    with open(path, "wb") as f:
        f.write(data)
    with open(path, "rb") as f:
        put = requests.put(f"{base}/py/from%20file.bin", data=f, timeout=60)
    assert put.status_code == 200, (put.status_code, put.text)

    for key in ("py/from-bytes.bin", "py/from%20file.bin"):
        get = requests.get(f"{base}/{key}", timeout=60)
        assert get.status_code == 200, (key, get.status_code, get.text)
        assert hashlib.sha256(get.content).hexdigest() == digest, f"{key} came back different"

    typed = requests.put(
        f"{base}/py/typed", data=b"{}", headers={"Content-Type": "application/json"}, timeout=60
    )
    assert typed.status_code == 200, (typed.status_code, typed.text)
    head = requests.head(f"{base}/py/typed", allow_redirects=True, timeout=60)
    assert head.headers["Content-Type"] == "application/json", head.headers
    print("requests: 2 uploads, 2 downloads and a typed upload round-tripped")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
