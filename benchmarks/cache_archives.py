"""A cache folder archived and extracted the way GitLab Runner does, in each of its formats.

The runner's cache archiver (``CACHE_COMPRESSION_FORMAT``; gitlab-runner !4107, !4807, !6892):

- ``zip``: deflate per entry; the default. Single-threaded, or on every core with
  ``FF_USE_FASTZIP``, whose ``CACHE_COMPRESSION_LEVEL`` picks the deflate level;
- ``zipzstd``: a zip container whose entries are each a zstd frame (method 93), so it is
  archived and, with fastzip, extracted on every core;
- ``tarzstd``: a tar stream compressed as one zstd stream: single-core both ways.

Symlinks are kept as links (uv's cache is full of them). Everything here is real: real zip
and tar containers, real zstd frames (the ``zstandard`` bindings), real files written. The
benchmark prices restores with it and a test restores a template cache from it.
"""

from __future__ import annotations

import stat
import struct
import tarfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import zstandard

ZSTD_METHOD = 93  # APPNOTE 4.4.5: Zstandard
# zstd levels the runner's levels map to (klauspost/compress: SpeedDefault ~ 3, SpeedFastest ~ 1).
ZSTD_LEVELS = {"default": 3, "fast": 1}
DEFLATE_LEVELS = {"default": 6, "fast": 3}


@dataclass(frozen=True)
class Format:
    """One way the runner can store a cache: its container, codec, level and parallelism."""

    name: str  # CACHE_COMPRESSION_FORMAT (plus the level, where it is not the default)
    container: str  # "zip" or "tar"
    codec: str  # "deflate" or "zstd"
    level: str = "default"
    parallel: bool = True  # fastzip: every core (zip containers only)


FORMATS = (
    Format("zip", "zip", "deflate"),
    Format("zip (fast)", "zip", "deflate", "fast"),
    Format("zipzstd", "zip", "zstd"),
    Format("tarzstd", "tar", "zstd", parallel=False),
)
PLAIN_ZIP = Format("zip (plain)", "zip", "deflate", parallel=False)  # a runner without fastzip


def entries(folder: Path) -> list[Path]:
    """The files and symlinks of ``folder``, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_symlink() or p.is_file())


# ---------------------------------------------------------------- zip: deflate or zstd entries


def _compress(data: bytes, fmt: Format) -> bytes:
    if fmt.codec == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVELS[fmt.level]).compress(data)
    compressor = zlib.compressobj(DEFLATE_LEVELS[fmt.level], zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _entry(folder: Path, path: Path, fmt: Format) -> tuple[bytes, bytes, int, int, int, int]:
    """(name, compressed data, crc, uncompressed size, mode, method) of one zip entry."""
    name = path.relative_to(folder).as_posix().encode()
    if path.is_symlink():
        data, mode = str(path.readlink()).encode(), stat.S_IFLNK | 0o777
    else:
        data, mode = path.read_bytes(), stat.S_IFREG | (path.stat().st_mode & 0o777)
    method = ZSTD_METHOD if fmt.codec == "zstd" else zipfile.ZIP_DEFLATED
    return name, _compress(data, fmt), zlib.crc32(data), len(data), mode, method


def _write_zip(folder: Path, archive: Path, fmt: Format, threads: int) -> None:
    """A zip archive of ``folder``: every entry compressed on its own (in parallel with fastzip)."""
    with ThreadPoolExecutor(threads if fmt.parallel else 1) as pool:
        compressed = list(pool.map(lambda p: _entry(folder, p, fmt), entries(folder)))
    central, offset = [], 0
    with archive.open("wb") as out:
        for name, data, crc, size, mode, method in compressed:
            version = 63 if method == ZSTD_METHOD else 20
            header = struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, version, 0, method, 0, 0x21, crc, len(data), size, len(name), 0
            )
            out.write(header + name + data)
            central.append(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    (3 << 8) | version,
                    version,
                    0,
                    method,
                    0,
                    0x21,
                    crc,
                    len(data),
                    size,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    mode << 16,
                    offset,
                )
                + name
            )
            offset += len(header) + len(name) + len(data)
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))


def _zip_members(archive: bytes) -> list[tuple[str, int, int, int, int]]:
    """(name, method, data offset, compressed size, mode) of every entry, from the central directory."""
    end = archive.rindex(b"PK\x05\x06")
    count, _, start = struct.unpack_from("<HII", archive, end + 10)
    members, position = [], start
    for _ in range(count):
        method, csize, name_len, extra_len, comment_len = (
            struct.unpack_from("<H", archive, position + 10)[0],
            struct.unpack_from("<I", archive, position + 20)[0],
            *struct.unpack_from("<HHH", archive, position + 28),
        )
        external, local = struct.unpack_from("<II", archive, position + 38)
        name = archive[position + 46 : position + 46 + name_len].decode()
        local_name, local_extra = struct.unpack_from("<HH", archive, local + 26)
        members.append((name, method, local + 30 + local_name + local_extra, csize, external >> 16))
        position += 46 + name_len + extra_len + comment_len
    return members


def _restore(target: Path, name: str, data: bytes, mode: int) -> None:
    path = target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_ISLNK(mode):
        path.symlink_to(data.decode())
    else:
        path.write_bytes(data)
        path.chmod(mode & 0o777 or 0o644)


def _extract_zip(archive: Path, target: Path, fmt: Format, threads: int) -> None:
    raw = archive.read_bytes()

    def one(member: tuple[str, int, int, int, int]) -> None:
        name, method, offset, size, mode = member
        data = raw[offset : offset + size]
        if method == ZSTD_METHOD:
            data = zstandard.ZstdDecompressor().decompress(data)
        elif method == zipfile.ZIP_DEFLATED:
            data = zlib.decompress(data, -15)
        _restore(target, name, data, mode)

    with ThreadPoolExecutor(threads if fmt.parallel else 1) as pool:
        list(pool.map(one, _zip_members(raw)))


# ---------------------------------------------------------------- tar + one zstd stream


def _write_tar(folder: Path, archive: Path, fmt: Format) -> None:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVELS[fmt.level])
    with (
        archive.open("wb") as out,
        compressor.stream_writer(out) as stream,
        tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in entries(folder):
            tar.add(path, path.relative_to(folder).as_posix(), recursive=False)


def _extract_tar(archive: Path, target: Path) -> None:
    with (
        archive.open("rb") as raw,
        zstandard.ZstdDecompressor().stream_reader(raw) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        tar.extractall(target, filter="tar")


# ---------------------------------------------------------------- the two operations, timed


def write(folder: Path, archive: Path, fmt: Format, threads: int) -> float:
    """Archive ``folder`` into ``archive`` as the runner would; return the seconds it took."""
    start = time.perf_counter()
    if fmt.container == "tar":
        _write_tar(folder, archive, fmt)
    else:
        _write_zip(folder, archive, fmt, threads)
    return time.perf_counter() - start


def extract(archive: Path, target: Path, fmt: Format, threads: int) -> float:
    """Restore ``archive`` into ``target`` as the runner would; return the seconds it took."""
    target.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if fmt.container == "tar":
        _extract_tar(archive, target)
    else:
        _extract_zip(archive, target, fmt, threads)
    return time.perf_counter() - start
