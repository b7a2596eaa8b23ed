"""Benchmark: what each job of a pipeline moves and waits for, for every way of caching Python
dependencies in GitLab CI, side by side in one run.

    uv run --group bench python -m benchmarks.pipeline_cache [--warm-runs 3] [--cache-mbps 100]

Variants (each runs the same project's lint and test with gitlab-ci-local, shell executor,
each job in its own copy of the project, on tmpfs when /dev/shm exists):

- this template with ``keep-wheels`` (its default) and with ``prune``, per-job caches;
- the source article's pipeline (benchmarks/pipelines/article.gitlab-ci.yml);
- uv's GitLab guide (benchmarks/pipelines/uv-guide.gitlab-ci.yml);
- GitLab's classic pip + venv style (benchmarks/pipelines/pip-venv.gitlab-ci.yml);
- the floor: one ready venv restored by every job (benchmarks/pipelines/ready-venv.gitlab-ci.yml).

Two dependency sets: a small web/data one and a big scientific one (well over 200 MB
installed). Each variant runs once cold, then ``--warm-runs`` times warm. Per job: restore,
install, ready (= restore + install) and packages fetched from the index; per pipeline: bytes
downloaded and extracted, bytes archived and uploaded.

What GitLab does with a cache is measured the way a runner does it, not the way the emulator
does (gitlab-ci-local copies folders): each cache a job restores is zipped as the runner zips
it (deflate, symlinks kept as links; level 6 as plain zip, level 3 for the template's
``CACHE_COMPRESSION_LEVEL: fast``, single-threaded here while fastzip uses every core), and
its extraction is timed. restore = zipped bytes / ``--cache-mbps`` (the cache storage's
bandwidth, stated) + extraction. A cache is uploaded when a job that saves it changed it.

Then, for each dependency set, the index bandwidth above which ``prune`` (download wheels
again) beats ``keep-wheels`` (restore them), as a function of the cache storage's
bandwidth, from the measured constants; and the cost of the secure default (caches of
protected and unprotected refs apart) against sharing them with merge requests: the first
and second merge-request pipelines after main's.

Results: a table on stdout, ``benchmarks/results.json`` and the chart
``benchmarks/pipeline_cache.png``. The numbers depend on the machine and on the network:
the machine these numbers come from reaches its package index unusually fast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import stat
import statistics
import tempfile
import time
import tomllib
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging import tags
from packaging.utils import parse_wheel_filename

from tests.kit import (
    DISTRIBUTION,
    ROOT,
    commit_all,
    gitlab_ci_local,
    render,
    run,
    run_pipeline,
    snapshot_template,
    use_test_environment,
)

HERE = Path(__file__).resolve().parent
DEPENDENCY_SETS = {
    "small": ["numpy", "pandas", "httpx", "pydantic"],
    "big": ["numpy", "scipy", "pandas", "scikit-learn", "pyarrow"],
}
PROJECT_PYTHON = (3, 13)
LEVELS = {"default": 6, "fast": 3}  # deflate levels for plain zip and CACHE_COMPRESSION_LEVEL=fast


@dataclass(frozen=True)
class Variant:
    name: str
    answers: dict = field(default_factory=dict)  # template variants: answers
    pipeline: str = ""  # other variants: a file of benchmarks/pipelines/
    jobs: tuple[str, ...] = ("lint", "test")
    level: str = "default"  # the deflate level its caches are zipped with


VARIANTS = [
    Variant("template keep-wheels", level="fast"),
    Variant("template prune", {"uv_cache_strategy": "prune"}, level="fast"),
    Variant("article", pipeline="article.gitlab-ci.yml", jobs=("uv-cache", "lint", "test")),
    Variant("uv guide", pipeline="uv-guide.gitlab-ci.yml"),
    Variant("pip + venv", pipeline="pip-venv.gitlab-ci.yml"),
    Variant("floor: ready venv", pipeline="ready-venv.gitlab-ci.yml"),
]
SHARED = Variant("template keep-wheels, shared with MRs", {"ci_share_cache_with_merge_requests": True}, level="fast")

# gitlab-ci-local's lines: "test     > Installed 23 packages in 491ms", "lint imported cache '0_k' in 3 s",
# "lint cache created in '.gitlab-ci-local/cache/0_k' in 42 ms", and the pip variant's own line.
UV_STEP = re.compile(r"^(\S+)\s+> (Prepared|Installed|Audited) (\d+) packages? in ([\d.]+)(m?s)$", re.MULTILINE)
PIP_STEP = re.compile(r"^(\S+)\s+> install took (\d+)ms, fetched (\d+)$", re.MULTILINE)
RESTORED = re.compile(r"^(\S+)\s+imported cache '\d+_([^']+)'", re.MULTILINE)
SAVED = re.compile(r"^(\S+)\s+cache created in '[^']*/\d+_([^']+)'", re.MULTILINE)


# ---------------------------------------------------------------- measuring one cache


@dataclass
class Archive:
    """One stored cache, zipped as a runner zips it."""

    files_bytes: int
    zip_bytes: dict[str, int]
    zip_s: dict[str, float]
    extract_s: dict[str, float]


def zip_folder(folder: Path, archive: Path, level: int) -> None:
    """Zip ``folder`` as GitLab Runner does: deflate, symlinks stored as links."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if path.is_symlink():
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                out.writestr(info, str(path.readlink()))
            elif path.is_file():
                out.write(path, name)


def measure_archive(folder: Path, work: Path) -> Archive:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    result = Archive(sum(p.stat().st_size for p in files), {}, {}, {})
    for label, level in LEVELS.items():
        archive = work / f"{label}.zip"
        start = time.perf_counter()
        zip_folder(folder, archive, level)
        result.zip_s[label] = time.perf_counter() - start
        result.zip_bytes[label] = archive.stat().st_size
        target = work / f"extracted-{label}"
        start = time.perf_counter()
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(target)
        result.extract_s[label] = time.perf_counter() - start
        shutil.rmtree(target)
        archive.unlink()
    return result


def manifest(folder: Path) -> dict[str, tuple[int, str]]:
    """What a cache holds: every path with its size (or a symlink's target)."""
    return {
        p.relative_to(folder).as_posix(): (0, str(p.readlink())) if p.is_symlink() else (p.stat().st_size, "")
        for p in folder.rglob("*")
        if p.is_symlink() or p.is_file()
    }


# ---------------------------------------------------------------- running one pipeline


@dataclass
class JobRun:
    install_s: float = 0.0
    fetched: int = 0
    restored: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)


@dataclass
class PipelineRun:
    wall_s: float
    jobs: dict[str, JobRun]
    changed: list[str]  # cache keys whose content this run changed


def caches_of(project: Path) -> dict[str, Path]:
    folders = (project / ".gitlab-ci-local" / "cache").glob("*_*")
    return {folder.name.split("_", 1)[1]: folder for folder in folders}


def run_once(project: Path, variant: Variant, *, protected: bool = True) -> PipelineRun:
    before = {key: manifest(folder) for key, folder in caches_of(project).items()}
    start = time.perf_counter()
    output = run_pipeline(project, jobs=variant.jobs, protected=protected).stdout
    wall = time.perf_counter() - start
    jobs = {job: JobRun() for job in variant.jobs}
    for job, step, count, value, unit in UV_STEP.findall(output):
        jobs[job].install_s += float(value) / (1000 if unit == "ms" else 1)
        if step == "Prepared":
            jobs[job].fetched += int(count)
    for job, millis, fetched in PIP_STEP.findall(output):
        jobs[job].install_s += int(millis) / 1000
        jobs[job].fetched += int(fetched)
    for job, key in RESTORED.findall(output):
        jobs[job].restored.append(key)
    for job, key in SAVED.findall(output):
        jobs[job].saved.append(key)
    after = {key: manifest(folder) for key, folder in caches_of(project).items()}
    return PipelineRun(wall, jobs, sorted(key for key in after if before.get(key) != after[key]))


# ---------------------------------------------------------------- one variant


@dataclass
class JobNumbers:
    restore_s: float
    install_s: float
    ready_s: float
    fetched: int


@dataclass
class PipelineNumbers:
    jobs: dict[str, JobNumbers]
    downloaded_mb: float
    uploaded_mb: float
    archive_s: float


@dataclass
class VariantResult:
    name: str
    cold: PipelineNumbers | None = None
    warm: list[PipelineNumbers] = field(default_factory=list)
    stored_mb: float = 0.0
    zipped_mb: float = 0.0
    archives: dict[str, Archive] = field(default_factory=dict)


def numbers(run_: PipelineRun, variant: Variant, archives: dict[str, Archive], cache_mbps: float) -> PipelineNumbers:
    level = variant.level
    jobs, downloaded, uploaded, archive_s = {}, 0, 0, 0.0
    for name, job in run_.jobs.items():
        restore = 0.0
        for key in job.restored:
            archive = archives[key]
            downloaded += archive.zip_bytes[level]
            restore += archive.zip_bytes[level] / (cache_mbps * 1e6) + archive.extract_s[level]
        for key in job.saved:
            if key in run_.changed:
                uploaded += archives[key].zip_bytes[level]
                archive_s += archives[key].zip_s[level]
        jobs[name] = JobNumbers(restore, job.install_s, restore + job.install_s, job.fetched)
    return PipelineNumbers(jobs, downloaded / 1e6, uploaded / 1e6, archive_s)


def prepare_project(template: Path, work: Path, deps: list[str], variant: Variant) -> Path:
    project = render(template, work / "project", variant.answers)
    run(["uv", "add", "--quiet", *deps], project)
    if variant.pipeline:
        shutil.copy(HERE / "pipelines" / variant.pipeline, project / ".gitlab-ci.yml")
        run(
            ["uv", "export", "--quiet", "--all-groups", "--no-hashes", "--no-emit-project", "-o", "requirements.txt"],
            project,
        )
    return commit_all(project, f"benchmark: {variant.name}")


def archives_now(project: Path, work: Path, known: dict[str, Archive]) -> dict[str, Archive]:
    """Measure every stored cache whose content is new since ``known`` was measured."""
    measured = dict(known)
    for key, folder in caches_of(project).items():
        if key not in measured:
            measured[key] = measure_archive(folder, work)
    return measured


def measure_variant(template: Path, work: Path, deps: list[str], variant: Variant, args) -> tuple[VariantResult, Path]:
    project = prepare_project(template, work, deps, variant)
    result = VariantResult(variant.name)
    cold = run_once(project, variant)
    runs = [run_once(project, variant) for _ in range(args.warm_runs)]
    # Caches as they stand after the last warm run: what a warm job restores.
    archives = archives_now(project, work, {})
    result.cold = numbers(cold, variant, archives, args.cache_mbps)
    result.warm = [numbers(r, variant, archives, args.cache_mbps) for r in runs]
    result.archives = archives
    result.stored_mb = sum(a.files_bytes for a in archives.values()) / 1e6
    result.zipped_mb = sum(a.zip_bytes[variant.level] for a in archives.values()) / 1e6
    return result, project


def median_job(result: VariantResult, job: str, attribute: str) -> float:
    return statistics.median(getattr(run_.jobs[job], attribute) for run_ in result.warm)


# ---------------------------------------------------------------- prune vs keep-wheels


def wheel_bytes(lock_file: Path, names: set[str]) -> int:
    """Bytes of the wheels this machine's Python would fetch for ``names``, from uv.lock."""
    supported = list(tags.cpython_tags(PROJECT_PYTHON)) + list(tags.compatible_tags(PROJECT_PYTHON))
    rank = {tag: i for i, tag in enumerate(supported)}
    total = 0
    for package in tomllib.loads(lock_file.read_text())["package"]:
        if package["name"] not in names:
            continue
        best = None
        for wheel in package.get("wheels", []):
            filename = wheel["url"].rsplit("/", 1)[-1]
            found = [rank[t] for t in parse_wheel_filename(filename)[3] if t in rank]
            if found and (best is None or min(found) < best[0]):
                best = (min(found), wheel.get("size", 0))
        total += best[1] if best else 0
    return total


def crossover(keep: VariantResult, prune: VariantResult, fetched_bytes: int, cache_mbps: list[float]) -> list[dict]:
    """For each cache bandwidth, the index bandwidth above which prune's test job is ready first.

    keep-wheels: D_k / B_cache + E_k + I_k. prune: D_p / B_cache + E_p + I_p + F / B_index,
    where I_p is prune's whole install as measured here (fetching at this machine's index
    speed, so an upper bound of its unpacking work) and F the wheel bytes it fetches.
    """
    level = "fast"

    def ready_without_index(result: VariantResult, mbps: float) -> float:
        archive = next(a for k, a in result.archives.items() if k.startswith("test-"))
        restore = archive.zip_bytes[level] / (mbps * 1e6) + archive.extract_s[level]
        return restore + median_job(result, "test", "install_s")

    rows = []
    for mbps in cache_mbps:
        margin = ready_without_index(keep, mbps) - ready_without_index(prune, mbps)
        rows.append({"cache_mbps": mbps, "index_mbps": fetched_bytes / margin / 1e6 if margin > 0 else None})
    return rows


# ---------------------------------------------------------------- merge requests


def merge_request_cost(template: Path, work: Path, deps: list[str], variant: Variant, args) -> dict[str, float]:
    """Main's pipeline, then a merge request's first and second: ready s of its test job."""
    project = prepare_project(template, work, deps, variant)
    run_once(project, variant)  # main, protected: fills its caches
    first = run_once(project, variant, protected=False)
    second = run_once(project, variant, protected=False)
    archives = archives_now(project, work, {})
    out = {}
    for label, run_ in (("first", first), ("second", second)):
        nums = numbers(run_, variant, archives, args.cache_mbps)
        out[label] = max(job.ready_s for job in nums.jobs.values())
        out[f"{label}_fetched"] = sum(job.fetched for job in nums.jobs.values())
    shutil.rmtree(project)
    return out


# ---------------------------------------------------------------- report


def table(results: list[VariantResult]) -> str:
    jobs = sorted({job for r in results for job in r.warm[0].jobs}, key=["uv-cache", "lint", "test"].index)
    head = "| variant | " + " | ".join(f"{job} ready s (restore + install)" for job in jobs)
    head += " | fetched, warm | down / up MB per warm pipeline | stored MB (zipped) |"
    lines = [head, "|" + " --- |" * (len(jobs) + 4)]
    for r in results:
        cells = []
        for job in jobs:
            if job not in r.warm[0].jobs:
                cells.append("-")
                continue
            ready, restore, install = (median_job(r, job, a) for a in ("ready_s", "restore_s", "install_s"))
            cold = r.cold.jobs[job].ready_s
            cells.append(f"{ready:.2f} ({restore:.2f} + {install:.2f}); cold {cold:.2f}")
        fetched = statistics.median(sum(j.fetched for j in p.jobs.values()) for p in r.warm)
        down = statistics.median(p.downloaded_mb for p in r.warm)
        up = statistics.median(p.uploaded_mb for p in r.warm)
        lines.append(
            f"| {r.name} | " + " | ".join(cells) + f" | {fetched:.0f} | {down:.1f} / {up:.1f} | "
            f"{r.stored_mb:.1f} ({r.zipped_mb:.1f}) |"
        )
    return "\n".join(lines)


def verdict(results: list[VariantResult]) -> list[str]:
    ours = results[0]
    floor = next(r for r in results if r.name.startswith("floor"))
    lines = []
    for job in ours.warm[0].jobs:
        mine = median_job(ours, job, "ready_s")
        others = {r.name: median_job(r, job, "ready_s") for r in results[1:] if job in r.warm[0].jobs}
        best_other = min(others, key=others.get)
        lowest = "yes" if mine <= min(others.values()) else "no"
        lines.append(
            f"{job}: {ours.name} {mine:.2f} s; best other {best_other} {others[best_other]:.2f} s; "
            f"floor {median_job(floor, job, 'ready_s'):.2f} s; lowest: {lowest}"
        )
    return lines


def chart(report: dict, path: Path) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the benchmark draws

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    sets = list(report["sets"])
    fig, axes = plt.subplots(1, len(sets) + 1, figsize=(6 * (len(sets) + 1), 5.5))
    for ax, set_name in zip(axes, sets, strict=False):
        rows = report["sets"][set_name]["variants"]
        names = [row["name"] for row in rows]
        for offset, job in ((-0.2, "lint"), (0.2, "test")):
            restore = [row["warm_median"].get(job, {}).get("restore_s", 0) for row in rows]
            install = [row["warm_median"].get(job, {}).get("install_s", 0) for row in rows]
            xs = [i + offset for i in range(len(rows))]
            ax.bar(xs, restore, 0.38, color="#4c72b0" if job == "test" else "#8fb0d8", label=f"{job}: restore")
            ax.bar(
                xs,
                install,
                0.38,
                bottom=restore,
                color="#dd8452" if job == "test" else "#f0b48a",
                label=f"{job}: install",
            )
        ax.set_xticks(range(len(rows)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"warm ready s per job (restore at {report['cache_mbps']:.0f} MB/s + install)")
        ax.set_title(f"{set_name} set: {', '.join(report['sets'][set_name]['deps'])}", fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[-1]
    for set_name in sets:
        rows = [r for r in report["sets"][set_name]["crossover"] if r["index_mbps"]]
        ax.plot([r["cache_mbps"] for r in rows], [r["index_mbps"] for r in rows], marker="o", label=set_name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cache storage bandwidth, MB/s")
    ax.set_ylabel("index bandwidth above which prune wins, MB/s")
    ax.set_title("prune overtakes keep-wheels above the line (test job)", fontsize=9)
    ax.legend(fontsize=8)
    fig.suptitle(f"uv caches in GitLab CI: {report['machine']}, {report['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--cache-mbps", type=float, default=100.0, help="cache storage bandwidth, MB/s")
    parser.add_argument("--sets", nargs="*", default=list(DEPENDENCY_SETS), choices=list(DEPENDENCY_SETS))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    use_test_environment()
    gitlab_ci_local()  # fails early, saying how to install it
    tmp_root = "/dev/shm" if Path("/dev/shm").is_dir() else None

    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "versions": {
            "uv": run(["uv", "--version"], ROOT).strip(),
            "gitlab-ci-local": run([gitlab_ci_local(), "--version"], ROOT).strip(),
        },
        "cache_mbps": args.cache_mbps,
        "warm_runs": args.warm_runs,
        "sets": {},
    }
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        template = snapshot_template(Path(tmp) / "template")
        for set_name in args.sets:
            deps = DEPENDENCY_SETS[set_name]
            results = []
            for variant in VARIANTS:
                with tempfile.TemporaryDirectory(dir=tmp) as work:
                    print(f"[{set_name}] {variant.name} ...", flush=True)
                    result, project = measure_variant(template, Path(work), deps, variant, args)
                    if variant.name == "template prune":
                        lock = project / "uv.lock"
                        names = {p["name"] for p in tomllib.loads(lock.read_text())["package"]}
                        fetched_bytes = wheel_bytes(lock, names - {"ruff", DISTRIBUTION})
                    results.append(result)
            mr = {}
            for variant in (VARIANTS[0], SHARED):
                with tempfile.TemporaryDirectory(dir=tmp) as work:
                    print(f"[{set_name}] merge requests: {variant.name} ...", flush=True)
                    mr[variant.name] = merge_request_cost(template, Path(work), deps, variant, args)
            bandwidths = [10, 30, 100, 300, 1000]
            report["sets"][set_name] = {
                "deps": deps,
                "variants": [
                    {
                        "name": r.name,
                        "stored_mb": r.stored_mb,
                        "zipped_mb": r.zipped_mb,
                        "cold": asdict(r.cold),
                        "warm": [asdict(w) for w in r.warm],
                        "warm_median": {
                            job: {a: median_job(r, job, a) for a in ("restore_s", "install_s", "ready_s", "fetched")}
                            for job in r.warm[0].jobs
                        },
                        "archives": {k: asdict(a) for k, a in r.archives.items()},
                    }
                    for r in results
                ],
                "table": table(results),
                "verdict": verdict(results),
                "prune_fetched_mb": fetched_bytes / 1e6,
                "crossover": crossover(results[0], results[1], fetched_bytes, bandwidths),
                "merge_requests": mr,
            }
            print(f"\n## {set_name} set: {' '.join(deps)}\n")
            print(report["sets"][set_name]["table"])
            print("\n" + "\n".join(report["sets"][set_name]["verdict"]))
            print(f"\nprune fetches {fetched_bytes / 1e6:.1f} MB of wheels per test job; it beats keep-wheels when")
            for row in report["sets"][set_name]["crossover"]:
                limit = f"{row['index_mbps']:.0f} MB/s" if row["index_mbps"] else "never"
                print(f"  cache storage at {row['cache_mbps']:>5} MB/s: the index is faster than {limit}")
            print("\nmerge requests (slowest job's ready s; packages fetched):")
            for name, cost in mr.items():
                print(
                    f"  {name}: first {cost['first']:.2f} s ({cost['first_fetched']}), "
                    f"second {cost['second']:.2f} s ({cost['second_fetched']})"
                )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    chart(report, args.out / "pipeline_cache.png")
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'pipeline_cache.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
