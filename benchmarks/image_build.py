"""Benchmark: the image job, cold and warm, as every pipeline runs it (a fresh image storage).

    uv run --group bench python -m benchmarks.image_build [--set small]

One project (the template's defaults plus a dependency set of benchmarks/pipeline_cache.py),
built with real buildah, base images pulled from Distribution's registry on loopback, each
build in a storage of its own (a runner's new container), side by side in one run:

- cold: the job before its layer cache (no ``--cache-from``): every build installs every
  dependency;
- warm, source change: the commit after a protected build wrote the cache (``--cache-to``),
  with one source file changed, read from the cache (``--cache-from``), as every later
  pipeline does;
- warm, lock change: the same, after one new dependency: the dependency layer is built again
  (a layer is reused whole or not at all).

It prints each build's seconds and the packages uv installed, and draws
``benchmarks/image_build.png``. It runs outside the suite (minutes: the base image is made with
mmdebstrap, and each build is a real one); tests/test_docker.py holds the mechanism.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from benchmarks.pipeline_cache import DEPENDENCY_SETS
from tests.kit import BASELINE, PACKAGE, commit_all, copier_cli, run, snapshot_template, use_test_environment
from tests.servers import serving_registry
from tests.test_docker import Buildah, base_images, build

HERE = Path(__file__).resolve().parent


def timed_build(root: Path, project: Path, images: dict[str, str], tag: str, *flags: str) -> tuple[float, int, str]:
    """One build in a fresh storage under ``root``: its seconds, the packages uv installed, and
    the storage driver (overlay where this user may mount one, else vfs: a copy per layer)."""
    root.mkdir(parents=True)
    buildah = Buildah(root)
    try:
        started = time.monotonic()
        log = build(buildah, project, images, tag, "--tls-verify=false", *flags)
        seconds = time.monotonic() - started
    finally:
        buildah.remove()
    return seconds, sum(int(n) for n in re.findall(r"Installed (\d+) packages?", log)), buildah.driver


def change_source(project: Path, text: str) -> None:
    greeting = project / "src" / PACKAGE / "greeting.py"
    greeting.write_text(greeting.read_text().replace('f"Hello, {cleaned}!"', f'f"{text}, {{cleaned}}!"'))


def chart(results: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 (the bench group's)

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    names = list(results)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.barh(names, [results[name]["seconds"] for name in names], color=["#c62828", "#2e7d32", "#f9a825"])
    for index, name in enumerate(names):
        result = results[name]
        ax.text(result["seconds"], index, f" {result['seconds']:.1f} s, {result['installed']} installed")
    ax.set_xlim(0, 1.45 * max(result["seconds"] for result in results.values()))  # room for the labels
    ax.set_xlabel("image job build, seconds (fresh storage each)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="small", choices=list(DEPENDENCY_SETS))
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/image-build-bench"))
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    use_test_environment()
    work = args.work
    run(["rm", "-rf", str(work)], Path("/"))
    work.mkdir(parents=True)
    template = snapshot_template(work / "template")
    project = work / "project"
    copier_cli("copy", template, project, cwd=work, data=BASELINE)
    run(["uv", "add", "--quiet", *DEPENDENCY_SETS[args.set]], project)
    commit_all(project, "the project and its dependencies")

    (work / "base").mkdir()
    base = Buildah(work / "base")
    results: dict[str, dict[str, float]] = {}
    try:
        local = base_images(base)
        with serving_registry(work / "registry") as registry:
            pulled = {}
            for name, ref in local.items():
                pulled[name] = f"{registry}/{ref.removeprefix('localhost/')}"
                base("push", "--quiet", "--tls-verify=false", ref, f"docker://{pulled[name]}")
            cache = f"{registry}/acme/payments/build-cache"
            # A protected pipeline writes the cache for the commit before.
            timed_build(work / "main-1", project, pulled, "app:1", "--cache-from", cache, "--cache-to", cache)
            change_source(project, "Hi")
            runs = {
                "cold (no layer cache)": (work / "cold", ()),
                "warm, source change": (work / "warm", ("--cache-from", cache)),
            }
            for name, (root, flags) in runs.items():
                seconds, installed, driver = timed_build(root, project, pulled, "app:2", *flags)
                results[name] = {"seconds": seconds, "installed": installed, "driver": driver}
            run(["uv", "add", "--quiet", "tomli-w"], project)  # a dependency none of the set has
            seconds, installed, driver = timed_build(work / "lock", project, pulled, "app:4", "--cache-from", cache)
            results["warm, lock change"] = {"seconds": seconds, "installed": installed, "driver": driver}
    finally:
        base.remove()
    cold = results["cold (no layer cache)"]["seconds"]
    print(f"Image job, dependency set {args.set!r} ({', '.join(DEPENDENCY_SETS[args.set])}), fresh storage each:")
    for name, result in results.items():
        speedup = cold / result["seconds"]
        installed, driver = result["installed"], result["driver"]
        print(f"  {name:24} {result['seconds']:6.1f} s  {installed:3d} packages installed  {speedup:4.1f}x  ({driver})")
    (args.out / "image_build.json").write_text(json.dumps({"set": args.set, "results": results}, indent=2) + "\n")
    chart(results, args.out / "image_build.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
