"""MessagePack for `msgpack` sends and frame matchers (docs/scenario-format.md). Encoding is written out
here so that both runners send the same bytes: the C++ runner's nlohmann::json::to_msgpack takes the
smallest form of every value, a float as float 32 when that holds it exactly, and map keys in sorted
order (scenarios/msgpack-vectors.json). Decoding uses the msgpack package (Debian: python3-msgpack),
imported only when a frame is decoded."""

from __future__ import annotations

import math
import struct
from typing import Any


class NotMsgpack(Exception):
    """The payload is not one MessagePack value that JSON can hold."""


def pack(value: Any) -> bytes:
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _pack(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xC0)
    elif value is True or value is False:
        out.append(0xC3 if value else 0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        single = struct.unpack(">f", struct.pack(">f", value))[0] if math.isfinite(value) and abs(value) <= 3.4028234663852886e38 else None
        if single is not None and single == value:
            out += b"\xca" + struct.pack(">f", value)
        else:
            out += b"\xcb" + struct.pack(">d", value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _pack_length(len(data), out, fix=(0xA0, 31), forms=((0xD9, ">B"), (0xDA, ">H"), (0xDB, ">I")))
        out += data
    elif isinstance(value, list):
        _pack_length(len(value), out, fix=(0x90, 15), forms=((0xDC, ">H"), (0xDD, ">I")))
        for item in value:
            _pack(item, out)
    elif isinstance(value, dict):
        _pack_length(len(value), out, fix=(0x80, 15), forms=((0xDE, ">H"), (0xDF, ">I")))
        for key in sorted(value):  # code point order is UTF-8 byte order, as nlohmann's std::map keeps keys
            _pack(key, out)
            _pack(value[key], out)
    else:
        raise TypeError(f"not a JSON value: {value!r}")


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value < 128:
        out.append(value)
    elif value >= 0:
        for code, form, top in ((0xCC, ">B", 0xFF), (0xCD, ">H", 0xFFFF), (0xCE, ">I", 0xFFFFFFFF), (0xCF, ">Q", 2**64 - 1)):
            if value <= top:
                out += bytes([code]) + struct.pack(form, value)
                return
        raise OverflowError(f"{value} does not fit MessagePack")
    elif value >= -32:
        out += struct.pack(">b", value)
    else:
        for code, form, bottom in ((0xD0, ">b", -2**7), (0xD1, ">h", -2**15), (0xD2, ">i", -2**31), (0xD3, ">q", -2**63)):
            if value >= bottom:
                out += bytes([code]) + struct.pack(form, value)
                return
        raise OverflowError(f"{value} does not fit MessagePack")


def _pack_length(length: int, out: bytearray, fix: tuple[int, int], forms) -> None:
    if length <= fix[1]:
        out.append(fix[0] | length)
        return
    for code, form in forms:
        if length < 2 ** (8 * struct.calcsize(form)):
            out += bytes([code]) + struct.pack(form, length)
            return
    raise OverflowError("too long for MessagePack")


def unpack(data: bytes) -> Any:
    """One MessagePack value with no bytes left over, as JSON holds it: maps with string keys, valid
    UTF-8 strings, no byte strings or extension types. Raises NotMsgpack."""
    import msgpack  # Debian: python3-msgpack

    try:
        value = msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
    except Exception as error:  # ExtraData, FormatError, UnicodeDecodeError, ValueError, ...
        raise NotMsgpack(str(error) or type(error).__name__) from None
    _check_json_like(value)
    return value


def _check_json_like(value: Any) -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for item in value:
            _check_json_like(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotMsgpack(f"a map key that is not a string: {key!r}")
            _check_json_like(item)
        return
    raise NotMsgpack(f"{type(value).__name__} has no JSON form")
