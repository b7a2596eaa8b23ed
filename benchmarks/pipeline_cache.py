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
does (gitlab-ci-local copies folders): each cache a job restores is archived in every format
the runner offers (benchmarks/cache_archives.py: zip with deflate at the default and the
``fast`` level, zipzstd, tarzstd; plain zip single-threaded for variants without
``FF_USE_FASTZIP``), and its extraction is timed. restore = archive bytes / ``--cache-mbps`` +
extraction. A cache is uploaded when a job that saves it changed it. Each job's physical
floor is the fewest bytes any format sends at that bandwidth plus the time to write its
files (a plain copy of the cache on the same disk): the ratio of a warm job's ready time to
it says how much of the wait is left to win.

The template's own jobs are measured too: the audit job (against a loopback OSV service),
and the type checker in the test job against a job of its own (docs/caches.md).

Then, for each dependency set, the index bandwidth above which ``prune`` (download wheels
again) beats ``keep-wheels`` (restore them), as a function of the cache storage's
bandwidth, from the measured constants; and the cost of the secure default (caches of
protected and unprotected refs apart) against sharing them with merge requests: the first
and second merge-request pipelines after main's.

The prices are stated, not guessed: ``--cache-mbps`` for the cache storage and
``--index-mbps`` for the package index (downloads measured here at this machine's own index
speed are re-priced at it). The crossover gives the answer for every other pair.

Results: a table on stdout, ``benchmarks/results.json`` and the chart
``benchmarks/pipeline_cache.png``. The numbers depend on the machine and on the network:
the machine these numbers come from reaches its package index unusually fast.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import re
import shutil
import statistics
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from packaging import tags
from packaging.utils import parse_wheel_filename

from benchmarks import cache_archives as ca
from extensions import images
from tests.kit import (
    BASELINE,
    DISTRIBUTION,
    ROOT,
    SAVED_CACHE,
    cache_dirs,
    commit_all,
    copier_cli,
    gitlab_ci_local,
    run,
    run_pipeline,
    snapshot_template,
    use_test_environment,
)
from tests.servers import serving_osv

HERE = Path(__file__).resolve().parent
DEPENDENCY_SETS = {
    "small": ["numpy", "pandas", "httpx", "pydantic"],
    "big": ["numpy", "scipy", "pandas", "scikit-learn", "pyarrow"],
}
PROJECT_PYTHON = (3, 13)
THREADS = os.cpu_count() or 1  # fastzip archives and extracts with every core
EXTRACT_RUNS = 3  # extraction is timed this often per archive; the median counts
# A type checker in a job of its own: the template's test job without it, and a types job.
OWN_TYPES_JOB = """
test:
  script:
    - uv sync --locked --no-default-groups --group test
    - uv run --no-sync pytest --junitxml=junit.xml --cov-report=term --cov-report=xml:coverage.xml

types:
  extends: .uv
  stage: test
  variables:
    UV_CACHE_NAME: types
  script:
    - uv sync --locked --no-default-groups --group test --group types
    - uv run --no-sync mypy
"""


@dataclass(frozen=True)
class Variant:
    name: str
    answers: dict = field(default_factory=dict)  # template variants: answers
    pipeline: str = ""  # other variants: a file of benchmarks/pipelines/
    jobs: tuple[str, ...] = ("lint", "test")
    team_jobs: str = ""  # YAML added to the project's .gitlab-ci.yml
    release: str | None = None  # template variants: the template as it was at this release (tests/kit.py)

    @property
    def archive(self) -> str:
        """The format its caches travel in: the template's setting for the template's variants,
        the runner's default (zip, without fastzip) for the others."""
        return ca.PLAIN_ZIP.name if self.pipeline else TEMPLATE_FORMAT


def template_format() -> str:
    """The ``CACHE_COMPRESSION_FORMAT`` the template's cached jobs set."""
    jobs = (ROOT / "template" / ".gitlab" / "ci" / "uv.gitlab-ci.yml.jinja").read_text(encoding="utf-8")
    return re.search(r"^\s+CACHE_COMPRESSION_FORMAT: (\w+)", jobs, re.MULTILINE).group(1)


TEMPLATE_FORMAT = template_format()
# The caching comparison runs the same work everywhere: no type checker in the template's test job.
NO_TYPES = {"type_checker": "none"}
VARIANTS = [
    Variant("template keep-wheels", NO_TYPES, jobs=("lint", "test", "audit")),
    Variant("template prune", {**NO_TYPES, "uv_cache_strategy": "prune"}),
    Variant("article", pipeline="article.gitlab-ci.yml", jobs=("uv-cache", "lint", "test")),
    Variant("uv guide", pipeline="uv-guide.gitlab-ci.yml"),
    Variant("pip + venv", pipeline="pip-venv.gitlab-ci.yml"),
    Variant("floor: ready venv", pipeline="ready-venv.gitlab-ci.yml"),
]
# Where the type checker costs least: in the test job (the template's choice) or in its own.
TYPES_VARIANTS = [
    Variant("types in the test job", {"type_checker": "mypy"}),
    Variant(
        "types in their own job",
        {"type_checker": "mypy"},
        jobs=("lint", "test", "types"),
        team_jobs=OWN_TYPES_JOB,
    ),
]
SHARED = Variant(
    "template keep-wheels, shared with MRs",
    {**NO_TYPES, "ci_share_cache_with_merge_requests": True},
)

# gitlab-ci-local's lines: "test     > Installed 23 packages in 491ms", "lint imported cache '0_k' in 3 s",
# "lint cache created in '.gitlab-ci-local/cache/0_k' in 42 ms", and the pip variant's own line.
UV_STEP = re.compile(r"^(\S+)\s+> (Prepared|Installed|Audited) (\d+) packages? in ([\d.]+)(m?s)$", re.MULTILINE)
PIP_STEP = re.compile(r"^(\S+)\s+> install took (\d+)ms, fetched (\d+)$", re.MULTILINE)
# A key of ``files`` is stored as ``<index>_<hash>``, a plain key (the template's) as itself.
RESTORED = re.compile(r"^(\S+)\s+imported cache '(?:\d+_)?([^']+)'", re.MULTILINE)
INSTALLED = re.compile(r"^(\S+)\s+>\s+\+ ([A-Za-z0-9._-]+)==", re.MULTILINE)
# uvx fetching a tool (the audit job's pinned uv): "audit > Downloaded uv", timed by no line.
DOWNLOADED = re.compile(r"^(\S+)\s+>\s+Downloaded ([A-Za-z0-9._-]+)$", re.MULTILINE)


# ---------------------------------------------------------------- measuring one cache


@dataclass
class Archive:
    """One stored cache in every format the runner offers: bytes, seconds to write and to
    extract; and the floor's part: the seconds a plain copy of its files takes."""

    files_bytes: int
    bytes: dict[str, int]
    write_s: dict[str, float]
    extract_s: dict[str, float]
    copy_s: float


def measure_archive(folder: Path, work: Path) -> Archive:
    """Archive and extract ``folder`` in every format (the median of ``EXTRACT_RUNS``
    extractions), and time a plain copy of it on the same disk."""
    files = ca.entries(folder)
    result = Archive(sum(p.stat().st_size for p in files if not p.is_symlink()), {}, {}, {}, 0.0)
    for fmt in (*ca.FORMATS, ca.PLAIN_ZIP):
        archive = work / "cache.archive"
        result.write_s[fmt.name] = ca.write(folder, archive, fmt, THREADS)
        result.bytes[fmt.name] = archive.stat().st_size
        timings = []
        for _ in range(EXTRACT_RUNS):
            timings.append(ca.extract(archive, work / "extracted", fmt, THREADS))
            shutil.rmtree(work / "extracted")
        result.extract_s[fmt.name] = statistics.median(timings)
        archive.unlink()
    copies = []
    for _ in range(EXTRACT_RUNS):
        start = time.perf_counter()
        shutil.copytree(folder, work / "copied", symlinks=True)
        copies.append(time.perf_counter() - start)
        shutil.rmtree(work / "copied")
    result.copy_s = statistics.median(copies)
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
    installed: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)  # tools uvx downloaded
    restored: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)


@dataclass
class PipelineRun:
    jobs: dict[str, JobRun]
    changed: list[str]  # cache keys whose content this run changed


def run_once(project: Path, variant: Variant, *, protected: bool = True) -> PipelineRun:
    before = {key: manifest(folder) for key, folder in cache_dirs(project).items()}
    output = run_pipeline(project, jobs=variant.jobs, protected=protected, uv_cache="job").stdout
    jobs = {job: JobRun() for job in variant.jobs}
    for job, step, count, value, unit in UV_STEP.findall(output):
        jobs[job].install_s += float(value) / (1000 if unit == "ms" else 1)
        if step == "Prepared":
            jobs[job].fetched += int(count)
    for job, millis, fetched in PIP_STEP.findall(output):
        jobs[job].install_s += int(millis) / 1000
        jobs[job].fetched += int(fetched)
    for job, name in INSTALLED.findall(output):
        jobs[job].installed.append(name)
    for job, name in DOWNLOADED.findall(output):
        jobs[job].tools.append(name)
    for job, key in RESTORED.findall(output):
        jobs[job].restored.append(key)
    for job, key in SAVED_CACHE.findall(output):
        jobs[job].saved.append(key)
    after = {key: manifest(folder) for key, folder in cache_dirs(project).items()}
    return PipelineRun(jobs, sorted(key for key in after if before.get(key) != after[key]))


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
    by_format: dict[str, list[PipelineNumbers]] = field(default_factory=dict)  # warm runs, per format
    floors: dict[str, float] = field(default_factory=dict)  # per job


@dataclass
class Prices:
    """What moving bytes costs: the stated bandwidths, and this machine's own index speed."""

    cache_mbps: float  # cache storage, stated
    index_mbps: float  # package index, stated
    local_mbps: float  # package index from this machine, measured
    wheels: dict[str, int] = field(default_factory=dict)  # bytes of the wheel this Python fetches, by package
    tool_wheels: dict[str, int] = field(default_factory=dict)  # tools uvx fetches (the audit's uv)

    def priced(self, seconds: float, fetched: float) -> float:
        """``seconds`` measured while ``fetched`` bytes came from this machine's index, with
        those bytes priced at the stated index bandwidth instead."""
        return max(0.0, seconds - fetched / (self.local_mbps * 1e6)) + fetched / (self.index_mbps * 1e6)

    def restore(self, archive_bytes: float, extract_s: float) -> float:
        """A restore: the archive's bytes at the cache bandwidth, then its extraction."""
        return archive_bytes / (self.cache_mbps * 1e6) + extract_s

    def fetched_bytes(self, job: JobRun) -> float:
        """Bytes of wheels ``job`` fetched: the registry packages it installed, scaled by how
        many it prepared (downloaded) rather than took from its cache."""
        names = [n for n in job.installed if n in self.wheels] or list(self.wheels)
        prepared = job.fetched - (1 if DISTRIBUTION in job.installed else 0)  # the project is built
        share = min(1.0, max(0, prepared) / len(names)) if names else 0.0
        return share * sum(self.wheels[n] for n in names)

    def install_s(self, job: JobRun) -> float:
        """The job's install with its downloads at the stated index bandwidth (uvx's tool
        downloads, which uv does not time, priced whole)."""
        tools = sum(self.tool_wheels.get(name, 0) for name in job.tools)
        return self.priced(job.install_s, self.fetched_bytes(job)) + tools / (self.index_mbps * 1e6)


def restore_s(archive: Archive, fmt: str, prices: Prices) -> float:
    return prices.restore(archive.bytes[fmt], archive.extract_s[fmt])


def floor_s(archive: Archive, prices: Prices) -> float:
    """The physical floor of a restore: the fewest bytes any format sends, then a plain copy."""
    return min(archive.bytes.values()) / (prices.cache_mbps * 1e6) + archive.copy_s


def numbers(
    run_: PipelineRun, variant: Variant, archives: dict[str, Archive], prices: Prices, fmt: str = ""
) -> PipelineNumbers:
    fmt = fmt or variant.archive
    jobs, downloaded, uploaded, archive_s = {}, 0, 0, 0.0
    for name, job in run_.jobs.items():
        restore = 0.0
        for key in job.restored:
            downloaded += archives[key].bytes[fmt]
            restore += restore_s(archives[key], fmt, prices)
        for key in job.saved:
            if key in run_.changed:
                uploaded += archives[key].bytes[fmt]
                archive_s += archives[key].write_s[fmt]
        install = prices.install_s(job)
        jobs[name] = JobNumbers(restore, install, restore + install, job.fetched)
    return PipelineNumbers(jobs, downloaded / 1e6, uploaded / 1e6, archive_s)


def prepare_project(template: Path, work: Path, deps: list[str], variant: Variant) -> Path:
    project = work / "project"
    copier_cli("copy", template, project, cwd=work, data={**BASELINE, **variant.answers})
    run(["uv", "add", "--quiet", *deps], project)
    if variant.team_jobs:
        with (project / ".gitlab-ci.yml").open("a") as team_file:
            team_file.write(variant.team_jobs)
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
    for key, folder in cache_dirs(project).items():
        if key not in measured:
            measured[key] = measure_archive(folder, work)
    return measured


def measure_variant(
    template: Path, work: Path, deps: list[str], variant: Variant, prices: Prices, args
) -> VariantResult:
    project = prepare_project(template, work, deps, variant)
    result = VariantResult(variant.name)
    cold = run_once(project, variant)
    runs = [run_once(project, variant) for _ in range(args.warm_runs)]
    # Caches as they stand after the last warm run: what a warm job restores.
    archives = archives_now(project, work, {})
    result.cold = numbers(cold, variant, archives, prices)
    result.warm = [numbers(r, variant, archives, prices) for r in runs]
    result.archives = archives
    result.stored_mb = sum(a.files_bytes for a in archives.values()) / 1e6
    result.zipped_mb = sum(a.bytes[variant.archive] for a in archives.values()) / 1e6
    if variant.archive != ca.PLAIN_ZIP.name:  # the template: every format the runner offers
        result.by_format = {f.name: [numbers(r, variant, archives, prices, f.name) for r in runs] for f in ca.FORMATS}
    result.floors = {
        job: sum(floor_s(archives[key], prices) for key in runs[-1].jobs[job].restored) for job in variant.jobs
    }
    return result


def median_job(result: VariantResult, job: str, attribute: str) -> float:
    return statistics.median(getattr(run_.jobs[job], attribute) for run_ in result.warm)


# ---------------------------------------------------------------- prune vs keep-wheels


def wheel_sizes(lock_file: Path) -> dict[str, int]:
    """Bytes of the wheel this project's Python fetches, per package of uv.lock, and its URL."""
    supported = list(tags.cpython_tags(PROJECT_PYTHON)) + list(tags.compatible_tags(PROJECT_PYTHON))
    rank = {tag: i for i, tag in enumerate(supported)}
    sizes = {}
    for package in tomllib.loads(lock_file.read_text())["package"]:
        best = None
        for wheel in package.get("wheels", []):
            found = [rank[t] for t in parse_wheel_filename(wheel["url"].rsplit("/", 1)[-1])[3] if t in rank]
            if found and (best is None or min(found) < best[0]):
                best = (min(found), wheel.get("size", 0), wheel["url"])
        if best:
            sizes[package["name"]] = (best[1], best[2])
    return sizes


def local_index_mbps(urls: list[str]) -> float:
    """This machine's download speed from the package index: the wheels, 8 at a time."""

    def fetch(url: str) -> int:
        with urllib.request.urlopen(url, timeout=60) as response:
            return len(response.read())

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        total = sum(pool.map(fetch, urls))
    return total / (time.perf_counter() - start) / 1e6


def crossover(keep: VariantResult, prune: VariantResult, fetched_bytes: float, prices: Prices) -> list[dict]:
    """For each cache bandwidth, the index bandwidth above which prune's test job is ready first.

    keep-wheels: D_k / B_cache + E_k + I_k. prune: D_p / B_cache + E_p + W_p + F / B_index,
    where W_p is prune's install without its downloads (measured install minus F at this
    machine's index speed) and F the wheel bytes it fetches.
    """
    label = TEMPLATE_FORMAT

    def ready_without_index(result: VariantResult, mbps: float) -> float:
        archive = next(a for k, a in result.archives.items() if k.startswith("test-"))
        restore = archive.bytes[label] / (mbps * 1e6) + archive.extract_s[label]
        return restore + median_job(result, "test", "install_s")

    rows = []
    for mbps in (10, 30, 100, 300, 1000):
        # install_s above is priced at the stated index bandwidth: take that part out again.
        margin = ready_without_index(keep, mbps) - (
            ready_without_index(prune, mbps) - fetched_bytes / (prices.index_mbps * 1e6)
        )
        rows.append({"cache_mbps": mbps, "index_mbps": fetched_bytes / margin / 1e6 if margin > 0 else None})
    return rows


# ---------------------------------------------------------------- merge requests


def merge_request_cost(
    template: Path, work: Path, deps: list[str], variant: Variant, prices: Prices
) -> dict[str, float]:
    """Main's pipeline, then a merge request's first and second: the slowest job's ready s."""
    project = prepare_project(template, work, deps, variant)
    run_once(project, variant)  # main, protected: fills its caches
    first = run_once(project, variant, protected=False)
    second = run_once(project, variant, protected=False)
    archives = archives_now(project, work, {})
    out = {}
    for label, run_ in (("first", first), ("second", second)):
        nums = numbers(run_, variant, archives, prices)
        out[label] = max(job.ready_s for job in nums.jobs.values())
        out[f"{label}_fetched"] = sum(job.fetched for job in nums.jobs.values())
    shutil.rmtree(project)
    return out


# ---------------------------------------------------------------- report


def table(results: list[VariantResult]) -> str:
    order = ["uv-cache", "lint", "test", "audit", "types"]
    jobs = sorted({job for r in results for job in r.warm[0].jobs}, key=order.index)
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


def format_rows(result: VariantResult) -> list[dict]:
    """Per format and job of a template variant: archive MB, extraction, warm ready, floor, ratio."""
    rows = []
    for fmt, runs in result.by_format.items():
        for job in ("lint", "test"):
            keys = [k for k in result.archives if k.startswith(f"{job}-")]
            ready = statistics.median(run_.jobs[job].ready_s for run_ in runs)
            rows.append(
                {
                    "format": fmt,
                    "job": job,
                    "archive_mb": sum(result.archives[k].bytes[fmt] for k in keys) / 1e6,
                    "extract_s": sum(result.archives[k].extract_s[fmt] for k in keys),
                    "ready_s": ready,
                    "floor_s": result.floors[job],
                    "ratio": ready / result.floors[job],
                }
            )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [
        "| format | job | archive MB | extract s | warm ready s | floor s | ready / floor |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['format']} | {r['job']} | {r['archive_mb']:.1f} | {r['extract_s']:.2f} | {r['ready_s']:.2f} | "
        f"{r['floor_s']:.2f} | {r['ratio']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def types_placement(in_test: VariantResult, own_job: VariantResult, without: VariantResult) -> dict[str, float]:
    """What the type checker adds to a pipeline's ready time, warm and cold: in the test job
    (its test job against one without a checker) or in a job of its own (that job's ready)."""
    out = {}
    for label, pick in (("warm", lambda r, job: median_job(r, job, "ready_s")), ("cold", cold_ready)):
        out[f"in_test_{label}"] = pick(in_test, "test") - pick(without, "test")
        out[f"own_job_{label}"] = pick(own_job, "types")
    return out


def cold_ready(result: VariantResult, job: str) -> float:
    return result.cold.jobs[job].ready_s


def verdict(results: list[VariantResult]) -> list[str]:
    """Per job: the template's best strategy against every other variant, and keep-wheels against the floor."""
    ours = [r for r in results if r.name.startswith("template")]
    others = [r for r in results if not r.name.startswith("template")]
    keep = ours[0]
    floor = next(r for r in results if r.name.startswith("floor"))
    lines = []
    for job in ("lint", "test"):  # the jobs every variant runs
        best = min(ours, key=lambda r: median_job(r, job, "ready_s"))
        mine = median_job(best, job, "ready_s")
        rival = min((r for r in others if job in r.warm[0].jobs), key=lambda r: median_job(r, job, "ready_s"))
        theirs = median_job(rival, job, "ready_s")
        keep_s, floor_s = median_job(keep, job, "ready_s"), median_job(floor, job, "ready_s")
        lines.append(
            f"{job}: best template strategy {best.name} {mine:.2f} s, best other {rival.name} {theirs:.2f} s "
            f"(lowest: {'yes' if mine <= theirs else 'no'}); keep-wheels {keep_s:.2f} s vs floor {floor_s:.2f} s "
            f"({'no higher' if keep_s <= floor_s else 'higher'})"
        )
    return lines


def _variants_panel(ax, data: dict, set_name: str, prices: str) -> None:
    rows = data["variants"]
    for offset, job in ((-0.2, "lint"), (0.2, "test")):
        restore = [row["warm_median"].get(job, {}).get("restore_s", 0) for row in rows]
        install = [row["warm_median"].get(job, {}).get("install_s", 0) for row in rows]
        xs = [i + offset for i in range(len(rows))]
        shade = ("#4c72b0", "#dd8452") if job == "test" else ("#8fb0d8", "#f0b48a")
        ax.bar(xs, restore, 0.38, color=shade[0], label=f"{job}: restore")
        ax.bar(xs, install, 0.38, bottom=restore, color=shade[1], label=f"{job}: install")
    ax.set_xticks(range(len(rows)), [row["name"] for row in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"warm ready s per job ({prices})")
    ax.set_title(f"{set_name} set: {', '.join(data['deps'])}", fontsize=9)
    ax.legend(fontsize=7)


def _formats_panel(ax, data: dict, set_name: str, prices: str) -> None:
    rows = data["formats"]
    formats = list(dict.fromkeys(row["format"] for row in rows))
    for offset, job, color in ((-0.2, "lint", "#8fb0d8"), (0.2, "test", "#4c72b0")):
        mine = {row["format"]: row for row in rows if row["job"] == job}
        xs = [i + offset for i in range(len(formats))]
        ax.bar(xs, [mine[f]["ready_s"] for f in formats], 0.38, color=color, label=f"{job}: warm ready")
        floors = [mine[f]["floor_s"] for f in formats]
        label = "physical floor" if job == "lint" else ""
        ax.hlines(floors, [x - 0.19 for x in xs], [x + 0.19 for x in xs], colors="black", linewidth=2, label=label)
        for x, f in zip(xs, formats, strict=True):
            ax.annotate(f"{mine[f]['ratio']:.2f}x", (x, mine[f]["ready_s"]), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(formats)), formats, fontsize=8)
    ax.set_ylabel(f"warm ready s, template keep-wheels ({prices})")
    ax.set_title(f"{set_name} set: cache archive formats, ready / floor above each bar", fontsize=9)
    ax.legend(fontsize=7)


def _crossover_panel(ax, report: dict) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the benchmark draws

    for set_name, data in report["sets"].items():
        rows = [r for r in data["crossover"] if r["index_mbps"]]
        ax.plot([r["cache_mbps"] for r in rows], [r["index_mbps"] for r in rows], marker="o", label=set_name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(mpl.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.set_yticks([10, 20, 50, 100, 200, 500, 1000])
    ax.plot([10, 1000], [10, 1000], color="grey", linestyle=":", label="index as fast as the cache")
    ax.set_xlabel("cache storage bandwidth, MB/s")
    ax.set_ylabel("index bandwidth above which prune wins, MB/s")
    ax.set_title("prune overtakes keep-wheels above the line (test job)", fontsize=9)
    ax.legend(fontsize=8)


def _security_panel(ax, report: dict) -> None:
    labels = ["audit job", "types: added to test", "types: own job"]
    for offset, (set_name, data) in zip((-0.2, 0.2), report["sets"].items(), strict=False):
        warm = [data["audit"]["warm_ready_s"], data["types"]["in_test_warm"], data["types"]["own_job_warm"]]
        ax.bar([i + offset for i in range(len(labels))], warm, 0.38, label=f"{set_name} set, warm")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylabel("warm ready s")
    ax.set_title("the security jobs: audit, and where the type checker costs least", fontsize=9)
    ax.legend(fontsize=7)


def write_report(report: dict, path: Path, chart_path: Path, draw: Callable[[dict, Path], None]) -> None:
    """The report as JSON at ``path``, and the chart ``draw`` makes of it at ``chart_path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    draw(report, chart_path)
    print(f"\nwrote {path} and {chart_path}")


def chart(report: dict, path: Path) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the benchmark draws
    import matplotlib.ticker  # noqa: PLC0415 - the crossover panel's formatters

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, grid = plt.subplots(2, 3, figsize=(19, 11))
    prices = f"cache {report['cache_mbps']:.0f} MB/s, index {report['index_mbps']:.0f} MB/s"
    for column, (set_name, data) in enumerate(list(report["sets"].items())[:2]):
        _variants_panel(grid[0][column], data, set_name, prices)
        _formats_panel(grid[1][column], data, set_name, prices)
    _crossover_panel(grid[0][2], report)
    _security_panel(grid[1][2], report)
    fig.suptitle(f"uv caches in GitLab CI: {report['machine']}, {report['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def uv_wheel_bytes(version: str) -> int:
    """Bytes of the manylinux x86_64 wheel of uv ``version`` (what the audit job's uvx fetches)."""
    # PyPI's simple API in its JSON form (PEP 691; sizes since PEP 700), as installers read it.
    request = urllib.request.Request(
        "https://pypi.org/simple/uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.loads(response.read())["files"]
    prefix = f"uv-{version}-"
    return next(
        f["size"]
        for f in files
        if f["filename"].startswith(prefix) and "manylinux" in f["filename"] and "x86_64" in f["filename"]
    )


def prices_for(template: Path, work: Path, deps: list[str], args) -> Prices:
    """The wheels of this dependency set (from a locked probe project) and how fast they arrive."""
    probe = prepare_project(template, work, deps, VARIANTS[0])
    found = wheel_sizes(probe / "uv.lock")
    local = local_index_mbps([url for _, url in found.values()])
    wheels = {name: size for name, (size, _) in found.items()}
    tools = {"uv": uv_wheel_bytes(images.newest_uv())}
    return Prices(args.cache_mbps, args.index_mbps, local, wheels, tools)


def report_set(
    results: list[VariantResult], types: list[VariantResult], prices: Prices, mr: dict, deps: list[str]
) -> dict:
    test_bytes = sum(size for name, size in prices.wheels.items() if name != "ruff")
    keep = results[0]
    return {
        "formats": format_rows(keep),
        "audit": {"warm_ready_s": median_job(keep, "audit", "ready_s"), "cold_ready_s": cold_ready(keep, "audit")},
        "types": types_placement(types[0], types[1], keep),
        "deps": deps,
        "local_index_mbps": prices.local_mbps,
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
        "format_table": format_table(format_rows(keep)),
        "verdict": verdict(results),
        "test_wheels_mb": test_bytes / 1e6,
        "crossover": crossover(results[0], results[1], test_bytes, prices),
        "merge_requests": mr,
    }


def print_set(name: str, data: dict, prices: Prices) -> None:
    print(f"\n## {name} set: {' '.join(data['deps'])}\n")
    print(
        f"cache storage {prices.cache_mbps:.0f} MB/s and index {prices.index_mbps:.0f} MB/s (stated); "
        f"this machine's index: {prices.local_mbps:.0f} MB/s (measured)\n"
    )
    print(data["table"])
    print("\n" + "\n".join(data["verdict"]))
    print(f"\ncache archive formats, template keep-wheels ({TEMPLATE_FORMAT} is the template's):\n")
    print(data["format_table"])
    audit = data["audit"]
    print(f"\naudit job ready: warm {audit['warm_ready_s']:.2f} s, cold {audit['cold_ready_s']:.2f} s")
    types = data["types"]
    print(
        f"type checker (mypy): in the test job it adds {types['in_test_warm']:.2f} s warm "
        f"({types['in_test_cold']:.2f} s cold) to test's ready; a job of its own is ready in "
        f"{types['own_job_warm']:.2f} s warm ({types['own_job_cold']:.2f} s cold)"
    )
    print(f"\nprune fetches {data['test_wheels_mb']:.1f} MB of wheels per test job; it beats keep-wheels when")
    for row in data["crossover"]:
        limit = f"{row['index_mbps']:.0f} MB/s" if row["index_mbps"] else "never"
        print(f"  cache storage at {row['cache_mbps']:>5} MB/s: the index is faster than {limit}")
    print("\nmerge requests after main's pipeline (slowest job's ready s; packages fetched):")
    for variant, cost in data["merge_requests"].items():
        print(
            f"  {variant}: first {cost['first']:.2f} s ({cost['first_fetched']}), "
            f"second {cost['second']:.2f} s ({cost['second_fetched']})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chart-only", action="store_true", help="redraw the chart from --out/results.json")
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--cache-mbps", type=float, default=100.0, help="cache storage bandwidth, MB/s (stated)")
    parser.add_argument("--index-mbps", type=float, default=50.0, help="package index bandwidth, MB/s (stated)")
    parser.add_argument("--sets", nargs="*", default=list(DEPENDENCY_SETS), choices=list(DEPENDENCY_SETS))
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--raw", type=Path, help="keep the last set's measurements in this file")
    args = parser.parse_args()
    if args.chart_only:
        chart(json.loads((args.out / "results.json").read_text()), args.out / "pipeline_cache.png")
        return 0
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
        "index_mbps": args.index_mbps,
        "warm_runs": args.warm_runs,
        "sets": {},
    }
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp, serving_osv(Path(tmp) / "osv", []) as osv:

        def asking(variant: Variant) -> Variant:
            """The variant, its audit job asking the loopback OSV service (no advisories)."""
            return replace(variant, answers={**variant.answers, "vulnerability_service_url": osv.url})

        template = snapshot_template(Path(tmp) / "template")
        for set_name in args.sets:
            deps = DEPENDENCY_SETS[set_name]
            with tempfile.TemporaryDirectory(dir=tmp) as work:
                prices = prices_for(template, Path(work), deps, args)
            results, types = [], []
            for variants, found in ((VARIANTS, results), (TYPES_VARIANTS, types)):
                for variant in variants:
                    print(f"[{set_name}] {variant.name} ...", flush=True)
                    with tempfile.TemporaryDirectory(dir=tmp) as work:
                        found.append(measure_variant(template, Path(work), deps, asking(variant), prices, args))
            mr = {}
            for variant in (VARIANTS[0], SHARED):
                print(f"[{set_name}] merge requests: {variant.name} ...", flush=True)
                with tempfile.TemporaryDirectory(dir=tmp) as work:
                    mr[variant.name] = merge_request_cost(template, Path(work), deps, asking(variant), prices)
            if args.raw:  # the measurements, to report again without measuring (--report-raw)
                args.raw.write_bytes(pickle.dumps((set_name, results, types, prices, mr, deps)))
            report["sets"][set_name] = report_set(results, types, prices, mr, deps)
            print_set(set_name, report["sets"][set_name], prices)
    write_report(report, args.out / "results.json", args.out / "pipeline_cache.png", chart)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
