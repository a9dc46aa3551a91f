"""Clients for benches/kill_soak.sh: concurrent chat requests through a recording proxy, each
with a unique prompt; a prompt is written to the acknowledged file only once its client has read
the whole response (status 200 and the body to its end: a stream to its last byte). Runs until
the proxy stops answering (it is killed), then exits.

    python3 kill_soak.py PROXY_ADDR ROUND ACKED_FILE [THREADS]
"""

import http.client
import json
import sys
import threading


def client(addr, round_no, worker, acked, lock, stop):
    host, port = addr.rsplit(":", 1)
    n = 0
    while not stop.is_set():
        n += 1
        prompt = f"soak-{round_no}-{worker}-{n}"
        stream = n % 2 == 0
        body = json.dumps(
            {
                "model": "gpt-4o-mini",
                "stream": stream,
                "messages": [{"role": "user", "content": prompt}],
            }
        )
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request(
                "POST",
                "/openai/v1/chat/completions",
                body=body,
                headers={"content-type": "application/json"},
            )
            response = conn.getresponse()
            data = response.read()  # to the end of the body (chunked: the last chunk)
            conn.close()
        except (OSError, http.client.HTTPException):
            stop.set()
            return
        if response.status != 200:
            print(f"unexpected status {response.status}: {data[:200]!r}", file=sys.stderr)
            stop.set()
            return
        with lock:
            acked.write(prompt + "\n")
            acked.flush()


def main():
    addr, round_no, acked_path = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    lock = threading.Lock()
    stop = threading.Event()
    with open(acked_path, "a", encoding="utf-8") as acked:
        workers = [
            threading.Thread(target=client, args=(addr, round_no, i, acked, lock, stop))
            for i in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


if __name__ == "__main__":
    main()
