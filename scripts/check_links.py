"""Fails on a relative link in the repository's Markdown that points at nothing.

Usage: python3 scripts/check_links.py [file.md ...]   (default: every tracked *.md)
A link is relative when it has no scheme and is not an anchor (`#...`) or `mailto:`; it is
resolved against the linking file's folder, its `#anchor` dropped.
"""

import os
import re
import subprocess
import sys

LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def broken_links(path):
    base = os.path.dirname(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Code spans and fenced blocks hold examples, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        file = target.split("#", 1)[0]
        if file and not os.path.exists(os.path.normpath(os.path.join(base, file))):
            yield target


def main(argv):
    files = argv or subprocess.run(["git", "ls-files", "*.md"], capture_output=True, text=True, check=True).stdout.split()
    bad = [(f, t) for f in files for t in broken_links(f)]
    for f, t in bad:
        print(f"{f}: link to {t} points at nothing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
