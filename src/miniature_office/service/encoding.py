"""The one JSON encoder for everything the service sends: API bodies, cached payloads, errors.

Hashing has its own canonical encoder (``sim.audit``: sorted keys, the bytes the chain covers);
this one is for the wire, where speed matters and key order does not.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON bytes.

    orjson gives the same bytes as ``json.dumps(separators=(",", ":"), ensure_ascii=False)``
    for our documents, about 8x faster (the world snapshot: 15 µs instead of 118 µs). Integer
    dict keys become strings, as with json; a NaN or infinity becomes null (JSON has neither).
    """
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
