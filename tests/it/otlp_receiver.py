"""A real OTLP/HTTP trace receiver for the tests: decodes each ExportTraceServiceRequest with the
official `opentelemetry-proto` package and appends every span as one JSON line to OUT.

usage: otlp_receiver.py OUT PORT_FILE [--status CODE]

Binds 127.0.0.1:0 and writes the port to PORT_FILE once listening. With --status, answers
every request with that status instead (after counting it in OUT.requests).
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

OUT = sys.argv[1]
PORT_FILE = sys.argv[2]
STATUS = int(sys.argv[sys.argv.index("--status") + 1]) if "--status" in sys.argv else 200
LOCK = threading.Lock()


def value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in any_value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(any_value.bytes_value).decode()
    if kind is None:
        return None
    return getattr(any_value, kind)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with LOCK:
            with open(OUT + ".requests", "a") as f:
                f.write(json.dumps({
                    "path": self.path,
                    "content_type": self.headers.get("content-type"),
                    "authorization": self.headers.get("authorization"),
                    "x_tenant": self.headers.get("x-tenant"),
                }) + "\n")
        if STATUS != 200:
            self.send_response(STATUS)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"refused by the test receiver")
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        lines = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(json.dumps({
                        "resource": resource,
                        "scope": scope_spans.scope.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "status": span.status.code,
                        "attributes": {kv.key: value(kv.value) for kv in span.attributes},
                    }))
        with LOCK:
            with open(OUT, "a") as f:
                for line in lines:
                    f.write(line + "\n")
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402

os.replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
