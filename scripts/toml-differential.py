#!/usr/bin/env python3
"""Differential test of the agent's TOML subset parser against Python's tomllib.

Generates TOML documents (valid ones, ones using what the subset leaves out, and broken
ones), parses each with tomllib and with the agent's parser (`fuzz-agritrace` with
AGRITRACE_TOML_JSON=1, which prints the agent's view of each document), and compares:

  agree        both accept with equal values (types included), or both refuse
  subset       the agent refuses what tomllib accepts (a feature the subset leaves out:
               counted by the agent's reason; the subset must refuse, never mis-read)
  MISREAD      the agent accepts a document tomllib refuses, or reads other values

Exits 1 if any document was mis-read; prints one example of each kind of mismatch.
Usage: scripts/toml-differential.py [--count N] [--seed S] [--binary PATH] [--show N]
"""
import argparse
import json
import math
import random
import re
import struct
import subprocess
import sys
import tomllib
from collections import Counter

BARE_KEYS = ["a", "b", "key", "mqtt", "port", "tls_ca", "x-y", "_", "1234", "-", "A1"]
ODD_KEYS = ['"quoted key"', "'literal.key'", '""', '"a\\tb"', '"\\u00e9"', "ключ", "é", "a b", "a..b", ".a", "a.", "a=b"]
INTEGERS = ["0", "1", "-1", "+1", "42", "1_000", "9223372036854775807", "-9223372036854775808",
            "0xff", "0xDEAD_beef", "0x7fffffffffffffff"]
BAD_INTEGERS = ["007", "00", "-0x10", "0x-1", "0x+1", "0x_1", "0x1_", "1__0", "_1", "1_", "+0x10", "0X10",
                "0o17", "0b101", "9223372036854775808", "99999999999999999999", "1e", "--1", "+-1", "0x", "1 2"]
FLOATS = ["1.5", "-0.25", "+3.0", "1e5", "1E-3", "6.02e23", "1_000.5", "-0.0", "3.14159", "1e400", "5e-324",
          "0.1", "2.5e+10"]
BAD_FLOATS = ["1.", ".5", "1.e5", "1._5", "1_.5", "1e_5", "inf", "-inf", "nan", "+nan", "0x1.8p1", "1e5.5",
              "01.5", "1.5.5", "1e5_", "Infinity", "NaN", "1.0f"]
STRINGS = ['"plain"', '""', '"with \\"quote\\""', '"tab\\there"', '"nl\\nhere"', '"\\u00e9t\\u00E9"',
           '"\\U0001F600"', '"back\\\\slash"', "'literal \\ back'", "''", "'it''", '"# not a comment"',
           '"a = b"', "'[not] an array'", '"ünïcödé"', '"\\r\\n"', '"emoji 😀"']
BAD_STRINGS = ['"unterminated', "'unterminated", '"bad \\x41 escape"', '"\\b\\f"', '"\\e"', '"\\u12"',
               '"\\uD800"', '"\\U00110000"', '"\\u+041"', '"\\u 041"', '"raw\x01control"', '"raw\x7fdel"',
               '"tab\tinside"', "'raw\x1fcontrol'", '"x"\u0301', '"x"\u0301"', "'x'\u0301'", '"""multi"""',
               "'''multi'''", '"a" "b"', '"a"b']
OTHER_VALUES = ["true", "false", "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00",
                "{ a = 1 }", "{}", "[]", "[1, 2, 3]", "[ 1, 'two', 3.0, [4] ]", "[1, 2,]", "[[1], [2, [3]]]",
                '["a", "b",\n  "c", # comment\n]', "[\n]", "[1\n,2]"]
BAD_OTHER = ["True", "FALSE", "truex", "tru", "[1 2]", "[,]", "[1,,2]", "[", "]", "[1]]", "bare", "= 1", "",
             "{ a = 1", "[1, 2", "'a' 'b'"]
COMMENTS = ["", " # comment", "\t# c = 1", " #", " # [x]", " # 'q", ' # "q']


def pick(rng, good, bad, bad_rate):
    return rng.choice(bad if rng.random() < bad_rate else good)


def value(rng, bad_rate):
    kind = rng.random()
    if kind < 0.25:
        return pick(rng, INTEGERS, BAD_INTEGERS, bad_rate)
    if kind < 0.45:
        return pick(rng, FLOATS, BAD_FLOATS, bad_rate)
    if kind < 0.75:
        return pick(rng, STRINGS, BAD_STRINGS, bad_rate)
    if kind < 0.85 and rng.random() < 0.5:
        items = [value(rng, bad_rate / 2) for _ in range(rng.randint(0, 3))]
        return "[" + ", ".join(items) + ("," if rng.random() < 0.2 else "") + "]"
    return pick(rng, OTHER_VALUES, BAD_OTHER, bad_rate)


def key(rng, bad_rate):
    parts = [pick(rng, BARE_KEYS, ODD_KEYS, bad_rate) for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3))]
    separator = rng.choice([".", ".", " . ", ". "])
    return separator.join(parts)


def header(rng, bad_rate):
    name = key(rng, bad_rate / 2)
    roll = rng.random()
    if roll < 0.6:
        return f"[{name}]"
    if roll < 0.85:
        return f"[[{name}]]"
    return rng.choice([f"[ {name} ]", f"[[ {name} ]]", f"[{name}", f"[[{name}]", f"[{name}]]", f"[{name}] x",
                       "[]", "[[]]", f"[ [{name}] ]"])


def document(rng):
    bad_rate = rng.choice([0.0, 0.0, 0.05, 0.2])
    lines = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.2:
            lines.append(header(rng, bad_rate))
        elif roll < 0.28:
            lines.append(rng.choice(["", "   ", "# a comment", "\t", "#"]))
        else:
            indent = rng.choice(["", "", "  ", "\t"])
            space = rng.choice([" = ", "=", " =", "= ", "\t=\t"])
            lines.append(f"{indent}{key(rng, bad_rate)}{space}{value(rng, bad_rate)}{rng.choice(COMMENTS)}")
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    text = newline.join(lines) + (newline if rng.random() < 0.8 else "")
    if rng.random() < 0.02:
        text = "\ufeff" + text
    return text


def from_agent(node):
    (kind, inner), = node.items()
    if kind == "s":
        return inner
    if kind == "i":
        return int(inner)
    if kind == "f":
        return struct.unpack(">d", bytes.fromhex(inner.zfill(16)))[0]
    if kind == "b":
        return inner
    if kind in ("a", "ta"):
        return [from_agent(item) if kind == "a" else {k: from_agent(v) for k, v in item.items()} for item in inner]
    return {k: from_agent(v) for k, v in inner.items()}


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def agent_views(binary, texts):
    payload = b"".join(text.encode("utf-8", "surrogatepass") + b"\0" for text in texts)
    result = subprocess.run([binary], input=payload, capture_output=True, check=True,
                            env={"AGRITRACE_TOML_JSON": "1", "PATH": "/usr/bin:/bin"})
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(texts), f"{len(lines)} answers for {len(texts)} documents"
    return [json.loads(line) for line in lines]


def reason(error):
    error = re.sub(r"^line \d+: ", "", error)
    word = re.match(r'invalid value "(.*)" \(', error)
    if word:
        if re.match(r"\d{4}-\d\d-\d\d|\d\d:\d\d", word[1]):
            return "invalid value: a date or time (the subset takes them as strings)"
        if re.fullmatch(r"[+-]?(\d[\d_]*|0x[\dA-Fa-f_]+)", word[1]):
            return "invalid value: an integer beyond 64 bits"
        return f"invalid value {word[1]!r}"
    return re.sub(r'"[^"]*"|\S*\d\S*', "…", error)[:70]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", default=".build/release/fuzz-agritrace")
    parser.add_argument("--show", type=int, default=3, help="examples printed per kind of mismatch")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts, refusals, misreads = Counter(), Counter(), {}
    done = 0
    while done < args.count:
        texts = [document(rng) for _ in range(min(20_000, args.count - done))]
        for text, view in zip(texts, agent_views(args.binary, texts)):
            try:
                expected, python_error = tomllib.loads(text), None
            except tomllib.TOMLDecodeError as error:
                expected, python_error = None, str(error)
            if "error" in view:
                kind = "agree (both refuse)" if python_error else "subset (agent refuses)"
                if not python_error:
                    refusals[reason(view["error"])] += 1
            elif python_error:
                kind = "MISREAD (agent accepts what tomllib refuses)"
                misreads.setdefault(re.sub(r"\(at .*", "", python_error), []).append(text)
            elif same(from_agent(view["ok"]), expected):
                kind = "agree (same values)"
            else:
                kind = "MISREAD (other values)"
                misreads.setdefault("other values", []).append(text)
            counts[kind] += 1
        done += len(texts)
    print(f"documents compared: {done} (seed {args.seed})")
    for kind, count in sorted(counts.items()):
        print(f"  {kind}: {count}")
    print("agent refusals of documents tomllib accepts, by reason:")
    for why, count in refusals.most_common():
        print(f"  {count:7d}  {why}")
    for why, texts in sorted(misreads.items()):
        print(f"MISREAD: {why}: {len(texts)} documents, e.g.")
        for text in texts[: args.show]:
            print("    " + repr(text))
    sys.exit(1 if misreads else 0)


if __name__ == "__main__":
    main()
