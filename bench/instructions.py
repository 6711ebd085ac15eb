"""Instructions per request of the in-process pages, counted by valgrind (callgrind), for comparing
two versions of the code on a machine whose timings swing by a third from one minute to the next.

    .venv/bin/python bench/instructions.py [page key ...]     # keys of bench/run.py's pages; default all

Each page runs in a process of its own under ``valgrind --tool=callgrind --instr-atstart=no``: the
app starts, the page is requested three times to warm up, then counting is switched on
(``callgrind_control -i on``) for five requests and off again. The count is of the CPU's
instructions, not seconds: the same code and data give the same figure (within about 1 %) whatever
else the machine is doing. It is a measure of the work done, not a budget (the budgets are in
milliseconds, measured by `make bench`); about 4.8 million instructions took a millisecond on the
benchmark machine. Uses the seeded SQLite database of `make bench` (bench/common.seeded_sqlite).
"""

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, run  # noqa: E402

REQUESTS = 5
WORKDIR = Path(tempfile.gettempdir()) / "smehn-instructions"


def measure_one(key):
    """In the child, under valgrind: warm up, count REQUESTS requests of ``key``."""
    import gc

    database = WORKDIR / "seed.db"
    app = common.make_app(f"sqlite:///{database}", WORKDIR / "seed-uploads")
    ctx = run.bench_context(app)
    from app.extensions import cache

    pages = {page[0]: page for page in run.pages(ctx) + run.more_pages(ctx)}
    _key, _label, path, who, headers = pages[key]
    client = app.test_client()
    if who:
        client.set_cookie(ctx["dev_cookie"], ctx[who], domain="localhost")
    for _ in range(3):
        client.get(path, headers=headers)
    gc.collect()
    gc.freeze()  # as gunicorn's pre_fork does
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], capture_output=True, check=True)
    for _ in range(REQUESTS):
        with app.app_context():
            cache.clear()  # an anonymous page's miss, as bench/run.py's in-process figures
        response = client.get(path, headers=headers)
    subprocess.run([*switch, "off", str(os.getpid())], capture_output=True, check=True)
    if response.status_code != 200:
        sys.exit(f"{path}: HTTP {response.status_code}")


def count(key):
    out = WORKDIR / f"{key}.callgrind"
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            key,
        ],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode or not found:
        return key, None, result.stderr[-2000:]
    return key, int(found.group(1)) / REQUESTS, ""


def main(keys):
    WORKDIR.mkdir(exist_ok=True)
    if not (WORKDIR / "seed.db").exists():
        common.seeded_sqlite(WORKDIR, "seed", run.INSTITUTIONS, run.MONTHS)
    if not keys:  # every page bench/run.py measures (the ids only shape the paths, unused here)
        ids = {"approved_report": 0, "draft_report": 0, "submitted_report": 0}
        keys = [page[0] for page in run.pages(ids) + run.more_pages(ids)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for key, per_request, error in pool.map(count, keys):
            if per_request is None:
                print(f"{key}: failed\n{error}", file=sys.stderr)
                continue
            print(f"{key:20s} {per_request / 1e6:8.2f} million instructions per request", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        measure_one(sys.argv[2])
    else:
        main(sys.argv[1:])
