"""Build hook: fetch the web front end's third-party libraries with npm when the package is built.

``evidencegraph serve`` ships YASGUI (``@zazuko/yasgui``, the SPARQL editor
Oxigraph and Fuseki use) and Cytoscape.js (graph pictures) from the package
itself, never from a CDN.  They are not committed: this hook runs
``npm ci`` on ``web/package.json`` + ``web/package-lock.json`` (pinned
versions) and copies the built files, their licences and the notices of
everything bundled into them to ``src/evidencegraph/_web/vendor/`` (git
ignores it), which the wheel includes.  An editable install (``pip install
-e .``) runs it too and the files stay in the source tree.

Without npm (or with ``EVIDENCEGRAPH_NO_NPM=1``) the build goes on with a
warning and the server's query page is a plain editor that says so.  To
fetch the files by hand in a checkout: ``python hatch_build.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
VENDOR = ROOT / "src" / "evidencegraph" / "_web" / "vendor"
WORK = ROOT / "build" / "web"

# what is served, from which package
FILES = {
    "yasgui.min.js": ("@zazuko/yasgui", "build/yasgui.min.js"),
    "yasgui.min.css": ("@zazuko/yasgui", "build/yasgui.min.css"),
    "cytoscape.min.js": ("cytoscape", "dist/cytoscape.min.js"),
}
STAMP = "versions.json"
MIT = """Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def wanted() -> dict[str, str]:
    """The pinned versions (web/package-lock.json) of every package installed, by name."""
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    return {path.removeprefix("node_modules/"): info["version"]
            for path, info in lock.get("packages", {}).items() if path and "version" in info}


def up_to_date() -> bool:
    stamp = VENDOR / STAMP
    if not stamp.exists() or not all((VENDOR / f).exists() for f in FILES):
        return False
    try:
        return bool(json.loads(stamp.read_text(encoding="utf-8")) == wanted())
    except ValueError:
        return False


def fetch(say: Any = print) -> bool:
    """Install the pinned packages with npm and copy what is served; False (with a message) when it cannot."""
    if os.environ.get("EVIDENCEGRAPH_NO_NPM"):
        say("EVIDENCEGRAPH_NO_NPM is set: building without YASGUI and Cytoscape (plain query page, no pictures)")
        return False
    if up_to_date():
        return True
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: building without YASGUI and Cytoscape (the query page is a plain editor, no pictures); "
            "install Node.js and npm, then rebuild or run: python hatch_build.py")
        return False
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(WEB / name, WORK / name)
    try:
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=WORK, check=True, stdout=subprocess.DEVNULL, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        say(f"npm ci failed ({e}): building without YASGUI and Cytoscape; rebuild or run: python hatch_build.py")
        return False
    modules = WORK / "node_modules"
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    for target, (package, path) in FILES.items():
        shutil.copy2(modules / package / path, VENDOR / target)
    (VENDOR / "THIRD-PARTY-NOTICES.txt").write_text(notices(modules), encoding="utf-8")
    (VENDOR / STAMP).write_text(json.dumps(wanted(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return True


def notices(modules: Path) -> str:
    """The licence of every npm package installed (YASGUI's bundle holds its dependencies)."""
    parts = ["Third-party software served by evidencegraph (src/evidencegraph/_web/vendor/).\n"
             "yasgui.min.js and yasgui.min.css are @zazuko/yasgui's build, which bundles the packages below;\n"
             "cytoscape.min.js is Cytoscape.js.  Each package's licence follows.\n"]
    for package_json in sorted(modules.glob("**/package.json")):
        folder = package_json.parent
        if folder.parent.name != "node_modules" and folder.parent.parent.name != "node_modules":
            continue
        try:
            info = json.loads(package_json.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if "name" not in info or "version" not in info:
            continue
        licence = info.get("license") or info.get("licenses") or "see the package"
        texts = [p for p in sorted(folder.iterdir()) if p.name.upper().startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE"))]
        body = "\n".join(p.read_text(encoding="utf-8", errors="replace").strip() for p in texts if p.is_file())
        if not body and licence == "MIT":
            author = info.get("author")
            who = author.get("name") if isinstance(author, dict) else author
            body = (f"MIT License (the package ships no licence file; this is the MIT text"
                    f"{', author: ' + str(who) if who else ''})\n\n{MIT}")
        parts.append(f"{'=' * 78}\n{info['name']} {info['version']} ({licence})\n"
                     f"{info.get('homepage') or ''}\n\n{body}\n")
    return "\n".join(parts)


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, without hatchling
    BuildHookInterface = object  # type: ignore[assignment,misc]


class WebAssetsHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Fetch the web assets (see the module's docstring) and include them in the wheel."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if fetch(self.app.display_warning) and version != "editable":  # an editable install reads src/ itself
            build_data["force_include"][str(VENDOR)] = "evidencegraph/_web/vendor"


if __name__ == "__main__":
    sys.exit(0 if fetch() else 1)
