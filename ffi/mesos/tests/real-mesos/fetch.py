#!/usr/bin/env python3
"""Downloads one file of a project from the Python package index pip uses.

    fetch.py PROJECT FILENAME DEST

The index is the one pip is configured with (PIP_INDEX_URL, pip's config, or
pip's own default), so no host is named here. The file's address comes from
the index's simple page, and its sha256 (given there as the link's fragment)
is checked before DEST is written. Used for artefacts pip itself refuses to
install (a "dumb" binary tarball, a source package we only unpack).
"""
import hashlib
import html.parser
import os
import subprocess
import sys
import urllib.parse
import urllib.request


def index_url():
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env
    got = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True, text=True)
    if got.returncode == 0 and got.stdout.strip():
        return got.stdout.strip()
    from pip._internal.models.index import PyPI  # pip's own default
    return PyPI.simple_url


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self._href = {}, None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data):
        if self._href is not None:
            self.links[data.strip()] = self._href
            self._href = None


def main():
    project, filename, dest = sys.argv[1:4]
    base = index_url().rstrip("/") + "/" + project + "/"
    page = Links()
    page.feed(urllib.request.urlopen(base, timeout=120).read().decode())
    href = page.links.get(filename)
    if href is None:
        sys.exit(f"fetch.py: {filename} is not listed on the index page of {project}")
    url = urllib.parse.urljoin(base, href)
    fragment = urllib.parse.urlparse(url).fragment
    if not fragment.startswith("sha256="):
        sys.exit(f"fetch.py: the index gives no sha256 for {filename}")
    data = urllib.request.urlopen(url.split("#")[0], timeout=600).read()
    if hashlib.sha256(data).hexdigest() != fragment[len("sha256="):]:
        sys.exit(f"fetch.py: sha256 mismatch for {filename}")
    tmp = dest + ".part"
    with open(tmp, "wb") as out:
        out.write(data)
    os.replace(tmp, dest)
    print(f"fetched {filename} ({len(data)} bytes, sha256 checked)")


if __name__ == "__main__":
    main()
