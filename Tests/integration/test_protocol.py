"""QMP wire protocol of qmp-mockd, compared with what real QEMU sends.

Expected texts come from /work/shared/spec/qmp-protocol.md (sections 1-5, 10)
and the real-QEMU transcripts in /work/shared/oracle/transcripts. Lines are
compared byte for byte, including QEMU's member order (QDict hash order) and
the CRLF terminator.
"""

from __future__ import annotations

import json
import os
import socket

import pytest

from conftest import (
    DEFAULT_VERSION,
    VERSION_PROFILES,
    assert_event,
    error_line,
    greeting_regex,
    qemu_json,
    return_line,
    wait_until,
)

NEG = "Expecting capabilities negotiation with 'qmp_capabilities'"  # desc text as on the wire
PROBE = b'{"execute":"query-name","id":"probe"}'
PROBE_REPLY = '{"return": {}, "id": "probe"}'  # module daemon has no --name


def status_line(status: str, running: bool, version: str = DEFAULT_VERSION, id_json: str | None = None) -> str:
    if version == "10.0.0":
        value = '{"status": "%s", "running": %s}' % (status, "true" if running else "false")
    else:
        value = '{"status": "%s", "singlestep": false, "running": %s}' % (status, "true" if running else "false")
    return return_line(value, id_json)


# ---------------------------------------------------------------------------
# Greeting, version profiles
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("version", sorted(VERSION_PROFILES))
def test_greeting_bytes_per_version(start_daemon, version):
    d = start_daemon("--qemu-version", version)
    c = d.connect()
    raw = c.raw_line()
    assert raw.endswith(b"\r\n"), raw
    assert greeting_regex(*VERSION_PROFILES[version]).fullmatch(raw[:-2].decode("ascii")), raw
    # Exactly one line: the greeting is sent before any input is read, and
    # nothing follows it until the client speaks.
    c.send(PROBE)
    assert c.line() == error_line(NEG, "CommandNotFound", '"probe"')


def test_greeting_default_version_is_8_2_0(start_daemon):
    d = start_daemon()
    c = d.connect()
    c.greeting("8.2.0")


@pytest.mark.parametrize("version", sorted(VERSION_PROFILES))
def test_query_version_matches_greeting(start_daemon, version):
    d = start_daemon("--qemu-version", version)
    c = d.connect()
    greeting = c.greeting(version)
    c.negotiate(read_greeting=False)
    version_json = greeting[len('{"QMP": {"version": '):-len(', "capabilities": ["oob"]}}')]
    assert c.cmd("query-version") == return_line(version_json)
    assert c.cmd("query-version", id=[1, {"a": None}]) == return_line(version_json, '[1, {"a": null}]')


@pytest.mark.parametrize("version", sorted(VERSION_PROFILES))
def test_query_status_per_profile(start_daemon, version):
    d = start_daemon("--qemu-version", version)
    c = d.negotiated(version=version)
    assert c.cmd("query-status") == status_line("running", True, version)
    assert c.cmd("query-status", arguments={}, id="st") == status_line("running", True, version, '"st"')


@pytest.mark.parametrize("version", sorted(VERSION_PROFILES))
def test_query_status_paused_flag_is_prelaunch(start_daemon, version):
    d = start_daemon("--qemu-version", version, "--paused")
    c = d.negotiated(version=version)
    assert c.cmd("query-status") == status_line("prelaunch", False, version)


# ---------------------------------------------------------------------------
# Capabilities negotiation (spec section 2)
# ---------------------------------------------------------------------------
NEGOTIATION_ERRORS = [
    ('{"execute":"query-status"}', error_line(NEG, "CommandNotFound")),
    ('{"execute":"query-status","id":1}', error_line(NEG, "CommandNotFound", "1")),
    ('{"execute":"nonexistent","id":"a"}', error_line(NEG, "CommandNotFound", '"a"')),
    ('{"execute":"query-version"}', error_line(NEG, "CommandNotFound")),
    ('{"execute":"query-commands","arguments":{}}', error_line(NEG, "CommandNotFound")),
    ('{"exec-oob":"query-status","id":2}', error_line("QMP input member 'exec-oob' is unexpected", id_json="2")),
    (
        '{"execute":"qmp_capabilities","arguments":{"enable":["foo"]},"id":3}',
        error_line("Parameter 'null' does not accept value 'foo'", id_json="3"),
    ),
    (
        '{"execute":"qmp_capabilities","arguments":{"enable":["cap-does-not-exist"]}}',
        error_line("Parameter 'null' does not accept value 'cap-does-not-exist'"),
    ),
    (
        '{"execute":"qmp_capabilities","arguments":{"enable":[1]}}',
        error_line("Invalid parameter type for 'enable[0]', expected: string"),
    ),
    (
        '{"execute":"qmp_capabilities","arguments":{"enable":"oob"},"id":11}',
        error_line("Invalid parameter type for 'enable', expected: array", id_json="11"),
    ),
    (
        '{"execute":"qmp_capabilities","arguments":{"foo":1},"id":5}',
        error_line("Parameter 'foo' is unexpected", id_json="5"),
    ),
    (
        '{"execute":"qmp_capabilities","arguments":{"bogus":1}}',
        error_line("Parameter 'bogus' is unexpected"),
    ),
    ('{"execute":"qmp_capabilities","arguments":[]}', error_line("QMP input member 'arguments' must be an object")),
    ('{"execute":"query-status","extra":1}', error_line("QMP input member 'extra' is unexpected")),
    ('[]', error_line("QMP input must be a JSON object")),
    ('{"id":"noexec"}', error_line("QMP input lacks member 'execute'", id_json='"noexec"')),
    ('{]', error_line("JSON parse error, expecting value")),
]


@pytest.mark.parametrize("sent,expected", NEGOTIATION_ERRORS, ids=[s for s, _ in NEGOTIATION_ERRORS])
def test_negotiation_mode_errors_keep_negotiation_mode(fresh, sent, expected):
    fresh.send(sent)
    assert fresh.line() == expected
    # Still in negotiation mode: other commands are refused ...
    fresh.send(PROBE)
    assert fresh.line() == error_line(NEG, "CommandNotFound", '"probe"')
    # ... and qmp_capabilities can be retried.
    fresh.send('{"execute":"qmp_capabilities","id":"retry"}')
    assert fresh.line() == return_line("{}", '"retry"')
    fresh.send(PROBE)
    assert fresh.line() == PROBE_REPLY


NEGOTIATION_OK = [
    ('{"execute":"qmp_capabilities"}', return_line()),
    ('{"execute":"qmp_capabilities","arguments":{}}', return_line()),
    ('{"execute":"qmp_capabilities","arguments":{"enable":[]}}', return_line()),
    ('{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":4}', return_line("{}", "4")),
    ('{"execute":"qmp_capabilities","arguments":{"enable":["oob","oob"]}}', return_line()),
    ('{"execute":"qmp_capabilities","id":"caps-1"}', return_line("{}", '"caps-1"')),
    ('{"id":"first","execute":"qmp_capabilities"}', return_line("{}", '"first"')),
    ("{'execute':'qmp_capabilities'}", return_line()),
]


@pytest.mark.parametrize("sent,expected", NEGOTIATION_OK, ids=[s for s, _ in NEGOTIATION_OK])
def test_negotiation_success_then_command_mode(fresh, sent, expected):
    fresh.send(sent)
    assert fresh.line() == expected
    fresh.send(PROBE)
    assert fresh.line() == PROBE_REPLY
    fresh.send('{"execute":"qmp_capabilities"}')
    assert fresh.line() == error_line(
        "Capabilities negotiation is already complete, command ignored", "CommandNotFound"
    )
    fresh.send('{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":6}')
    assert fresh.line() == error_line(
        "Capabilities negotiation is already complete, command ignored", "CommandNotFound", "6"
    )


def test_stop_and_quit_before_negotiation_are_not_executed(start_daemon):
    d = start_daemon()
    c = d.connect()
    c.greeting()
    c.send('{"execute":"stop","id":"s"}')
    assert c.line() == error_line(NEG, "CommandNotFound", '"s"')
    c.send('{"execute":"quit","id":"q"}')
    assert c.line() == error_line(NEG, "CommandNotFound", '"q"')
    c.negotiate(read_greeting=False)
    assert c.cmd("query-status") == status_line("running", True)
    assert d.alive()


# ---------------------------------------------------------------------------
# Command-mode request errors (spec 3.3, 10; oracle a1/a2)
# ---------------------------------------------------------------------------
CMD_NOT_FOUND = "The command %s has not been found"

COMMAND_ERRORS = [
    ('{"execute":"nonexistent","id":"a"}', error_line(CMD_NOT_FOUND % "nonexistent", "CommandNotFound", '"a"')),
    ('{"execute":"no-such-cmd"}', error_line(CMD_NOT_FOUND % "no-such-cmd", "CommandNotFound")),
    ('{"execute":""}', error_line(CMD_NOT_FOUND % "", "CommandNotFound")),
    ('{"execute":"Query-Status"}', error_line(CMD_NOT_FOUND % "Query-Status", "CommandNotFound")),
    ('{"execute":"query_status"}', error_line(CMD_NOT_FOUND % "query_status", "CommandNotFound")),
    ('[1,2]', error_line("QMP input must be a JSON object")),
    ('[{"execute":"query-status"}]', error_line("QMP input must be a JSON object")),
    ('"query-status"', error_line("QMP input must be a JSON object")),
    ("42\n", error_line("QMP input must be a JSON object")),
    ("1.5\n", error_line("QMP input must be a JSON object")),
    ("null\n", error_line("QMP input must be a JSON object")),
    ("true\n", error_line("QMP input must be a JSON object")),
    ('{"execute":1,"id":10}', error_line("QMP input member 'execute' must be a string", id_json="10")),
    ('{"execute":true}', error_line("QMP input member 'execute' must be a string")),
    ('{"execute":null}', error_line("QMP input member 'execute' must be a string")),
    (
        '{"execute":"query-status","arguments":[],"id":11}',
        error_line("QMP input member 'arguments' must be an object", id_json="11"),
    ),
    ('{"execute":"query-status","arguments":"x"}', error_line("QMP input member 'arguments' must be an object")),
    ('{"execute":"query-status","arguments":null}', error_line("QMP input member 'arguments' must be an object")),
    (
        '{"execute":"no-such-cmd","arguments":[]}',
        error_line("QMP input member 'arguments' must be an object"),
    ),
    ('{"execute":"query-status","foo":1,"id":12}', error_line("QMP input member 'foo' is unexpected", id_json="12")),
    ('{"execute":"no-such-cmd","extra":true}', error_line("QMP input member 'extra' is unexpected")),
    # Two unexpected members: QEMU reports the first in its QDict order ('a').
    ('{"execute":"query-status","b":1,"a":2}', error_line("QMP input member 'a' is unexpected")),
    ('{"execute":"query-status","control":{}}', error_line("QMP input member 'control' is unexpected")),
    ('{"arguments":{},"id":13}', error_line("QMP input lacks member 'execute'", id_json="13")),
    ('{"arguments":{}}', error_line("QMP input lacks member 'execute'")),
    ("{}", error_line("QMP input lacks member 'execute'")),
    ('{"exec-oob":"query-status","id":9}', error_line("QMP input member 'exec-oob' is unexpected", id_json="9")),
    (
        '{"execute":"query-status","exec-oob":"query-status"}',
        error_line("QMP input member 'exec-oob' is unexpected"),
    ),
    (
        '{"execute":"query-status","arguments":{"x":1},"id":14}',
        error_line("Parameter 'x' is unexpected", id_json="14"),
    ),
    ('{"execute":"query-name","arguments":{"name":"x"}}', error_line("Parameter 'name' is unexpected")),
    ('{"execute":"query-version","arguments":{"foo":1}}', error_line("Parameter 'foo' is unexpected")),
    ('{"execute":"query-commands","arguments":{"all":true}}', error_line("Parameter 'all' is unexpected")),
]


@pytest.mark.parametrize("sent,expected", COMMAND_ERRORS, ids=[s.strip() for s, _ in COMMAND_ERRORS])
def test_command_mode_request_errors(conn, sent, expected):
    conn.send(sent)
    assert conn.line() == expected
    conn.send(PROBE)
    assert conn.line() == PROBE_REPLY


def _oob_conn(fresh):
    fresh.send('{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}')
    assert fresh.line() == return_line()
    return fresh


OOB_CASES = [
    (
        '{"exec-oob":"query-status","id":"oob1"}',
        error_line("The command query-status does not support OOB", id_json='"oob1"'),
    ),
    (
        '{"exec-oob":"qmp_capabilities","id":"o5"}',
        error_line("The command qmp_capabilities does not support OOB", id_json='"o5"'),
    ),
    ('{"exec-oob":"nonexist","id":"o4"}', error_line(CMD_NOT_FOUND % "nonexist", "CommandNotFound", '"o4"')),
    (
        '{"execute":"query-status","exec-oob":"query-status"}',
        error_line("QMP input member 'execute' clashes with 'exec-oob'"),
    ),
    ('{"id":"err-2"}', error_line("QMP input lacks member 'execute'", id_json='"err-2"')),
]


@pytest.mark.parametrize("sent,expected", OOB_CASES, ids=[s for s, _ in OOB_CASES])
def test_oob_enabled_request_errors(fresh, sent, expected):
    c = _oob_conn(fresh)
    c.send(sent)
    assert c.line() == expected
    c.send(PROBE)
    assert c.line() == PROBE_REPLY


# ---------------------------------------------------------------------------
# id echo (spec 3.1, 5.5, 5.6, 5.8; oracle a1)
# ---------------------------------------------------------------------------
ID_CASES = [
    # (raw id bytes as sent, id as QEMU echoes it)
    (b"0", "0"),
    (b"42", "42"),
    (b"-1", "-1"),
    (b"1.0", "1"),
    (b"1000.0", "1000"),
    (b"-0", "0"),
    (b"-0.0", "-0"),
    (b"0.0", "0"),
    (b"1.5", "1.5"),
    (b"0.1", "0.10000000000000001"),
    (b"0.30000000000000004", "0.30000000000000004"),
    (b"1e3", "1000"),
    (b"1E2", "100"),
    (b"1.5e3", "1500"),
    (b"1e+300", "1.0000000000000001e+300"),
    (b"5e-324", "4.9406564584124654e-324"),
    (b"9007199254740993", "9007199254740993"),
    (b"9223372036854775807", "9223372036854775807"),
    (b"9223372036854775808", "9223372036854775808"),
    (b"18446744073709551615", "18446744073709551615"),
    (b"18446744073709551616", "1.8446744073709552e+19"),
    (b"-9223372036854775808", "-9223372036854775808"),
    (b"-9223372036854775809", "-9.2233720368547758e+18"),
    (b"12345678901234567890123", "1.2345678901234568e+22"),
    (b"true", "true"),
    (b"false", "false"),
    (b"null", "null"),
    (b'""', '""'),
    (b'"cookie#1"', '"cookie#1"'),
    (b'"caf\\u00e9"', '"caf\\u00E9"'),
    ('"café"'.encode(), '"caf\\u00E9"'),
    (b'"\\ud83d\\ude00"', '"\\uD83D\\uDE00"'),
    ('"\U0001F600"'.encode(), '"\\uD83D\\uDE00"'),
    (b'"\\u00e9\\ud83d\\ude00"', '"\\u00E9\\uD83D\\uDE00"'),
    (b'"a\\u0000b"', '"a\\u0000b"'),
    (b'"a\xc0\x80b"', '"a\\u0000b"'),  # modified UTF-8 NUL
    (b'"a\x7fb"', '"a\\u007Fb"'),  # raw DEL
    (b'"a\\/b\\b\\f\\n\\r\\t\\"\\\\\\u001f\\u007f"', '"a/b\\b\\f\\n\\r\\t\\"\\\\\\u001F\\u007F"'),
    (b'"\\u0001ctl"', '"\\u0001ctl"'),
    (b'"\\ufffd"', '"\\uFFFD"'),
    (b"'sq'", '"sq"'),
    (b"'it\\'s \"q\"'", '"it\'s \\"q\\""'),
    (b"[]", "[]"),
    (b"{}", "{}"),
    (b'[1,{"a":null}]', '[1, {"a": null}]'),
    (b'[ 1 , "two" , null ]', '[1, "two", null]'),
    (b'{"a":[1,{"b":null}]}', '{"a": [1, {"b": null}]}'),
    (b"[[[[]]]]", "[[[[]]]]"),
    (b'{"id":{"id":1}}', '{"id": {"id": 1}}'),
]


@pytest.mark.parametrize("raw_id,echo", ID_CASES, ids=[r.decode("utf-8", "backslashreplace") for r, _ in ID_CASES])
def test_id_echo(conn, raw_id, echo):
    conn.send(b'{"execute":"query-name","id":' + raw_id + b"}")
    assert conn.line() == return_line("{}", echo)
    conn.send(b'{"execute":"no-such-cmd","id":' + raw_id + b"}")
    assert conn.line() == error_line(CMD_NOT_FOUND % "no-such-cmd", "CommandNotFound", echo)
    # ids are also echoed on dispatcher and argument errors
    conn.send(b'{"id":' + raw_id + b',"execute":"query-name","arguments":{"x":1}}')
    assert conn.line() == error_line("Parameter 'x' is unexpected", id_json=echo)


def test_id_absent_means_no_id_in_reply(conn):
    conn.send('{"execute":"query-name"}')
    assert conn.line() == return_line()
    conn.send('{"execute":"query-name","arguments":{}}')
    assert conn.line() == return_line()


ID_OBJECTS = [
    {"b": 1, "a": 2, "c": 3, "x": 4},
    {"return": 1, "reason": 2, "x": [{"z": 0, "m": 1}]},
    {"id": "inner", "error": None, "return": {"status": "s", "singlestep": False, "running": True}},
]


@pytest.mark.parametrize("id_obj", ID_OBJECTS, ids=["abcx", "same-bucket", "reply-keys"])
def test_id_object_echo_in_qemu_member_order(conn, id_obj):
    """Objects inside an id are re-serialised through QEMU's QDict, so their
    members come out in hash-bucket order, not input order (spec 5.9)."""
    raw = json.dumps(id_obj, separators=(",", ":"))  # input order = Python dict order
    conn.send('{"execute":"query-name","id":%s}' % raw)
    assert conn.line() == return_line("{}", qemu_json(id_obj))


# ---------------------------------------------------------------------------
# Framing: pipelining, split messages, no newline needed (spec 1.2, 5.1)
# ---------------------------------------------------------------------------
def test_pipelined_commands_in_one_write(conn):
    conn.send(
        b'{"execute":"query-name","id":1}{"execute":"query-status","id":2}'
        b'{"execute":"no-such-cmd","id":3}[]{"execute":"query-name","id":4}'
    )
    assert conn.lines(5) == [
        return_line("{}", "1"),
        status_line("running", True, id_json="2"),
        error_line(CMD_NOT_FOUND % "no-such-cmd", "CommandNotFound", "3"),
        error_line("QMP input must be a JSON object"),
        return_line("{}", "4"),
    ]


def test_pipelined_commands_with_newlines_and_crlf(conn):
    conn.send(b'{"execute":"query-name","id":"lf"}\n{"execute":"query-name","id":"crlf"}\r\n   \t \r\n')
    assert conn.lines(2) == [return_line("{}", '"lf"'), return_line("{}", '"crlf"')]
    conn.send(PROBE)
    assert conn.line() == PROBE_REPLY  # whitespace produced no reply


def test_message_split_over_writes(conn):
    conn.send(b'{"execute":"query-name",\n"id":"split"')
    conn.send(b"}")
    assert conn.line() == return_line("{}", '"split"')


def test_message_sent_byte_by_byte(conn):
    msg = '{"execute":"query-status","id":"caf\u00e9 \U0001F600"}'.encode("utf-8")
    for i in range(len(msg)):
        conn.send(msg[i:i + 1])
    assert conn.line() == status_line("running", True, id_json='"caf\\u00E9 \\uD83D\\uDE00"')
    # two messages, split in the middle of the second, one byte at a time
    data = b'{"execute":"query-name","id":1}{"execute":"query-name","id":2}'
    for i in range(len(data)):
        conn.send(data[i:i + 1])
    assert conn.lines(2) == [return_line("{}", "1"), return_line("{}", "2")]


def test_number_at_top_level_needs_a_following_byte(conn):
    conn.send(b"42")
    conn.send(PROBE)  # '{' ends the number token
    assert conn.lines(2) == [error_line("QMP input must be a JSON object"), PROBE_REPLY]


# ---------------------------------------------------------------------------
# Malformed input, each followed by a probe that must still work
# (spec 5.3, 5.4, 5.5, 10; oracle a1)
# ---------------------------------------------------------------------------
EV = "JSON parse error, expecting value"

MALFORMED = [
    # lexical errors
    (b"\x01", [r"JSON parse error, stray '\u0001'"]),
    (b"{\x01", [r"JSON parse error, stray '\u0001'"]),
    (b"\xff", [r"JSON parse error, stray '\uFFFD'"]),
    (b"{\xff", [r"JSON parse error, stray '\uFFFD'"]),
    (b'{"execute":"query-status","id":1\xff', [r"JSON parse error, stray '\uFFFD'"]),
    (b'{"execute":"query-name","id":01}', ["JSON parse error, stray '01'", EV]),
    (b'{"execute":"query-status","id":012}', ["JSON parse error, stray '01'", EV]),
    (b'{"execute":"query-name","id":-}', ["JSON parse error, stray '-}'"]),
    (b'{"execute":"query-name","id":NULL}', ["JSON parse error, stray 'N'", EV]),
    (b'{"execute":"query-status","id":NaN}', ["JSON parse error, stray 'N'", EV]),
    (b'{"execute":"query-name","id":"x\ny"}', [r"JSON parse error, stray '\"x\n'", EV]),
    (b'{"execute":"query-name","id":"tab\tx"}', [r"JSON parse error, stray '\"tab\t'", EV]),
    (b'{"execute":"query-status","id":"a\xffb"}', [r"JSON parse error, stray '\"a\uFFFD'", EV]),
    (b'{"execute":"query-status","id":"\xfe"}', [r"JSON parse error, stray '\"\uFFFD'", EV]),
    (b'{"execute": query-status}', ["JSON parse error, stray '-s'", EV]),
    (b"TRUE", ["JSON parse error, stray 'T'"]),
    (b"TRUE\n", ["JSON parse error, stray 'T'"]),
    (b"%p", ["JSON parse error, stray '%'"]),
    # a control byte during error recovery is re-lexed: one more stray error
    (b'{"execute":"query-name","id":01\x01}', ["JSON parse error, stray '01'", r"JSON parse error, stray '\u0001'", EV]),
    # syntax errors
    (b'{"execute": }', [EV]),
    (b'{"execute":"query-name","id":1,}', [EV]),
    (b'{"execute":"query-status",}', [EV]),
    (b'{"execute":"query-name" "id":1}', ["JSON parse error, expected separator in dict"]),
    (b'{"execute":"query-name","id":1] ', ["JSON parse error, expected separator in dict"]),
    (b'{"execute" "query-status"}', ["JSON parse error, missing : in object pair"]),
    (b"{1:2}", ["JSON parse error, key is not a string in object"]),
    (b'{1: "query-status"}', ["JSON parse error, key is not a string in object"]),
    (b'{"execute":"query-name","id":1,"id":2}', ["JSON parse error, duplicate key"]),
    (b'{"execute":"query-status","execute":"query-version"}', ["JSON parse error, duplicate key"]),
    (b'{"id":tru}', ["JSON parse error, invalid keyword 'tru'"]),
    (b'{"execute":"query-name","id":"\\x41"}', ["JSON parse error, invalid escape sequence in string"]),
    (b'{"execute":"query-name","id":"\\ud800"}', [r"JSON parse error, \\ud800 is not a valid Unicode character"]),
    (b'{"execute":"query-name","id":"\\uffff"}', [r"JSON parse error, \\uffff is not a valid Unicode character"]),
    (b'{"execute":"query-name","id":"\\uZZZZ"}', [r"JSON parse error, \\uZZZZ is not a valid Unicode character"]),
    (b'{"execute":"query-name","id":"\xc3\x28"}', ["JSON parse error, invalid UTF-8 sequence in string"]),
    (b'{"execute":"query-name","id":"\xc0\xaf"}', ["JSON parse error, invalid UTF-8 sequence in string"]),
    (b'{"execute":"query-name","id":"\xed\xa0\x80"}', ["JSON parse error, invalid UTF-8 sequence in string"]),
    (b'{"execute":"query-name","id":"\xf4\x90\x80\x80"}', ["JSON parse error, invalid UTF-8 sequence in string"]),
    (b'{"execute":"query-name","id":"\xef\xbf\xbf"}', ["JSON parse error, invalid UTF-8 sequence in string"]),
    # stray closers and mismatches end a message at once
    (b"}", [EV]),
    (b"]", [EV]),
    (b"{]", [EV]),
    (b"[}", [EV]),
]


def _malformed_id(case):
    return case[0].decode("latin-1").encode("unicode_escape").decode("ascii")


@pytest.mark.parametrize("sent,descs", MALFORMED, ids=[_malformed_id(c) for c in MALFORMED])
def test_malformed_input_then_session_continues(conn, sent, descs):
    conn.send(sent)
    conn.send(PROBE)
    expected = [error_line(d) for d in descs] + [PROBE_REPLY]
    assert conn.lines(len(expected)) == expected


MIXED = [
    # a valid message followed by a stray closer: reply, then one error
    (b'{"execute":"query-name","id":"x"}}', [return_line("{}", '"x"'), error_line(EV)]),
    (b'{"execute":"query-name","id":"x"}]', [return_line("{}", '"x"'), error_line(EV)]),
    # garbage between messages
    (
        b'{"execute":"query-name","id":"x"} garbage {"execute":"query-name","id":"y"}',
        [return_line("{}", '"x"'), error_line("JSON parse error, invalid keyword 'garbage'"), return_line("{}", '"y"')],
    ),
    # single-quoted strings and the \' escape are accepted
    (b"{'execute':'query-name','id':'sq'}", [return_line("{}", '"sq"')]),
    (b"{\"execute\":'query-name'}", [return_line()]),
    (b'{"execute":"query-\\u006eame","id":"esc"}', [return_line("{}", '"esc"')]),
    # a depth-1024 array is fine (not an object)
    (b"[" * 1024 + b"]" * 1024, [error_line("QMP input must be a JSON object")]),
]


@pytest.mark.parametrize("sent,expected", MIXED, ids=[_malformed_id(c)[:60] for c in MIXED])
def test_mixed_valid_and_invalid_input(conn, sent, expected):
    conn.send(sent)
    conn.send(PROBE)
    assert conn.lines(len(expected) + 1) == expected + [PROBE_REPLY]


def test_nesting_depth_1025_then_valid_command(conn):
    conn.send(b"[" * 1025)
    conn.send(PROBE)
    assert conn.lines(2) == [error_line("JSON nesting depth limit exceeded"), PROBE_REPLY]


def test_nesting_depth_1025_with_closers_like_qemu(conn):
    # QEMU: the limit error, then every one of the 1025 closers is a stray ']'.
    conn.send(b"[" * 1025 + b"]" * 1025)
    conn.send(PROBE)
    lines = conn.lines(1027)
    assert lines[0] == error_line("JSON nesting depth limit exceeded")
    assert lines[1:1026] == [error_line(EV)] * 1025
    assert lines[1026] == PROBE_REPLY


def test_object_nesting_depth_1025_then_valid_command(conn):
    conn.send(b'{"a":' * 1024 + b"{")  # the 1025th opener fails
    conn.send(PROBE)
    assert conn.lines(2) == [error_line("JSON nesting depth limit exceeded"), PROBE_REPLY]


def test_malformed_input_in_negotiation_mode_then_negotiate(fresh):
    fresh.send(b'\x01{"execute":"query-name","id":01}{"id":tru}')
    assert fresh.lines(4) == [
        error_line(r"JSON parse error, stray '\u0001'"),
        error_line("JSON parse error, stray '01'"),
        error_line(EV),
        error_line("JSON parse error, invalid keyword 'tru'"),
    ]
    fresh.negotiate(read_greeting=False)
    fresh.send(PROBE)
    assert fresh.line() == PROBE_REPLY


# ---------------------------------------------------------------------------
# Run state: stop / cont, events before the reply (spec 3.4, 6)
# ---------------------------------------------------------------------------
def test_stop_cont_events_before_reply(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    c.send('{"execute":"stop","id":"s1"}')
    t_stop = assert_event(c.line(), "STOP")
    assert c.line() == return_line("{}", '"s1"')
    assert c.cmd("query-status") == status_line("paused", False)
    # stop while paused: reply only, no event
    c.send('{"execute":"stop","id":"s2"}{"execute":"query-name","id":"after"}')
    assert c.lines(2) == [return_line("{}", '"s2"'), return_line("{}", '"after"')]
    assert c.cmd("query-status") == status_line("paused", False)
    c.send('{"execute":"cont","id":"c1"}')
    t_resume = assert_event(c.line(), "RESUME")
    assert c.line() == return_line("{}", '"c1"')
    assert t_resume >= t_stop
    assert c.cmd("query-status") == status_line("running", True)
    # cont while running: reply only, no event
    c.send('{"execute":"cont","id":"c2"}{"execute":"query-name","id":"after"}')
    assert c.lines(2) == [return_line("{}", '"c2"'), return_line("{}", '"after"')]
    assert c.cmd("query-status") == status_line("running", True)


def test_stop_without_id_and_with_empty_arguments(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    c.send('{"execute":"stop","arguments":{}}')
    assert_event(c.line(), "STOP")
    assert c.line() == return_line()
    c.send('{"execute":"cont"}')
    assert_event(c.line(), "RESUME")
    assert c.line() == return_line()


def test_stop_with_bad_argument_has_no_effect(start_daemon):
    d = start_daemon()
    c = d.negotiated()
    c.send('{"execute":"stop","arguments":{"force":true},"id":1}')
    assert c.line() == error_line("Parameter 'force' is unexpected", id_json="1")
    assert c.cmd("query-status") == status_line("running", True)


def test_prelaunch_stop_is_noop_and_cont_resumes(start_daemon):
    # oracle d1: QEMU -S, stop -> {"return": {}} without event, still prelaunch
    d = start_daemon("--paused")
    c = d.negotiated()
    c.send('{"execute":"stop","id":1}{"execute":"query-status","id":2}')
    assert c.lines(2) == [return_line("{}", "1"), status_line("prelaunch", False, id_json="2")]
    c.send('{"execute":"cont","id":3}')
    assert_event(c.line(), "RESUME")
    assert c.line() == return_line("{}", "3")
    assert c.cmd("query-status") == status_line("running", True)


@pytest.mark.parametrize("version", ["7.2.0", "10.0.0"])
def test_stop_cont_per_profile(start_daemon, version):
    d = start_daemon("--qemu-version", version)
    c = d.negotiated(version=version)
    c.send('{"execute":"stop"}')
    assert_event(c.line(), "STOP")
    assert c.line() == return_line()
    assert c.cmd("query-status") == status_line("paused", False, version)


# ---------------------------------------------------------------------------
# query-commands, query-name
# ---------------------------------------------------------------------------
REQUIRED_COMMANDS = {
    "qmp_capabilities",
    "query-version",
    "query-commands",
    "query-status",
    "query-name",
    "stop",
    "cont",
    "quit",
}


def test_query_commands(conn):
    line = conn.cmd("query-commands")
    reply = json.loads(line)
    assert set(reply) == {"return"}, line
    commands = reply["return"]
    assert isinstance(commands, list) and commands, line
    for entry in commands:
        assert isinstance(entry, dict) and list(entry) == ["name"], entry
        assert isinstance(entry["name"], str) and entry["name"], entry
    names = [e["name"] for e in commands]
    assert len(names) == len(set(names)), "duplicate names in query-commands: %r" % names
    missing = REQUIRED_COMMANDS - set(names)
    assert not missing, "query-commands lacks %s" % sorted(missing)
    # same answer with "arguments": {} and an id
    assert conn.cmd("query-commands", arguments={}, id="qc") == line[:-1] + ', "id": "qc"}'


def test_every_listed_command_exists(start_daemon):
    """Each command query-commands lists is dispatchable (never CommandNotFound)."""
    d = start_daemon()
    c = d.negotiated()
    names = [e["name"] for e in json.loads(c.cmd("query-commands"))["return"]]
    for name in names:
        if name in ("quit", "qmp_capabilities"):
            continue
        c.send({"execute": name, "id": "probe-" + name})
        while True:
            msg = json.loads(c.line())
            if "event" not in msg:
                break
        assert msg.get("id") == "probe-" + name, msg
        if "error" in msg:
            assert msg["error"]["class"] != "CommandNotFound", "listed but not found: %r" % msg


def test_query_name_without_name(conn):
    assert conn.cmd("query-name") == return_line()
    assert conn.cmd("query-name", id=7) == return_line("{}", "7")


@pytest.mark.parametrize("name", ["vm-1", "t\u00e9st \"q\" \\"])
def test_query_name_with_name(start_daemon, name):
    d = start_daemon("--name", name)
    c = d.negotiated()
    assert c.cmd("query-name") == return_line('{"name": %s}' % qemu_json(name))


# ---------------------------------------------------------------------------
# Events only to negotiated sessions
# ---------------------------------------------------------------------------
def test_no_event_before_negotiation(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    a = d.negotiated()
    b = d.connect()
    b.greeting()
    a.send('{"execute":"stop","id":"a1"}')
    assert_event(a.line(), "STOP")
    assert a.line() == return_line("{}", '"a1"')
    # B was connected (greeted) but not negotiated when STOP happened: the
    # very next line it gets after negotiating is the reply, no event.
    b.send('{"execute":"qmp_capabilities","id":"b1"}')
    assert b.line() == return_line("{}", '"b1"')
    assert b.cmd("query-status", id="b2") == status_line("paused", False, id_json='"b2"')
    # Now B is negotiated: it gets the next event (and A too).
    a.send('{"execute":"cont","id":"a2"}')
    assert_event(a.line(), "RESUME")
    assert a.line() == return_line("{}", '"a2"')
    assert_event(b.line(), "RESUME")
    b.send(PROBE)
    assert b.line() == PROBE_REPLY


def test_failed_negotiation_gets_no_events(start_daemon):
    d = start_daemon("--monitor-mode", "shared")
    a = d.negotiated()
    b = d.connect()
    b.greeting()
    b.send('{"execute":"qmp_capabilities","arguments":{"enable":["foo"]}}')
    assert b.line() == error_line("Parameter 'null' does not accept value 'foo'")
    a.send('{"execute":"stop"}')
    assert_event(a.line(), "STOP")
    assert a.line() == return_line()
    b.send(PROBE)
    assert b.line() == error_line(NEG, "CommandNotFound", '"probe"')


# ---------------------------------------------------------------------------
# Size and ancillary data
# ---------------------------------------------------------------------------
def test_large_message_echoed_intact(conn):
    big = "".join(chr(0x20 + (i * 7) % 95) for i in range(1 << 20))  # 1 MiB of printable ASCII
    conn.send('{"execute":"query-name","id":%s}' % json.dumps(big))
    assert conn.line(timeout=20) == return_line("{}", qemu_json(big))
    conn.send(PROBE)
    assert conn.line() == PROBE_REPLY


def test_scm_rights_fd_is_accepted_and_closed(start_daemon):
    """Clients (libvirt, qemu.qmp send_fd_scm) may attach fds to any message; the mock answers
    normally and keeps only the latest read's fds, for a getfd or add-fd that may follow (as QEMU's
    chardev does): each read with fds replaces (closes) the unused ones before it, and leaving
    closes the rest (spec 1.4; the rules in test_descriptors.py)."""
    d = start_daemon()
    c = d.negotiated()
    assert c.cmd("query-name") == return_line()

    def fd_count():
        return len(os.listdir("/proc/%d/fd" % d.pid))

    baseline = fd_count()
    r, w = os.pipe()
    try:
        for i in range(5):
            msg = b'{"execute":"query-name","id":%d}' % i
            socket.send_fds(c.sock, [msg], [r, w])
            assert c.line() == return_line("{}", str(i))
    finally:
        os.close(r)
        os.close(w)
    assert fd_count() == baseline + 2  # the last message's two; the four before were replaced
    c.close()
    c = d.negotiated()  # exclusive monitor: greeted only once the old connection is gone
    assert fd_count() == baseline
    assert d.alive()
