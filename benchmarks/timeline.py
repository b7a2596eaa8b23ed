"""Benchmark: a project's month, replayed: what every job fetches, restores, uploads and waits
for, through lock changes, for each way of caching, side by side in one run.

    uv run --group bench python -m benchmarks.timeline [--set small] [--cache-mbps 100] [--index-mbps 50]

The month (``MONTH``): merge-request pipelines on branches and pipelines on main after each
merge, three Renovate-style lock changes (a bump, a security fix, a new dependency), two
source-only changes, and a tag. Before the month, one pipeline on main and one on a branch
warm both sides of the protected/unprotected split, as a project a month old has them.

Variants, each its own project of the same dependency set (benchmarks/pipeline_cache.py):

- the template (one stable key per job; uv_cache.py forgets what the lock dropped);
- the template's last release, v0.3.0 (keys hashed from ``uv.lock``: the earlier design);
- the source article's pipeline and uv's GitLab guide (benchmarks/pipelines/).

Each job runs alone in gitlab-ci-local (shell executor, the job's own uv cache, which the
emulator stores and restores by key) and reaches the index through benchmarks/index_meter.py,
so the bytes fetched are counted, not estimated. A restore is priced the way a runner pays
it: the archive in the variant's format (benchmarks/cache_archives.py) at ``--cache-mbps``,
then its extraction; downloads measured at this machine's index speed are priced again at
``--index-mbps``. gitlab-ci-local has no ``fallback_keys``; no variant here uses them.

The floor of a job: only the wheels its install needs that its own cache side's previous
pipeline did not (the changed packages), fetched at the index bandwidth, and the rest restored
at the cache bandwidth as a plain copy. The split is kept in the floor: a merge request's
cache may not feed main's (README.md, "CI").

Then the image job, the same month with real buildah (``--image``): each build in a fresh
storage (a runner's new container), the base images from Distribution's registry on
loopback; before (no layer cache, as the job was) against now (``--layers``, ``--cache-from``
the project's registry, ``--cache-to`` on protected refs only).

Results: a table on stdout, ``benchmarks/timeline.json`` and ``benchmarks/timeline.png``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks import cache_archives as ca
from benchmarks.index_meter import IndexMeter
from benchmarks.pipeline_cache import (
    DEPENDENCY_SETS,
    RESTORED,
    THREADS,
    UV_STEP,
    Prices,
    Variant,
    local_index_mbps,
    prepare_project,
    wheel_sizes,
    write_report,
)
from tests.kit import (
    DISTRIBUTION,
    PACKAGE,
    SAVED_CACHE,
    cache_dirs,
    commit_all,
    run,
    run_pipeline,
    snapshot_template,
    use_test_environment,
)

HERE = Path(__file__).resolve().parent
# Renovate's kind of change needs an older version to start from: the month opens with these.
# numpy: a bump of the set's biggest wheel; idna 3.6: CVE-2024-3651, fixed in 3.7.
OLDER = {"numpy": "2.5.4", "idna": "3.6"}
VERSION = re.compile(r"^(\S+)\s+>\s+\+ ([A-Za-z0-9._-]+)==(\S+)", re.MULTILINE)


# ---------------------------------------------------------------- the month


def change_source(project: Path) -> None:
    """A change of the code alone (the tests still pass): a comment more."""
    greeting = project / "src" / PACKAGE / "greeting.py"
    greeting.write_text(greeting.read_text() + "\n\n# A change of the month.\n")


CHANGES: dict[str, Callable[[Path], object]] = {
    "source": change_source,
    "bump": lambda project: run(["uv", "lock", "--quiet", "--upgrade-package", "numpy"], project),
    "security fix": lambda project: run(["uv", "lock", "--quiet", "--upgrade-package", "idna"], project),
    "new dependency": lambda project: run(["uv", "add", "--quiet", "tomli-w"], project),
}


@dataclass(frozen=True)
class Event:
    name: str
    ref: str  # "main", "branch" (a merge request's) or "tag"
    change: str = ""  # a key of CHANGES, made on the branch; main's pipeline after the merge runs it

    @property
    def protected(self) -> bool:
        return self.ref != "branch"


WARM_UP = [Event("before the month", "main"), Event("before the month", "branch")]
MONTH = [
    Event("feature", "branch", "source"),
    Event("merged", "main"),
    Event("Renovate: bump", "branch", "bump"),
    Event("merged", "main"),
    Event("Renovate: security fix", "branch", "security fix"),
    Event("merged", "main"),
    Event("uv add", "branch", "new dependency"),
    Event("merged", "main"),
    Event("feature", "branch", "source"),
    Event("merged", "main"),
    Event("release", "tag"),
]


VARIANTS = [
    Variant("template", {"type_checker": "none"}, jobs=("lint", "secrets", "test")),
    Variant("template v0.3.0 (lock-keyed)", {"type_checker": "none"}, release="v0.3.0"),
    Variant("article", pipeline="article.gitlab-ci.yml", jobs=("uv-cache", "lint", "test")),
    Variant("uv guide", pipeline="uv-guide.gitlab-ci.yml"),
]


# ---------------------------------------------------------------- pricing (tests/test_benchmarks.py)


Wheels = set[tuple[str, str]]  # (package, version)


def floor(needed: Wheels, before: Wheels, sizes: dict[tuple[str, str], int], prices: Prices) -> tuple[int, float]:
    """A job's floor: the bytes of the wheels its install needs that its cache side's previous
    pipeline did not, fetched at the index bandwidth; the rest restored at the cache
    bandwidth (wheels are compressed already). Its bytes fetched and its ready seconds."""
    fetched = sum(sizes.get(wheel, 0) for wheel in needed - before)
    restored = sum(sizes.get(wheel, 0) for wheel in needed & before)
    return fetched, fetched / (prices.index_mbps * 1e6) + restored / (prices.cache_mbps * 1e6)


# ---------------------------------------------------------------- measuring


@dataclass
class Stored:
    """One cache content, in the variant's format: its archive bytes and how long it takes to
    write and to extract."""

    bytes: int
    write_s: float
    extract_s: float


@dataclass
class JobRecord:
    event: str
    ref: str
    job: str
    fetched_bytes: int
    fetched: int  # packages uv prepared (downloaded or built)
    install_s: float
    restored_bytes: int
    uploaded_bytes: int
    ready_s: float
    floor_bytes: int
    floor_ready_s: float


def content_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in ca.entries(folder):
        size = 0 if path.is_symlink() else path.stat().st_size
        digest.update(f"{path.relative_to(folder)}\0{size}\0".encode())
    return digest.hexdigest()


class Archives:
    """What each cache content costs, measured once per content."""

    def __init__(self, work: Path, fmt: ca.Format) -> None:
        self.work, self.fmt, self.known = work, fmt, {}

    def measure(self, folder: Path) -> tuple[str, Stored]:
        digest = content_digest(folder)
        if digest not in self.known:
            archive, target = self.work / "cache.archive", self.work / "extracted"
            write_s = ca.write(folder, archive, self.fmt, THREADS)
            extract_s = ca.extract(archive, target, self.fmt, THREADS)
            shutil.rmtree(target)
            self.known[digest] = Stored(archive.stat().st_size, write_s, extract_s)
            archive.unlink()
        return digest, self.known[digest]


def locked_wheel_sizes(lock: Path) -> dict[tuple[str, str], int]:
    """Bytes of the wheel the jobs' Python fetches, by (package, version) of ``lock``."""
    versions = {p["name"]: p.get("version", "") for p in tomllib.loads(lock.read_text())["package"]}
    return {(name, versions[name]): size for name, (size, _) in wheel_sizes(lock).items()}


def run_job(project: Path, job: str, event: Event, meter: IndexMeter) -> tuple[str, int]:
    """One job of the event's pipeline, alone; its output and the bytes it fetched."""
    extra = [arg for name, value in meter.env().items() for arg in ("--variable", f"{name}={value}")]
    if event.ref == "tag":
        extra += ["--variable", "CI_COMMIT_TAG=v0.2.0"]
    with meter.counting() as fetched:
        output = run_pipeline(project, *extra, jobs=(job,), protected=event.protected, uv_cache="job").stdout
    return output, fetched[0]


def replay(project: Path, variant: Variant, archives: Archives, meter: IndexMeter, prices: Prices) -> list[JobRecord]:
    sizes: dict[tuple[str, str], int] = {}
    needed_before: dict[tuple[bool, str], set[tuple[str, str]]] = {}
    records = []
    for index, event in enumerate([*WARM_UP, *MONTH]):
        if event.change:
            CHANGES[event.change](project)
            commit_all(project, f"{event.name}: {event.change}")
        sizes |= locked_wheel_sizes(project / "uv.lock")
        for job in variant.jobs:
            before = {key: archives.measure(folder) for key, folder in cache_dirs(project).items()}
            output, fetched_bytes = run_job(project, job, event, meter)
            after = {key: archives.measure(folder) for key, folder in cache_dirs(project).items()}
            restored = [before[key][1] for _, key in RESTORED.findall(output) if key in before]
            uploaded = [
                after[key][1] for _, key in SAVED_CACHE.findall(output) if after[key][0] != before.get(key, ("",))[0]
            ]
            install_s = sum(float(v) / (1000 if unit == "ms" else 1) for _, _, _, v, unit in UV_STEP.findall(output))
            fetched = sum(int(n) for _, step, n, _, _ in UV_STEP.findall(output) if step == "Prepared")
            needed = {(name, version) for _, name, version in VERSION.findall(output) if name != DISTRIBUTION}
            side = (event.protected, job)
            floor_fetched, floor_ready = floor(needed, needed_before.get(side, set()), sizes, prices)
            needed_before[side] = needed
            if index < len(WARM_UP):
                continue
            restore = sum(prices.restore(s.bytes, s.extract_s) for s in restored)
            records.append(
                JobRecord(
                    event=event.name,
                    ref=event.ref,
                    job=job,
                    fetched_bytes=fetched_bytes,
                    fetched=fetched,
                    install_s=install_s,
                    restored_bytes=sum(s.bytes for s in restored),
                    uploaded_bytes=sum(s.bytes for s in uploaded),
                    ready_s=restore + prices.priced(install_s, fetched_bytes),
                    floor_bytes=floor_fetched,
                    floor_ready_s=floor_ready,
                )
            )
    return records


def month_project(template: Path, work: Path, deps: list[str], variant: Variant) -> Path:
    """The variant's project as the month finds it: the set locked, with the older versions
    Renovate will move."""
    work.mkdir(parents=True, exist_ok=True)
    project = prepare_project(template, work, deps, variant)
    # `uv add` wrote a lower bound at the newest version: a range the older version is in.
    run(["uv", "add", "--quiet", "--no-sync", *(f"{n}>={v}" for n, v in OLDER.items() if n in deps)], project)
    pins = [arg for name, version in OLDER.items() for arg in ("--upgrade-package", f"{name}=={version}")]
    run(["uv", "lock", "--quiet", *pins], project)
    return commit_all(project, "the month starts: some versions behind")


# ---------------------------------------------------------------- the image job


@dataclass
class ImageRecord:
    event: str
    ref: str
    variant: str
    seconds: float  # measured
    ready_s: float  # its downloads priced again at the index bandwidth
    installed: int
    fetched_bytes: int


def image_month(project: Path, work: Path, meter: IndexMeter, prices: Prices, driver: str) -> list[ImageRecord]:
    """Each event's image job, before (no layer cache) and now (the registry's layer cache)."""
    from tests.servers import serving_registry  # noqa: PLC0415 (only this part needs them)
    from tests.test_docker import Buildah, base_images, build  # noqa: PLC0415

    os.environ.update(meter.env())  # buildah passes the proxy variables on to each RUN step
    (work / "base").mkdir(parents=True)
    base = Buildah(work / "base")
    records = []
    try:
        local = base_images(base)
        with serving_registry(work / "registry") as registry:
            pulled = {}
            for name, ref in local.items():
                pulled[name] = f"{registry}/{ref.removeprefix('localhost/')}"
                base("push", "--quiet", "--tls-verify=false", ref, f"docker://{pulled[name]}")
            cache = f"{registry}/acme/payments/build-cache"
            for index, event in enumerate([WARM_UP[0], *MONTH]):
                if event.change:
                    CHANGES[event.change](project)
                    commit_all(project, f"{event.name}: {event.change}")
                now = ["--cache-from", cache, *(["--cache-to", cache] if event.protected else [])]
                for name, flags, layers in (("before", [], False), ("now", now, True)):
                    if index == 0 and name == "before":
                        continue
                    root = work / f"job-{index}-{name}"
                    root.mkdir()
                    buildah = Buildah(root, driver)
                    try:
                        with meter.counting() as fetched:
                            started = time.monotonic()
                            log = build(buildah, project, pulled, "app", "--tls-verify=false", *flags, layers=layers)
                            seconds = time.monotonic() - started
                    finally:
                        buildah.remove()
                    if index == 0:
                        continue  # main's build before the month: it wrote the cache
                    installed = sum(int(n) for n in re.findall(r"Installed (\d+) packages?", log))
                    ready = prices.priced(seconds, fetched[0])
                    records.append(ImageRecord(event.name, event.ref, name, seconds, ready, installed, fetched[0]))
                    print(f"  image {event.name} ({event.ref}) {name}: {seconds:.1f} s, {installed} installed")
    finally:
        base.remove()
    return records


# ---------------------------------------------------------------- report


def totals(records: list[JobRecord]) -> dict[str, float]:
    fetched = sum(r.fetched_bytes for r in records)
    floor_ = sum(r.floor_bytes for r in records)
    return {
        "fetched_mb": fetched / 1e6,
        "floor_mb": floor_ / 1e6,
        "fetched_over_floor": fetched / floor_ if floor_ else float("inf"),
        "restored_mb": sum(r.restored_bytes for r in records) / 1e6,
        "uploaded_mb": sum(r.uploaded_bytes for r in records) / 1e6,
        "ready_s": sum(r.ready_s for r in records),
        "floor_ready_s": sum(r.floor_ready_s for r in records),
    }


def ready_at(records: list[JobRecord], stated_mbps: float, index_mbps: float) -> tuple[float, float]:
    """The month's ready seconds and its floor's, with the index at ``index_mbps`` instead of
    the ``stated_mbps`` they were priced at (each job's fetched bytes priced again)."""

    def again(seconds: float, fetched: int) -> float:
        return seconds - fetched / (stated_mbps * 1e6) + fetched / (index_mbps * 1e6)

    return (
        sum(again(r.ready_s, r.fetched_bytes) for r in records),
        sum(again(r.floor_ready_s, r.floor_bytes) for r in records),
    )


SLOW_INDEX_MBPS = 10  # a runner far from its index, or a rate-limited private one


def month_table(results: dict[str, list[JobRecord]], stated_mbps: float) -> str:
    slow = SLOW_INDEX_MBPS
    rows = [
        "| variant | fetched MB | floor MB | x floor | restored MB | uploaded MB "
        f"| ready s (floor), index {stated_mbps:.0f} MB/s | ready s (floor), index {slow} MB/s |"
    ]
    rows.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, records in results.items():
        t = totals(records)
        ready, floor_ = ready_at(records, stated_mbps, slow)
        rows.append(
            f"| {name} | {t['fetched_mb']:.1f} | {t['floor_mb']:.1f} | {t['fetched_over_floor']:.2f} "
            f"| {t['restored_mb']:.0f} | {t['uploaded_mb']:.0f} | {t['ready_s']:.1f} ({t['floor_ready_s']:.1f}) "
            f"| {ready:.1f} ({floor_:.1f}) |"
        )
    return "\n".join(rows)


def events_table(records: list[JobRecord]) -> str:
    """Per pipeline and job: MB fetched against the floor's, and ready seconds against it."""
    jobs = list(dict.fromkeys(r.job for r in records))
    rows = ["| pipeline | " + " | ".join(f"{job}: MB fetched (floor), up / s ready (floor)" for job in jobs) + " |"]
    rows.append("|---|" + "---:|" * len(jobs))
    by_event: dict[tuple[int, str], dict[str, JobRecord]] = {}
    for index, record in enumerate(records):
        by_event.setdefault((index // len(jobs), f"{record.event} ({record.ref})"), {})[record.job] = record
    for (_, label), jobs_of in by_event.items():
        cells = [
            f"{r.fetched_bytes / 1e6:.2f} ({r.floor_bytes / 1e6:.2f}), {r.uploaded_bytes / 1e6:.0f} "
            f"/ {r.ready_s:.2f} ({r.floor_ready_s:.2f})"
            for r in (jobs_of[job] for job in jobs)
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def image_table(records: list[ImageRecord]) -> str:
    rows = ["| pipeline | before: s (ready s) | now: s (ready s) | now: installed | now: MB fetched | speedup |"]
    rows.append("|---|---:|---:|---:|---:|---:|")
    pairs: dict[int, dict[str, ImageRecord]] = {}
    for index, record in enumerate(records):
        pairs.setdefault(index // 2, {})[record.variant] = record
    for pair in pairs.values():
        before, now = pair["before"], pair["now"]
        rows.append(
            f"| {now.event} ({now.ref}) | {before.seconds:.1f} ({before.ready_s:.1f}) | {now.seconds:.1f} "
            f"({now.ready_s:.1f}) | {now.installed} | {now.fetched_bytes / 1e6:.1f} "
            f"| {before.ready_s / now.ready_s:.1f}x |"
        )
    return "\n".join(rows)


def slowest(records: list[dict], field: str) -> list[float]:
    """Per pipeline (the records of one event, in order), its slowest job's ``field``."""
    pipelines: dict[tuple[str, str, int], float] = {}
    event = -1
    for index, record in enumerate(records):
        if index == 0 or record["job"] == records[0]["job"]:
            event += 1
        key = (record["event"], record["ref"], event)
        pipelines[key] = max(pipelines.get(key, 0.0), record[field])
    return list(pipelines.values())


def chart(report: dict, path: Path) -> None:
    import matplotlib  # noqa: PLC0415 (the bench group's)

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    variants, image = report.get("variants", {}), report.get("image", {}).get("records", [])
    panels = (2 if variants else 0) + (1 if image else 0)
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    axes = list(axes[0])
    if variants:
        left, right = axes.pop(0), axes.pop(0)
        names = list(variants)
        left.barh(names, [variants[n]["totals"]["fetched_mb"] for n in names], color="#1565c0", label="fetched")
        left.barh(names, [variants[n]["totals"]["floor_mb"] for n in names], color="black", height=0.3, label="floor")
        left.set_xscale("log")
        left.set_xlim(left=0.1)
        left.set_xlabel(f"MB fetched from the index over the month ({report['set']} set, log)")
        left.invert_yaxis()
        left.legend()
        for name in names:
            right.plot(slowest(variants[name]["records"], "ready_s"), marker=".", label=name)
        floor_ready = slowest(variants[names[0]]["records"], "floor_ready_s")
        right.plot(floor_ready, color="black", linestyle=":", label=f"floor ({names[0]})")
        right.set_xlabel("pipelines of the month, in order")
        right.set_ylabel(f"slowest job's ready s (index {report['index_mbps']:.0f} MB/s)")
        right.legend(fontsize="small")
    if image:
        ax = axes.pop(0)
        for variant, color in (("before", "#c62828"), ("now", "#2e7d32")):
            ready = [r["ready_s"] for r in image if r["variant"] == variant]
            ax.plot(ready, marker="o", color=color, label=variant)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("image job builds of the month, in order")
        ax.set_ylabel(f"image job s, {report['image']['driver']} storage (index {report['index_mbps']:.0f} MB/s)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def replay_variant(variant: Variant, work: Path, deps: list[str], meter: IndexMeter, prices: Prices) -> list[JobRecord]:
    """The month of one variant, in its own project, from its template (the work tree's, in
    ``work / "template"``, or its release's)."""
    release = variant.release
    template = work / f"template-{release}" if release else work / "template"
    if not template.exists():
        snapshot_template(template, release)
    project = month_project(template, work / "projects" / re.sub(r"\W+", "-", variant.name), deps, variant)
    fmt = next(f for f in (*ca.FORMATS, ca.PLAIN_ZIP) if f.name == variant.archive)  # the format its caches travel in
    (work / "archives").mkdir(exist_ok=True)
    records = replay(project, variant, Archives(work / "archives", fmt), meter, prices)
    print(f"  {totals(records)}", flush=True)
    return records


def report_again(path: Path) -> int:
    """The tables and the chart of a timeline.json again, without measuring."""
    report = json.loads(path.read_text())
    results = {name: [JobRecord(**r) for r in v["records"]] for name, v in report["variants"].items()}
    report["month_table"] = month_table(results, report["index_mbps"])
    report["events_table"] = events_table(next(iter(results.values()), []))
    if "image" in report:
        report["image_table"] = image_table([ImageRecord(**r) for r in report["image"]["records"]])
    print(report["month_table"], report["events_table"], report.get("image_table", ""), sep="\n\n")
    write_report(report, path, path.with_suffix(".png"), chart)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="small", choices=list(DEPENDENCY_SETS))
    parser.add_argument("--cache-mbps", type=float, default=100.0, help="cache storage bandwidth, MB/s (stated)")
    parser.add_argument("--index-mbps", type=float, default=50.0, help="package index bandwidth, MB/s (stated)")
    parser.add_argument("--image", action="store_true", help="replay the image job too (real buildah)")
    parser.add_argument("--driver", default="vfs", help="buildah's storage driver (the job's: vfs)")
    parser.add_argument("--variants", nargs="*", default=[v.name for v in VARIANTS], help="which ones")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--report", type=Path, help="print the tables and draw the chart of this timeline.json again")
    args = parser.parse_args()
    if args.report:
        return report_again(args.report)
    use_test_environment()
    deps = DEPENDENCY_SETS[args.set]
    tmp_root = "/dev/shm" if Path("/dev/shm").is_dir() else None
    report: dict = {"set": args.set, "deps": deps, "cache_mbps": args.cache_mbps, "index_mbps": args.index_mbps}
    results: dict[str, list[JobRecord]] = {}
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp, IndexMeter() as meter:
        work = Path(tmp)
        probe = month_project(snapshot_template(work / "template"), work / "probe", deps, VARIANTS[0])
        urls = [url for _, url in wheel_sizes(probe / "uv.lock").values()]
        prices = Prices(args.cache_mbps, args.index_mbps, local_index_mbps(urls))
        report["local_index_mbps"] = prices.local_mbps
        for variant in (v for v in VARIANTS if v.name in args.variants):
            print(f"[{args.set}] {variant.name} ...", flush=True)
            results[variant.name] = replay_variant(variant, work, deps, meter, prices)
        report["variants"] = {
            name: {"totals": totals(records), "records": [asdict(r) for r in records]}
            for name, records in results.items()
        }
        report["month_table"] = month_table(results, args.index_mbps)
        report["events_table"] = events_table(next(iter(results.values()), []))
        print(f"\nThe month, dependency set {args.set!r} ({', '.join(deps)}); cache {args.cache_mbps:.0f} MB/s and")
        print(f"index {args.index_mbps:.0f} MB/s stated, this machine's index {prices.local_mbps:.0f} MB/s measured:\n")
        print(report["month_table"])
        print(f"\n{next(iter(results), '')}, each pipeline of the month:\n")
        print(report["events_table"])
        if args.image:
            print("\nThe image job ...", flush=True)
            project = month_project(work / "template", work / "projects" / "image", deps, VARIANTS[0])
            images = image_month(project, work / "image-jobs", meter, prices, args.driver)
            report["image"] = {"driver": args.driver, "records": [asdict(r) for r in images]}
            report["image_table"] = image_table(images)
            print(f"\nThe image job (buildah, {args.driver} storage, fresh each build):\n")
            print(report["image_table"])
    write_report(report, args.out / "timeline.json", args.out / "timeline.png", chart)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
