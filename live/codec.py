"""Messages on the wire: envelope frames, then one body frame.

The body frame is ``topic + b"\\0" + compact JSON {sender, seq, t_sent, size, body}``, padded with
zero bytes to the message's payload size, so that topic-prefix filtering in libzmq works on it and
the bytes on the wire match the scenario's sizes. Subscriptions (XPUB/XSUB) are single frames
``b"\\x01topic"`` / ``b"\\x00topic"``.
"""

from __future__ import annotations

import json
from typing import Any

from zsim.behaviours.api import Frame, Message, Subscription

_SEP = b"\0"


def encode(frame: Frame) -> list[bytes]:
    if isinstance(frame, Subscription):
        return [(b"\x01" if frame.subscribe else b"\x00") + frame.topic.encode()]
    topic = frame.topic.encode()
    doc = {"sender": frame.sender, "seq": frame.seq, "t_sent": frame.t_sent, "size": frame.size,
           "body": frame.body}
    body = topic + _SEP + json.dumps(doc, separators=(",", ":")).encode()
    if len(body) < frame.size:
        body += bytes(frame.size - len(body))
    return [*frame.envelope, body]


def decode(frames: list[bytes], subscriptions: bool = False) -> Frame:
    """The message in ``frames``; ``subscriptions`` for what an XPUB receives."""
    last = frames[-1]
    if subscriptions and len(frames) == 1 and last[:1] in (b"\x00", b"\x01"):
        return Subscription(last[1:].decode(errors="replace"), last[:1] == b"\x01")
    topic, sep, rest = last.partition(_SEP)
    envelope = tuple(bytes(f) for f in frames[:-1])
    if not sep:
        return Message("", -1, {}, len(last), "", envelope)
    try:
        doc: dict[str, Any] = json.loads(rest.rstrip(_SEP))
    except ValueError:
        # not one of ours (e.g. a foreign peer): keep the bytes' size, no identity
        return Message("", -1, {}, len(last), topic.decode(errors="replace"), envelope)
    return Message(str(doc.get("sender", "")), int(doc.get("seq", -1)), doc.get("body") or {},
                   int(doc.get("size", len(last))), topic.decode(errors="replace"), envelope,
                   float(doc.get("t_sent", 0.0)))
