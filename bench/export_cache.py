"""The export cache's store (`podium.export.cache`) on the big series' mix of entries.

    .venv/bin/python bench/export_cache.py [--rounds 3] [--before SRC] [--churn 5000]

A first export of the big series (`bench/big.py --only export`) keeps 4,270 entries, 242 MB
of payload: 1,133 lines' speech (~200 KB each), 1,846 stretches' MP3 frames (~5 KB), 1,267
sketches (~4 KB), 12 episodes' stills (~700 KB) and 12 reads (~46 KB). Each round writes that
mix (random bytes, the kinds interleaved as an export puts them) into an empty cache folder,
prunes, then opens the cache again and reads every entry back, in a child process so each
figure is that process's own CPU (user + system: the kernel's file creation counts). With
`--churn N`, N files are created and removed in the same file system just before each round's
writes: a file system where many inodes were freed in the last minutes (as after removing an
earlier export's data folder) makes ext4 without a journal scan them at each file created.

`--before SRC` runs the same rounds on the podium sources in SRC (a `src` folder, e.g. of
`git worktree add /tmp/before HEAD~1`), alternating with this checkout. One JSON line a round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIX = {  # kind: (entries, mean payload bytes), as a first export of the big series keeps
    "speech": (1133, 203_500),
    "mp3": (1846, 5_470),
    "sketch": (1267, 3_770),
    "stills": (12, 688_800),
    "read": (12, 45_940),
}

_CHILD = """
import json, os, random, sys, time
from pathlib import Path
from podium.export.cache import Cache
folder, mix = Path(sys.argv[1]), json.loads(sys.argv[2])
rng = random.Random(20)
entries = [(kind, f"{n:064x}"[::-1], rng.randbytes(int(mean * rng.uniform(0.5, 1.5))))
           for kind, (count, mean) in mix.items() for n in range(count)]
rng.shuffle(entries)
def clock():
    t = os.times()
    return t.user + t.system, t.system, time.perf_counter()
a = clock()
cache = Cache(folder)
for kind, name, data in entries:
    cache.put(kind, name, data)
cache.prune()
b = clock()
cache = Cache(folder)
got = sum(cache.get(kind, name) == data for kind, name, data in entries)
cache.prune()
c = clock()
files = sum(1 for p in folder.rglob("*") if p.is_file())
payload_mb = round(sum(len(d) for *_, d in entries) / 2**20)
print(json.dumps({"entries": len(entries), "payload_mb": payload_mb,
                  "put_cpu_s": round(b[0] - a[0], 3), "put_sys_s": round(b[1] - a[1], 3),
                  "put_wall_s": round(b[2] - a[2], 3), "get_cpu_s": round(c[0] - b[0], 3),
                  "get_wall_s": round(c[2] - b[2], 3), "read_back": got, "files": files}))
"""


def churn(where: Path, count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="churn-", dir=where))
    for n in range(count):
        (folder / f"{n}").write_bytes(b"x")
    shutil.rmtree(folder)


def one(src: Path, where: Path, churned: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="export-cache-", dir=where))
    try:
        if churned:
            churn(where, churned)
        env = dict(os.environ, PYTHONPATH=str(src))
        mix = json.dumps(MIX)
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(folder / "cache"), mix],
            env=env, capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        return dict(json.loads(done.stdout))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--churn", type=int, default=0, help="files made and removed first")
    parser.add_argument("--where", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    trees = [("after", ROOT / "src")]
    if args.before is not None:
        trees.append(("before", args.before.resolve()))
    for n in range(args.rounds):
        for tree, src in trees if n % 2 == 0 else trees[::-1]:
            line = {"bench": "export_cache", "tree": tree, "round": n, "churn": args.churn}
            line.update(one(src, args.where, args.churn))
            line["load"] = round(os.getloadavg()[0], 1)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
