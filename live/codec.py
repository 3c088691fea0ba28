"""Messages on the wire: envelope frames, then one body frame.

The body frame is ``topic + b"\\0" + header + sender + body``, padded with zero bytes to the
message's payload size, so that topic-prefix filtering in libzmq works on it and the bytes on the
wire match the scenario's sizes. The header is binary (t_sent, seq, size, the sender's and the
body's lengths: cheap on the per-message path); the body is compact JSON, left out when empty.
Subscriptions (XPUB/XSUB) are single frames ``b"\\x01topic"`` / ``b"\\x00topic"``.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from zsim.behaviours.api import Frame, Message, Subscription

_SEP = b"\0"
_MAGIC = b"Z1"
_HEADER = struct.Struct("<dqIHI")  # t_sent, seq, size, len(sender), len(body json)


def encode(frame: Frame) -> list[bytes]:
    if isinstance(frame, Subscription):
        return [(b"\x01" if frame.subscribe else b"\x00") + frame.topic.encode()]
    topic = frame.topic.encode()
    sender = frame.sender.encode()
    body = json.dumps(frame.body, separators=(",", ":")).encode() if frame.body else b""
    head = _HEADER.pack(frame.t_sent, frame.seq, frame.size, len(sender), len(body))
    data = b"".join((topic, _SEP, _MAGIC, head, sender, body))
    if len(data) < frame.size:
        data += bytes(frame.size - len(data))
    return [*frame.envelope, data]


def decode(frames: list[bytes], subscriptions: bool = False) -> Frame:
    """The message in ``frames``; ``subscriptions`` for what an XPUB receives."""
    last = frames[-1]
    if subscriptions and len(frames) == 1 and last[:1] in (b"\x00", b"\x01"):
        return Subscription(last[1:].decode(errors="replace"), last[:1] == b"\x01")
    topic, sep, rest = last.partition(_SEP)
    envelope = tuple(bytes(f) for f in frames[:-1])
    if not sep:
        return Message("", -1, {}, len(last), "", envelope)
    if rest[:2] != _MAGIC or len(rest) < 2 + _HEADER.size:
        # not one of ours (e.g. a foreign peer): keep the bytes' size, no identity
        return Message("", -1, {}, len(last), topic.decode(errors="replace"), envelope)
    t_sent, seq, size, n_sender, n_body = _HEADER.unpack_from(rest, 2)
    at = 2 + _HEADER.size
    sender = bytes(rest[at:at + n_sender]).decode()
    body: dict[str, Any] = json.loads(rest[at + n_sender:at + n_sender + n_body]) if n_body else {}
    return Message(sender, seq, body, size, topic.decode(errors="replace"), envelope, t_sent)
