"""A finished console-script process leaves without freeing its objects, and loses no output;
a notebook or a test calling the same functions keeps nothing and goes on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pipeline import process_exit


def test_without_keeping_nothing_is_held_and_the_caller_goes_on():
    assert not process_exit._keeping   # only the console script's main() switches it on
    big = [object() for _ in range(1000)]
    process_exit.keep_until_exit(big)
    assert process_exit._kept == []
    process_exit.exit_if_keeping(3)     # returns: this test is still running


def test_the_console_process_flushes_its_output_and_exits_with_the_code(tmp_path: Path):
    log_file = tmp_path / "run.log"
    script = textwrap.dedent(f"""
        import logging, sys
        from pipeline.process_exit import exit_if_keeping, keep_objects_until_exit, keep_until_exit
        logging.basicConfig(filename={str(log_file)!r}, level=logging.INFO)
        keep_objects_until_exit()
        keep_until_exit([{{"paragraph": i}} for i in range(200_000)])
        print("Report: out/report.html")          # block-buffered: stdout is a pipe
        print("a warning", file=sys.stderr)
        logging.getLogger("cenb").warning("one file was quarantined")
        exit_if_keeping(0)
        print("not reached")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Report: out/report.html\n"
    assert proc.stderr == "a warning\n"
    assert "one file was quarantined" in log_file.read_text()


def test_the_exit_code_is_passed_on():
    script = ("from pipeline.process_exit import exit_if_keeping, keep_objects_until_exit\n"
              "keep_objects_until_exit()\nexit_if_keeping(5)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 5
