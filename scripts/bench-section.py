#!/usr/bin/env python3
"""Replaces the section between <!-- NAME:begin --> and <!-- NAME:end --> in BENCHMARKS.md
with the text on stdin (markers included in the text); appends it when the markers are missing."""
import sys

name = sys.argv[1]
block = sys.stdin.read().rstrip("\n")
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
try:
    text = open("BENCHMARKS.md").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open("BENCHMARKS.md", "w").write(text)
