"""Sizes of netCDF inputs: the file size a header declares against the size found, and the
memory a variable's values would take against the machine's.

A netCDF-3 file cut short (``head -c``, a copy still running, a full disk) opens without
complaint, and the library reads the missing data as zeros (the fill value of nothing). Its
header, written first, declares where every variable starts and how long it is, so the size
the complete file must have is known before reading a value:

* netCDF-3 (classic ``CDF\\x01``, 64-bit offset ``CDF\\x02``, CDF-5 ``CDF\\x05``): the end of
  the last byte of data of every fixed-size variable (``begin`` + its length), and of the
  record variables (``begin`` of the records + ``numrecs`` x the record size), parsed from the
  header as the format specification lays it out
  (https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html);
* netCDF-4 / HDF5: the end-of-file address of the superblock, which the HDF5 library writes
  when it closes the file.

:func:`check_complete` refuses a file that is not a regular file (a FIFO would block the
reader for ever), or is shorter than its header declares. :func:`check_fits_in_memory` refuses
variables whose values could not be held in memory, before any is read.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

from landia.errors import InputError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
CLASSIC_SIGNATURE = b"CDF"

#: netCDF-3 external type code -> bytes per value
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}
_NC_DIMENSION, _NC_VARIABLE, _NC_ATTRIBUTE = 0x0A, 0x0B, 0x0C
_STREAMING = (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)  # numrecs of a file still being streamed
#: A netCDF-3 header longer than this is taken as corrupt and left to the library.
_MAX_HEADER = 1 << 26

#: How many times the float64 size of the values a reader holds at once (the masked array
#: netCDF4 returns, its float64 copy and the filled result).
READ_COPIES = 3


class _ShortHeader(Exception):
    """The header runs past the end of the bytes read."""


class HeaderCutShort(Exception):
    """The file ends inside its own header (netCDF-3 header or HDF5 superblock)."""


class _Header:
    """A cursor over the bytes of a netCDF-3 header (big-endian, 4-byte aligned)."""

    def __init__(self, data: bytes, version: int):
        self.data, self.pos = data, 4
        self.count = ">Q" if version == 5 else ">I"  # nelems, dim lengths, vsize
        self.offset = ">I" if version == 1 else ">Q"  # begin

    def take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise _ShortHeader
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def skip(self, n: int) -> None:
        self.pos += (n + 3) // 4 * 4
        if self.pos > len(self.data):
            raise _ShortHeader

    def name(self) -> None:
        self.skip(self.take(self.count))

    def list_header(self, expected_tag: int) -> int:
        tag, n = self.take(">I"), self.take(self.count)
        if tag not in (0, expected_tag):
            raise ValueError(f"tag {tag:#x} where {expected_tag:#x} expected")
        return n

    def attributes(self) -> None:
        for _ in range(self.list_header(_NC_ATTRIBUTE)):
            self.name()
            size = _TYPE_SIZES.get(self.take(">I"))
            if size is None:
                raise ValueError("unknown attribute type")
            self.skip(size * self.take(self.count))


def _classic_declared_size(data: bytes, file_size: int) -> int | None:
    """The smallest size of a complete netCDF-3 file with this header; None if the header is
    not netCDF-3 as specified (then the netCDF library judges the file)."""
    if len(data) < 4:
        raise HeaderCutShort
    version = data[3]
    if version not in (1, 2, 5):
        return None
    h = _Header(data, version)
    try:
        numrecs = h.take(h.count)
        dims = []
        for _ in range(h.list_header(_NC_DIMENSION)):
            h.name()
            dims.append(h.take(h.count))
        h.attributes()
        fixed_end, records = 0, []  # records: (begin, bytes per record)
        for _ in range(h.list_header(_NC_VARIABLE)):
            h.name()
            ids = [h.take(h.count) for _ in range(h.take(h.count))]
            h.attributes()
            size = _TYPE_SIZES.get(h.take(">I"))
            h.take(h.count)  # vsize: capped for huge variables, so the length is computed
            begin = h.take(h.offset)
            if size is None or any(i >= len(dims) for i in ids):
                return None
            shape = [dims[i] for i in ids]
            is_record = bool(shape) and shape[0] == 0
            n = 1
            for length in shape[1:] if is_record else shape:
                n *= length
            if is_record:
                records.append((begin, n * size))
            else:
                fixed_end = max(fixed_end, begin + n * size)
    except _ShortHeader:
        if len(data) >= file_size:
            raise HeaderCutShort from None
        raise
    except ValueError:
        return None
    declared = max(fixed_end, h.pos)
    if records and numrecs != 0 and numrecs not in _STREAMING:
        # Each record holds every record variable, padded to 4 bytes, except when there is only
        # one (then records are not padded); the last record need not carry its padding.
        padded = [(n + 3) // 4 * 4 for _, n in records]
        record_size = records[0][1] if len(records) == 1 else sum(padded)
        start = min(b for b, _ in records)
        last = max(b + n for b, n in records)
        declared = max(declared, (numrecs - 1) * record_size + last, start)
    return declared


def _hdf5_declared_size(path: Path, file_size: int) -> int | None:
    """The end-of-file address of the HDF5 superblock (at byte 0, 512, 1024, ...); None
    without a readable superblock."""
    with open(path, "rb") as fh:
        offset = 0
        while offset + 8 <= file_size:
            fh.seek(offset)
            block = fh.read(96)
            if block.startswith(HDF5_SIGNATURE):
                return _superblock_end(block)
            offset = 512 if offset == 0 else offset * 2
    return None


def _superblock_end(block: bytes) -> int | None:
    if len(block) < 14:
        raise HeaderCutShort
    version = block[8]
    if version in (0, 1):
        width = block[13]
        first = 24 + (4 if version == 1 else 0)  # base, free-space, end-of-file, driver
        eof_at = first + 2 * width
    elif version in (2, 3):
        width = block[9]
        eof_at = 12 + 2 * width  # base, extension, end-of-file, root
    else:
        return None
    if width not in (2, 4, 8):
        return None
    if eof_at + width > len(block):
        raise HeaderCutShort
    # The library stores the end of file counting a user block before the superblock (the
    # base address) in it: it is the size of the whole file.
    eof = int.from_bytes(block[eof_at:eof_at + width], "little")
    return None if eof == (1 << (8 * width)) - 1 else eof


def declared_size(path) -> int | None:
    """The size in bytes the complete file must have by its header (netCDF-3 or HDF5), or None
    when it is neither or its header cannot be understood.

    Raises
    ------
    HeaderCutShort
        The file ends inside its header.
    """
    path = Path(path)
    file_size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8 and head and HDF5_SIGNATURE.startswith(head):
        raise HeaderCutShort
    if head.startswith(HDF5_SIGNATURE) or not head.startswith(CLASSIC_SIGNATURE):
        return _hdf5_declared_size(path, file_size)
    # A netCDF-3 header is rarely over a few hundred kB (it lists names and attributes); read
    # it in growing pieces until it parses.
    chunk = 1 << 13
    while chunk <= _MAX_HEADER:
        with open(path, "rb") as fh:
            data = fh.read(chunk)
        try:
            return _classic_declared_size(data, file_size)
        except _ShortHeader:
            chunk *= 8
    return None


def check_regular(path, role: str) -> Path:
    """The path as a Path; InputError if it does not exist or is not a regular file (a FIFO,
    socket or device would block or flood the reader; a folder is no file)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: {role} file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {role} file: {exc}") from None
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)"
                if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise InputError(f"{path}: {role} file is {kind}, not a regular file")
    return path


def shortfall(path) -> str | None:
    """Why the regular file ``path`` is shorter than its header declares (the sizes declared
    and found), or None when it is complete or its size cannot be judged."""
    found = Path(path).stat().st_size
    try:
        declared = declared_size(path)
    except HeaderCutShort:
        return f"the file ends inside its header ({found} bytes)"
    if declared is None or declared <= found:
        return None
    return f"its header declares {declared} bytes, the file has {found}"


def check_complete(path, role: str) -> Path:
    """The path as a Path, refused with an InputError naming it when it is absent, not a
    regular file, or shorter than its header declares (truncated or still being written)."""
    path = check_regular(path, role)
    short = shortfall(path)
    if short is not None:
        raise InputError(f"{path}: {role} file is truncated or still being written: {short} "
                         f"(truncated or corrupt file?)")
    return path


def memory_bytes() -> int:
    """The memory this process may use: the machine's physical memory, or the control
    group's limit when lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit_file in ("/sys/fs/cgroup/memory.max",
                       "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def check_fits_in_memory(ds, path, names=None) -> None:
    """Refuse, before reading any value, a variable of ``ds`` (all, or those of ``names`` the
    file has) whose values as float64 (:data:`READ_COPIES` times over, as a reader holds them)
    exceed :func:`memory_bytes`; the message names the file, the variable and its
    dimensions."""
    limit = memory_bytes()
    for name in ds.variables if names is None else [n for n in names if n in ds.variables]:
        var = ds.variables[name]
        need = int(var.size) * 8 * READ_COPIES
        if need > limit:
            dims = ", ".join(f"{d}={n}" for d, n in zip(var.dimensions, var.shape))
            raise InputError(f"{path}: variable {name!r} has dimensions ({dims}): "
                             f"{int(var.size):.3g} values, {need / 2**30:.3g} GiB to read, more "
                             f"than this machine's memory ({limit / 2**30:.3g} GiB); expected "
                             f"a field on the model grid")
