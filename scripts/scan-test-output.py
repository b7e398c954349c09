#!/usr/bin/env python3
"""Scans everything the test suite printed for unmasked SSNs.

    scripts/scan-test-output.py DIR

DIR holds what scripts/test.sh kept: each test target's own output (its
in-process logs included) and every child process's output and log files
(CSE_TEST_OUTPUT_DIR). Every SSN in the tests' data is in the 900-999 area
(CaseScenarios' FakePeople, and the fixtures follow it), a range the SSA never
issues, so any 9xx-xx-xxxx or 9xxxxxxxx standing alone is one of them, written
out in full. Employer FEINs are nine digits too and are public: a number that
follows a "fein" key on its line is not counted. Exits 1 naming each file and
line (the number itself masked) when anything is found.
"""
import os
import re
import sys

SSN = re.compile(r"(?<![\w.])9\d{2}(-?)\d{2}\1\d{4}(?![\w])")
FEIN_BEFORE = re.compile(r"fein\W{0,4}$", re.IGNORECASE)


def findings(path):
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            for match in SSN.finditer(line):
                if FEIN_BEFORE.search(line[max(0, match.start() - 12):match.start()]):
                    continue
                yield number, match.group(0)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: scan-test-output.py DIR", file=sys.stderr)
        return 2
    files = 0
    found = []
    for folder, _, names in os.walk(sys.argv[1]):
        for name in sorted(names):
            path = os.path.join(folder, name)
            files += 1
            for number, text in findings(path):
                found.append(f"{os.path.relpath(path, sys.argv[1])}:{number}: ***-**-{text[-4:]}")
    if found:
        print(f"scan-test-output: {len(found)} unmasked SSNs in the test output:", file=sys.stderr)
        for line in found[:50]:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"scan-test-output: no unmasked SSN in {files} files of test output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
