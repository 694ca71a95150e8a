"""The OSC decoder the server (and the adapters) use: any bytes give messages or one
ValueError, never another exception; valid OSC from python-osc round-trips."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from daw_bridge.oscio import MAX_BUNDLE_DEPTH, decode, try_decode


def built(address: str, *args) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def nest(dgram: bytes, levels: int) -> bytes:
    for _ in range(levels):
        dgram = b"#bundle\x00" + bytes(8) + struct.pack(">i", len(dgram)) + dgram
    return dgram


def _only_value_error(data: bytes) -> None:
    try:
        out = decode(data)
    except ValueError:
        return
    assert all(m.address.startswith("/") for m in out)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_value_error(data):
    _only_value_error(data)
    _only_value_error(b"/" + data)
    _only_value_error(b"#bundle\x00" + data)
    msgs, problem = try_decode(data)
    assert problem is None or msgs == []


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 60), st.integers(0, 255), st.integers(0, 70))
def test_damaged_valid_packets_never_raise_anything_but_value_error(pos, byte, cut):
    good = nest(built("/ainur/render", "song.yaml", "pop", 7, 2.5), 2)
    damaged = bytearray(good)
    damaged[pos % len(damaged)] = byte
    _only_value_error(bytes(damaged))
    _only_value_error(good[:cut])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-2**31, 2**31 - 1), st.text(max_size=30).filter(
    lambda t: "\x00" not in t), st.floats(allow_nan=False, width=32)), max_size=8))
def test_python_osc_messages_round_trip(args):
    out = decode(built("/ainur/x", *args))
    assert len(out) == 1 and out[0].address == "/ainur/x"
    assert list(out[0].args) == args


def test_bundles_flatten_in_order_and_depth_is_limited():
    bb = OscBundleBuilder(IMMEDIATELY)
    for i in range(3):
        m = OscMessageBuilder("/ainur/ping")
        m.add_arg(i)
        bb.add_content(m.build())
    packet = bb.build().dgram
    assert [m.args for m in decode(packet)] == [(0,), (1,), (2,)]
    assert len(decode(nest(built("/a"), MAX_BUNDLE_DEPTH))) == 1
    with pytest.raises(ValueError, match="nested more than"):
        decode(nest(built("/a"), MAX_BUNDLE_DEPTH + 1))
    # Thousands of levels cost one pass and no recursion.
    with pytest.raises(ValueError, match="nested more than"):
        decode(nest(built("/a"), 5000))


def test_too_many_messages_and_unknown_type_tags_are_refused():
    many = b"".join(struct.pack(">i", len(built("/a"))) + built("/a") for _ in range(300))
    with pytest.raises(ValueError, match="more than 256 messages"):
        decode(b"#bundle\x00" + bytes(8) + many)
    with pytest.raises(ValueError, match="unsupported OSC type tags"):
        decode(b"/a\x00\x00,iX\x00" + bytes(8))
