"""Cassette names from pytest node ids, the way pytest-recording names its cassettes: the test
module (its path under the rootdir, without ``.py`` and without a leading ``tests/``), then the
test (``Class.test`` for a method), then the parameter id after a ``-``.

``tests/test_chat.py::test_refund``          -> ``test_chat/test_refund``
``tests/api/test_chat.py::TestX::test_a[b]`` -> ``api/test_chat/TestX.test_a-b``

The result is always a name traceforge accepts (``src/cassette/name.rs``: relative paths of
``[A-Za-z0-9._/-]``, no ``.``/``..``/empty segments, no directory ending in ``.yaml``, at most
200 characters). When making it so changed the id beyond that (a space, a ``/`` or a non-ASCII
letter in a parameter id, a path outside the rootdir, a very long id), a short hash of the whole
node id is appended, so two tests never share a cassette by accident.
"""

from __future__ import annotations

import hashlib
import re

MAX_LEN = 200
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9._-]")
_TEST_DIRS = ("tests", "test")


def cassette_name(nodeid: str) -> str:
    """The cassette name for the test with this node id."""
    head, bracket, param = nodeid.partition("[")
    if bracket and param.endswith("]"):
        param = param[:-1]
    path, _, rest = head.partition("::")
    lossy = False

    module = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if module and module[-1].endswith(".py"):
        module[-1] = module[-1][: -len(".py")]
    if len(module) > 1 and module[0] in _TEST_DIRS:
        module = module[1:]
    segments = []
    for segment in module:
        clean, changed = _clean(segment)
        lossy |= changed
        if clean in (".", ".."):
            lossy = True
            continue
        if clean.lower().endswith((".yaml", ".yaml.pending")):
            clean += "_"
        segments.append(clean)

    test, changed = _clean(".".join(p for p in rest.split("::") if p))
    lossy |= changed
    if bracket:
        clean, changed = _clean(param)
        lossy |= changed
        test = f"{test}-{clean}" if test else clean
    if test in ("", ".", ".."):
        test = f"{test}_"
        lossy = True
    segments.append(test)

    name = "/".join(segments)
    if lossy or len(name) > MAX_LEN:
        digest = hashlib.sha1(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        keep = MAX_LEN - len(digest) - 1
        if len(name) > keep:
            name = name[:keep].rstrip("/")
            # A cut can leave an empty or dot-only last segment.
            if name.rsplit("/", 1)[-1] in ("", ".", ".."):
                name += "_"
        name = f"{name}-{digest}"
    return name


def _clean(text: str) -> tuple[str, bool]:
    """``text`` with every character a cassette name cannot hold replaced by ``_``, and
    whether anything was replaced."""
    clean = _NOT_ALLOWED.sub("_", text)
    return clean, clean != text
