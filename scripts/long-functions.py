#!/usr/bin/env python3
"""Lists Swift functions and initializers longer than N lines (brace matching; strings folded).

Usage: scripts/long-functions.py 60 Aggregator Shared/Core   (issue #15: none over about 60 in the core)
"""
import re, sys, pathlib
limit = int(sys.argv[1]); paths = sys.argv[2:]
decl = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|mutating|nonisolated|override|final|package|consuming|borrowing|@inlinable|@usableFromInline)\s+)*(func\s+[^\s(<]+|init[?!]?|subscript|var\s+\w+\s*:[^=]*\{\s*$)')
for root in paths:
    for f in sorted(pathlib.Path(root).rglob('*.swift')):
        lines = f.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = decl.match(lines[i])
            if m:
                depth = 0; started = False; j = i
                while j < len(lines):
                    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', lines[j])
                    s = s.split('//')[0]
                    depth += s.count('{') - s.count('}')
                    if s.count('{'): started = True
                    if started and depth <= 0: break
                    j += 1
                n = j - i + 1
                if started and n > limit:
                    print(f"{n:4d} {f}:{i+1} {m.group(1)}")
                i += 1
            else:
                i += 1
