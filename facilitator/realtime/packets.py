"""Socket.IO packets as this protocol uses them: JSON text only, written with orjson."""

from __future__ import annotations

from socketio import packet

from facilitator import fastjson


class TextPacket(packet.Packet):
    """No event of the protocol carries binary data (the frame guard drops binary frames), so
    the library's search of every outgoing view for bytes, a walk of the whole view that cost
    about a tenth of a change, is switched off."""

    uses_binary_events = False
    json = fastjson
