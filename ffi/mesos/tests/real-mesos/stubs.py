#!/usr/bin/env python3
"""Writes stub libraries for what Mesos 1.11's official build imports from
libraries Debian no longer ships (OpenSSL 1.0.x, libcurl with CURL_OPENSSL_3).

    stubs.py LIBMESOS OUTDIR

For each such library the binary names (readelf -V), it writes OUTDIR/<soname>.c
with one function per symbol the binary imports from it, each printing its
name and aborting, and OUTDIR/<soname>.map, a version script defining exactly
the version nodes the binary asks for. Nothing is copied from those projects:
the names come from the binary itself. With libprocess SSL off and no fetcher
use, no stub is ever called; if one is, the process aborts loudly.
"""
import os
import re
import subprocess
import sys

STUBBED = ("libssl.so.1.0.0", "libcrypto.so.1.0.0", "libcurl.so.4")


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True,
                          capture_output=True, text=True).stdout


def main():
    lib, out = sys.argv[1:3]
    # Version needs: index -> (file, node).
    needs, current = {}, None
    for line in readelf("-V", lib).splitlines():
        m = re.search(r"File: (\S+)\s+Cnt:", line)
        if m:
            current = m.group(1)
            continue
        m = re.search(r"Name: (\S+)\s+Flags: \S+\s+Version: (\d+)", line)
        if m and current:
            needs[int(m.group(2))] = (current, m.group(1))
    # Undefined dynamic symbols with their version index.
    symbols = {}
    for line in readelf("--dyn-syms", lib).splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[6] != "UND":
            continue
        m = re.match(r"([^@\s]+)@(\S+) \((\d+)\)", " ".join(parts[7:]))
        if not m:
            continue
        need = needs.get(int(m.group(3)))
        if need and need[0] in STUBBED:
            symbols.setdefault(need[0], {}).setdefault(need[1], set()).add(m.group(1))
    os.makedirs(out, exist_ok=True)
    for soname in STUBBED:
        nodes = symbols.get(soname, {})
        with open(os.path.join(out, soname + ".c"), "w") as c:
            c.write("#include <stdio.h>\n#include <stdlib.h>\n")
            for node in sorted(nodes):
                for name in sorted(nodes[node]):
                    c.write(f'void {name}(void) {{ fprintf(stderr, "stub {soname}: {name} called\\n"); abort(); }}\n')
        with open(os.path.join(out, soname + ".map"), "w") as v:
            previous = None
            for node in sorted(nodes):
                names = "".join(f" {n};" for n in sorted(nodes[node]))
                v.write(f"{node} {{ global:{names} }}{(' ' + previous) if previous else ''};\n")
                previous = node
        print(f"{soname}: {sum(len(n) for n in nodes.values())} symbols in {len(nodes)} version nodes")


if __name__ == "__main__":
    main()
