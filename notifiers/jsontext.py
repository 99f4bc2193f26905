"""JSON text for event bodies and stored rows, through orjson: a national cycle writes and reads tens
of thousands of them, and orjson takes a fifth of the standard library's time.

What coldwarn writes comes out the same as from `json.dumps(…, ensure_ascii=False)`, compact: UTF-8,
string keys (others turned into strings), numbers as short as they round-trip. Two differences, both
for the better: NaN and infinities become null (the standard library writes `NaN`, which is not JSON
and which PostgreSQL refuses), and numpy numbers are written as numbers. What orjson refuses and the
standard library takes goes to the standard library, so nothing that was written before fails now:
integers beyond 64 bits, and on reading, the `NaN` of rows stored before this module. (On reading,
orjson makes integers beyond 64 bits floats; coldwarn stores none.)
"""

from __future__ import annotations

import json

import orjson

# datetimes and dataclasses are refused as the standard library refuses them: events carry
# timestamps as ISO strings built on purpose, never whatever a stray object would turn into
OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
           | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


def dumps(value, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON; with sort_keys, keys in code-point order (signatures over it stay stable)."""
    try:
        return orjson.dumps(value, option=OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0))
    except TypeError:  # an integer beyond 64 bits, or a type neither takes (then the usual TypeError)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys).encode()


def dumps_text(value) -> str:
    return dumps(value).decode()


def loads(text: str | bytes | bytearray | memoryview):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or Infinity, as the standard library wrote them; else its own error
        return json.loads(bytes(text) if isinstance(text, memoryview) else text)
