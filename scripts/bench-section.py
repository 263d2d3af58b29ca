#!/usr/bin/env python3
"""Replaces the section between <!-- NAME:begin --> and <!-- NAME:end --> in BENCHMARKS.md
with the text on stdin (markers included in the text), or with the text of the file named by
the second argument; appends it when the markers are missing.

Hand-written notes survive a re-run: whatever the old section holds from a line
<!-- NAME:notes --> up to its end marker is put back before the new section's end marker
(unless the new text brings its own notes marker)."""
import sys

name = sys.argv[1]
block = (open(sys.argv[2]).read() if len(sys.argv) > 2 else sys.stdin.read()).rstrip("\n")
begin, end, notes = f"<!-- {name}:begin -->", f"<!-- {name}:end -->", f"<!-- {name}:notes -->"
try:
    text = open("BENCHMARKS.md").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if begin in text and end in text:
    old = text[text.index(begin) : text.index(end)]
    if notes in old and notes not in block and block.endswith(end):
        kept = old[old.index(notes) :].rstrip("\n")
        block = block[: -len(end)].rstrip("\n") + "\n\n" + kept + "\n" + end
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open("BENCHMARKS.md", "w").write(text if text.endswith("\n") else text + "\n")
