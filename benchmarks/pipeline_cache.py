"""Benchmark: the generated pipeline's uv cache against the article's pipeline.

Renders a project, gives it real dependencies, and runs each pipeline variant with
gitlab-ci-local (shell executor, jobs isolated, as in the tests): once cold, then
warm several times. Prints, side by side, per variant and warm pipeline:

- install s: the slowest job's install step, as uv reports it (download + install);
- restore s: the slowest job's cache restore, as gitlab-ci-local does it (a plain copy
  of every file: GitLab instead downloads and unzips one archive, see "zipped MB");
- fetched: packages downloaded from the index by the whole pipeline;
- cache MB / zipped MB: the stored cache, as files and as the zip GitLab would store.

    uv run python -m benchmarks.pipeline_cache [--warm-runs 3] [--deps numpy pandas ...]

Numbers depend on the network: the machine these numbers come from reaches its package
index unusually fast (about 330 MB/s), which flatters every variant that downloads again.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.kit import (
    ROOT,
    commit_all,
    git,
    gitlab_ci_local,
    render,
    run,
    run_pipeline,
    snapshot_template,
    use_test_environment,
)

PREPARED = re.compile(r"Prepared (\d+) packages?")
# "test     > Installed 23 packages in 491ms", "lint     imported cache 'x' in 3.78 s"
UV_STEP = re.compile(r"^(\S+)\s+> (?:Prepared|Installed) \d+ packages? in ([\d.]+)(m?s)$", re.MULTILINE)
RESTORE = re.compile(r"^(\S+)\s+imported cache '[^']+' in ([\d.]+) ?(m?s)$", re.MULTILINE)


@dataclass
class Result:
    name: str
    cold_s: float = 0.0
    warm_s: list[float] = field(default_factory=list)
    warm_install_s: list[float] = field(default_factory=list)
    warm_restore_s: list[float] = field(default_factory=list)
    warm_fetched: list[int] = field(default_factory=list)
    cache_bytes: int = 0
    zipped_bytes: int = 0


def project_with(template: Path, dst: Path, deps: list[str], **answers: object) -> Path:
    render(template, dst, answers)
    if deps:
        run(["uv", "add", "--quiet", *deps], dst)
    return commit_all(dst, "benchmark project")


def pipeline(project: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = run_pipeline(project)
    return time.perf_counter() - start, proc.stdout


def slowest_job(pattern: re.Pattern[str], output: str) -> float:
    """The largest per-job sum of the durations ``pattern`` finds (0 when none)."""
    per_job: dict[str, float] = {}
    for job, value, unit in pattern.findall(output):
        per_job[job] = per_job.get(job, 0.0) + float(value) / (1000 if unit == "ms" else 1)
    return max(per_job.values(), default=0.0)


def zipped_size(folder: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        archive = shutil.make_archive(str(Path(tmp) / "cache"), "zip", folder)
        return Path(archive).stat().st_size


def measure(name: str, project: Path, warm_runs: int) -> Result:
    result = Result(name)
    result.cold_s, _ = pipeline(project)
    for _ in range(warm_runs):
        elapsed, output = pipeline(project)
        result.warm_s.append(elapsed)
        result.warm_install_s.append(slowest_job(UV_STEP, output))
        result.warm_restore_s.append(slowest_job(RESTORE, output))
        result.warm_fetched.append(sum(int(n) for n in PREPARED.findall(output)))
    cache = project / ".gitlab-ci-local" / "cache"
    result.cache_bytes = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
    result.zipped_bytes = zipped_size(cache)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--deps", nargs="*", default=["numpy", "pandas", "httpx", "pydantic"])
    args = parser.parse_args()
    use_test_environment()
    gitlab_ci_local()  # fails early, saying how to install it

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = snapshot_template(work / "template")
        keep = project_with(template, work / "keep-wheels", args.deps)
        prune = project_with(template, work / "prune", args.deps, uv_cache_strategy="prune")
        article = work / "article"
        shutil.copytree(keep, article)
        shutil.copy(ROOT / "benchmarks" / "article.gitlab-ci.yml", article / ".gitlab-ci.yml")
        git(article, "commit", "-q", "-am", "the article's pipeline")

        results = [
            measure("template: keep-wheels (default)", keep, args.warm_runs),
            measure("template: prune", prune, args.warm_runs),
            measure("article: prune --ci everywhere", article, args.warm_runs),
        ]

    print(f"\nuv cache in CI, {len(args.deps)} runtime deps ({' '.join(args.deps)}) + dev tools;")
    print(f"gitlab-ci-local, jobs uv-cache/lint/test in parallel; medians of {args.warm_runs} warm runs\n")
    columns = ["cold s", "warm s", "install s", "restore s", "fetched", "cache MB", "zipped MB"]
    header = f"{'variant':34}" + "".join(f"{c:>10}" for c in columns)
    print(header)
    print("-" * len(header))
    for r in results:
        values = [
            f"{r.cold_s:.1f}",
            f"{statistics.median(r.warm_s):.1f}",
            f"{statistics.median(r.warm_install_s):.2f}",
            f"{statistics.median(r.warm_restore_s):.2f}",
            f"{statistics.median(r.warm_fetched):.0f}",
            f"{r.cache_bytes / 1e6:.1f}",
            f"{r.zipped_bytes / 1e6:.1f}",
        ]
        print(f"{r.name:34}" + "".join(f"{v:>10}" for v in values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
