"""Messages on the wire: envelope frames, then one body frame.

The body frame is ``topic + b"\\0Z1" + header + sender + body``, padded with zero bytes to the
message's payload size, so that topic-prefix filtering in libzmq works on it and the bytes on the
wire match the scenario's sizes. The header is binary (t_sent, seq, size, the sender's and the
body's lengths: cheap on the per-message path); the body is compact JSON, left out when empty.
Subscriptions (XPUB/XSUB) are single frames ``b"\\x01topic"`` / ``b"\\x00topic"``.

Invariant the receiver relies on: the body frame is always a message's *last* frame (envelopes
are only ever added in front of it), so a first frame that parses as a body — magic, header, and a
length that matches the header's — is the whole message and needs no RCVMORE query (which costs
more than the recv itself in pyzmq).
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from typing import Any

from zsim.behaviours.api import Frame, Message, Subscription

_SEP = b"\0"
_MAGIC = b"Z1"
_HEADER = struct.Struct("<dqIHI")  # t_sent, seq, size, len(sender), len(body json)
_AT = len(_MAGIC) + _HEADER.size  # header end, counted from the separator's next byte


@lru_cache(maxsize=4096)
def _prefix(topic: str) -> bytes:
    return topic.encode() + _SEP + _MAGIC


@lru_cache(maxsize=1024)
def _name(sender: str) -> bytes:
    return sender.encode()


@lru_cache(maxsize=1024)
def _zeros(n: int) -> bytes:
    return bytes(n)


def encode_body(msg: Message) -> bytes:
    """The body frame of ``msg`` (its envelope frames go in front, unchanged)."""
    prefix = _prefix(msg.topic)
    sender = _name(msg.sender)
    body = json.dumps(msg.body, separators=(",", ":")).encode() if msg.body else b""
    head = _HEADER.pack(msg.t_sent, msg.seq, msg.size, len(sender), len(body))
    pad = msg.size - (len(prefix) + _HEADER.size + len(sender) + len(body))
    if pad > 0:
        return b"".join((prefix, head, sender, body, _zeros(pad)))
    return b"".join((prefix, head, sender, body))


def encode(frame: Frame) -> list[bytes]:
    if isinstance(frame, Subscription):
        return [(b"\x01" if frame.subscribe else b"\x00") + frame.topic.encode()]
    return [*frame.envelope, encode_body(frame)]


def decode_body(data: bytes, envelope: tuple[bytes, ...] = ()) -> Message | None:
    """The message whose body frame is ``data``; None when ``data`` is not a body frame."""
    cut = data.find(_SEP)
    if cut < 0 or not data.startswith(_MAGIC, cut + 1) or len(data) < cut + 1 + _AT:
        return None
    t_sent, seq, size, n_sender, n_body = _HEADER.unpack_from(data, cut + 3)
    at = cut + 1 + _AT
    end = at + n_sender + n_body
    if len(data) != max(size, end):
        return None
    sender = data[at:at + n_sender].decode()
    body: dict[str, Any] = json.loads(data[at + n_sender:end]) if n_body else {}
    topic = data[:cut].decode(errors="replace") if cut else ""
    return Message(sender, seq, body, size, topic, envelope, t_sent)


def decode(frames: list[bytes], subscriptions: bool = False) -> Frame:
    """The message in ``frames``; ``subscriptions`` for what an XPUB receives."""
    last = frames[-1]
    if subscriptions and len(frames) == 1 and last[:1] in (b"\x00", b"\x01"):
        return Subscription(last[1:].decode(errors="replace"), last[:1] == b"\x01")
    envelope = tuple(bytes(f) for f in frames[:-1])
    msg = decode_body(last, envelope)
    if msg is not None:
        return msg
    # not one of ours (e.g. a foreign peer): keep the bytes' size, no identity
    cut = last.find(_SEP)
    topic = last[:cut].decode(errors="replace") if cut > 0 else ""
    return Message("", -1, {}, len(last), topic, envelope)
