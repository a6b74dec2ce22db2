"""Bounds checked before a file is opened: its size, and what a zip package says it holds.

A zip bomb (a .docx whose document.xml inflates to a gigabyte) costs python-docx seconds and
gigabytes before lxml gives up; the zip central directory records every member's sizes, so it
is refused from those numbers without inflating anything.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipeline.errors import ExtractionError

MB = 1024 * 1024
# Members smaller than this may compress as well as they like (a styles part full of spaces).
_RATIO_FLOOR_BYTES = 1 * MB


def check_file_size(path: Path, max_file_mb: float) -> None:
    size = path.stat().st_size
    if size > max_file_mb * MB:
        raise ExtractionError(
            "too_large",
            f"The file is {size / MB:.1f} MB, larger than the {max_file_mb:g} MB limit "
            "(extract.max_file_mb), so it was not opened. Ask for a smaller version, or raise the "
            "limit.",
        )


def open_checked_zip(path: Path, max_uncompressed_mb: float, max_ratio: float) -> zipfile.ZipFile:
    """Open a zip package after checking the sizes its central directory records.

    Raises `too_large` for a package that would inflate beyond `max_uncompressed_mb` or with a
    member that inflates more than `max_ratio` times, and `corrupt` for a broken archive.
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ExtractionError(
            "corrupt",
            f"The file is a damaged or incomplete zip package ({exc}); it may have been cut off "
            "while copying or downloading. Ask the contributor to send it again.",
        ) from None
    try:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            if info.file_size > _RATIO_FLOOR_BYTES and info.compress_size > 0:
                ratio = info.file_size / info.compress_size
                if ratio > max_ratio:
                    raise ExtractionError(
                        "too_large",
                        f"The package member {info.filename} would inflate {ratio:.0f} times, to "
                        f"{info.file_size / MB:.0f} MB (a zip bomb, or a badly made file); it was "
                        "refused without being unpacked. Ask the contributor to save the document "
                        "again.",
                    )
        if total > max_uncompressed_mb * MB:
            raise ExtractionError(
                "too_large",
                f"The package would unpack to {total / MB:.0f} MB, more than the "
                f"{max_uncompressed_mb:g} MB limit (extract.max_uncompressed_mb); it was refused "
                "without being unpacked. Ask for a smaller version, or raise the limit.",
            )
    except BaseException:
        zf.close()
        raise
    return zf
