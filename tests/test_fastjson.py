"""JSON as the server writes it: views written once and put into frames as they are, and the
text orjson cannot write (lone surrogates from before input was checked) still written."""

from __future__ import annotations

import json

from socketio import packet

from facilitator import fastjson
from facilitator.realtime.packets import TextPacket


def test_a_written_view_goes_into_a_frame_as_it_is():
    view = fastjson.dumps({"kind": "participant", "people": [{"name": "Sam"}]})
    frame = TextPacket(packet.EVENT, data=["view", fastjson.RawJSON(view)]).encode()

    assert frame == '2["view",{"kind":"participant","people":[{"name":"Sam"}]}]'
    assert json.loads(frame[1:]) == ["view", json.loads(view)]


def test_an_acknowledgement_holding_a_written_view_reads_as_plain_json():
    view = fastjson.RawJSON(fastjson.dumps({"step": None, "turns": []}))

    assert json.loads(fastjson.dumps({"ok": True, "view": view})) == {
        "ok": True,
        "view": {"step": None, "turns": []},
    }


def test_text_orjson_refuses_is_written_by_the_standard_library_written_views_included():
    old_text = "half a pair \ud83d"  # saved before lone surrogates were refused
    view = fastjson.RawJSON(fastjson.dumps({"text": old_text}))

    written = fastjson.dumps({"view": view, "note": old_text})

    assert json.loads(written) == {"view": {"text": old_text}, "note": old_text}


def test_subclasses_of_plain_types_are_written_as_the_plain_types():
    class Name(str):
        pass

    class Counts(dict):
        pass

    assert fastjson.dumps({"name": Name("Jo"), "counts": Counts(a=1)}) == (
        '{"name":"Jo","counts":{"a":1}}'
    )


def test_keys_that_are_not_strings_are_written_as_the_standard_library_writes_them():
    document = {1: "one", "nested": {2.5: [True, None], False: "no"}}

    assert fastjson.dumps(document) == json.dumps(document, separators=(",", ":"))
