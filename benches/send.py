#!/usr/bin/env python3
"""Sends COUNT requests, one at a time on one keep-alive connection, stdlib only.

  send.py URL COUNT BODY_FILE

Each is a POST of BODY_FILE's bytes (content-type application/json) to URL, and each must be
answered 200; otherwise it exits 1 naming the status. Used where the requests themselves matter,
not their timing: instructions.sh (counted by callgrind) and pgo.sh (training).
"""

import http.client
import sys
from urllib.parse import urlsplit


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: send.py URL COUNT BODY_FILE")
    url, count = urlsplit(sys.argv[1]), int(sys.argv[2])
    with open(sys.argv[3], "rb") as f:
        body = f.read()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    for _ in range(count):
        connection.request("POST", url.path, body, {"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"{url.path}: HTTP {response.status}")


if __name__ == "__main__":
    main()
