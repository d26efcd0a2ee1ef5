"""The desk in a real terminal with a Japanese font (issue 15): PNG screenshots of xterm under
Xvfb, with IPAGothic, once as xterm draws by default (ambiguous-width characters one cell) and
once with -cjk_width (two cells, as MS ゴシック in the Windows console does). In the second,
a character of ambiguous width in the desk's chrome overlaps its neighbour and pushes the rest
of the line right (a frame's right edge, a column).

Needs Xvfb, xterm, tmux, ImageMagick's import and fonts-ipafont-gothic (not in CI):
    apt-get install -y xvfb xterm fonts-ipafont-gothic x11-apps imagemagick tmux
    python bench/screenshots.py [--out DIR] [--tree DIR] [--size 80x24]
--tree: the working tree to run (e.g. an older commit unpacked with git archive, to compare).
Prints each PNG written, and says what is missing when a tool is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = ("Xvfb", "xterm", "tmux", "import", "convert")
FONT = "IPAGothic"
# (name, keys sent from the dashboard): each shot starts from a fresh dashboard
SHOTS = [
    ("dashboard", []),
    ("intake", ["C-n"]),
    ("roster", ["C-r"]),
    ("export", ["Enter", "p"]),
    ("response", ["o"]),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench-screenshots")
    ap.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--size", default="80x24")
    args = ap.parse_args()
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print("missing: " + ", ".join(missing) + " (apt-get install -y xvfb xterm fonts-ipafont-gothic "
              "x11-apps imagemagick tmux)")
        return 2
    if "IPAGothic" not in run(["fc-list"]).stdout.replace(" ", ""):
        print("missing: the IPAGothic font (apt-get install -y fonts-ipafont-gothic)")
        return 2
    cols, rows = (int(n) for n in args.size.split("x"))
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tree = Path(args.tree).resolve()
    work = Path(tempfile.mkdtemp(prefix="csirt-shots-"))
    store = work / "store"
    env = dict(os.environ, PYTHONPATH=str(tree), CSIRT_DESK_SETTINGS=str(work / "settings.json"),
               CSIRT_DESK_OPERATOR="試験 操作者")
    run([sys.executable, "-m", "csirt_tui", "--store", str(store), "demo"], env=env, cwd=tree)
    display = f":{70 + os.getpid() % 20}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    session = f"csirt-shots-{os.getpid()}"
    try:
        time.sleep(1.0)
        xenv = dict(env, DISPLAY=display)
        for cjk in (False, True):
            for name, keys in SHOTS:
                app = f"cd {tree} && {sys.executable} -m csirt_tui --store {store}"
                run(["tmux", "new-session", "-d", "-s", session, "-x", str(cols), "-y", str(rows), app], env=env)
                xterm = subprocess.Popen(
                    ["xterm", "-geometry", f"{cols}x{rows}+0+0", "-fa", FONT, "-fs", "11", "-bg", "gray20",
                     *(["-cjk_width"] if cjk else []), "-e", "tmux", "attach", "-t", session],
                    env=xenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    time.sleep(3.0)
                    for key in keys:
                        run(["tmux", "send-keys", "-t", session, key])
                        time.sleep(1.2)
                    time.sleep(1.0)
                    png = out / f"{name}-{cols}x{rows}{'-cjk' if cjk else ''}.png"
                    run(["import", "-display", display, "-window", "root", str(png)])
                    run(["convert", str(png), "-trim", "+repage", str(png)])
                    print(png)
                finally:
                    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
                    xterm.terminate()
                    xterm.wait(5)
    finally:
        xvfb.terminate()
        xvfb.wait(5)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
