#!/usr/bin/python3
"""The mutants of mutants.json: load them, check that each still applies to today's core, and write
a mutant's patched copy of its file (docs/mutation.md).

    mutants.py check                 every mutant applies: exit 1 naming each one that does not
    mutants.py apply ID OUT          write mutant ID's patched copy of its file to OUT (only if it changed)
    mutants.py list                  id, file and requirements, one mutant a line
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
MUTANTS_JSON = HERE / "mutants.json"
PROTOCOL_MD = REPO / "docs" / "protocol.md"
# Mostly the core is mutated: a core mutant is linked with the transport and main() compiled once. The
# two requirements that live in the transport (LIMIT-2, CLOSE-1) have mutants there, each a whole relay_transport.
CORE = "reference/core"
TRANSPORT = "reference/transport"
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Edit:
    original: str
    replacement: str


@dataclass(frozen=True)
class Mutant:
    id: str
    requirements: tuple[str, ...]
    description: str
    file: str
    edits: tuple[Edit, ...]
    long: bool = False  # the bug shows only in scenarios tagged long, which the runs then include

    def apply(self, text: str) -> str:
        """The file's text with every edit made; MutantError if an original is not there exactly once."""
        for number, edit in enumerate(self.edits, start=1):
            where = f"edit {number}" if len(self.edits) > 1 else "its original"
            count = text.count(edit.original)
            if count != 1:
                found = "does not occur" if count == 0 else f"occurs {count} times"
                raise MutantError(f"mutant {self.id}: {where} {found} in {self.file} (it must occur exactly once): "
                                  f"{edit.original.strip()[:120]!r}")
            text = text.replace(edit.original, edit.replacement)
        return text

    def patched(self) -> str:
        return self.apply((REPO / self.file).read_text(encoding="utf-8"))


class MutantError(Exception):
    pass


def requirement_ids() -> set[str]:
    """The ids docs/protocol.md defines: `- **ID** (MUST|SHOULD)`."""
    return set(re.findall(r"^- \*\*([A-Z0-9-]+)\*\* \(", PROTOCOL_MD.read_text(encoding="utf-8"), re.M))


def load(path: Path = MUTANTS_JSON) -> list[Mutant]:
    """Every mutant, checked for shape (not whether it applies); MutantError names the first bad one."""
    document = json.loads(path.read_text(encoding="utf-8"))
    known = requirement_ids()
    mutants, seen = [], set()
    for index, entry in enumerate(document["mutants"]):
        name = entry.get("id", f"#{index}")
        missing = {"id", "requirements", "description", "file", "original", "replacement"} - set(entry)
        unknown = set(entry) - {"id", "requirements", "description", "file", "original", "replacement", "also", "long"}
        if missing or unknown:
            raise MutantError(f"mutant {name}: missing fields {sorted(missing)}, unknown fields {sorted(unknown)}")
        if not ID_PATTERN.fullmatch(name) or name in seen:
            raise MutantError(f"mutant {name}: ids are unique, lower case, [a-z0-9-]")
        seen.add(name)
        if Path(entry["file"]).parent not in (Path(CORE), Path(TRANSPORT)) or Path(entry["file"]).suffix != ".cpp" \
                or not (REPO / entry["file"]).exists():
            raise MutantError(f"mutant {name}: file must be a .cpp file of {CORE}/ or {TRANSPORT}/, not {entry['file']}")
        if not isinstance(entry.get("long", False), bool):
            raise MutantError(f"mutant {name}: long is true or false")
        if not entry["requirements"] or not set(entry["requirements"]) <= known:
            raise MutantError(f"mutant {name}: requirements {sorted(set(entry['requirements']) - known) or '[]'} "
                              f"are not ids in docs/protocol.md")
        if "\n" in entry["description"] or not entry["description"]:
            raise MutantError(f"mutant {name}: the description is one line")
        edits = [Edit(entry["original"], entry["replacement"])]
        edits += [Edit(e["original"], e["replacement"]) for e in entry.get("also", [])]
        if any(not e.original or e.original == e.replacement for e in edits):
            raise MutantError(f"mutant {name}: every edit must replace a non-empty original with something else")
        mutants.append(Mutant(name, tuple(entry["requirements"]), entry["description"], entry["file"], tuple(edits),
                              entry.get("long", False)))
    return mutants


def by_id(mutants: list[Mutant], mutant_id: str) -> Mutant:
    for mutant in mutants:
        if mutant.id == mutant_id:
            return mutant
    raise MutantError(f"no mutant {mutant_id} in {MUTANTS_JSON}")


def check() -> int:
    try:
        mutants = load()
    except MutantError as e:
        print(e, file=sys.stderr)
        return 1
    problems = []
    for mutant in mutants:
        try:
            mutant.patched()
        except MutantError as e:
            problems.append(str(e))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} of {len(mutants)} mutants no longer apply: update their snippets in {MUTANTS_JSON}",
              file=sys.stderr)
        return 1
    print(f"all {len(mutants)} mutants apply")
    return 0


def apply(mutant_id: str, out: Path) -> int:
    try:
        text = by_id(load(), mutant_id).patched()
    except MutantError as e:
        print(e, file=sys.stderr)
        return 1
    # Left alone when unchanged, so editing one mutant recompiles only that one.
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"] and len(argv) == 1:
        return check()
    if argv[:1] == ["apply"] and len(argv) == 3:
        return apply(argv[1], Path(argv[2]))
    if argv[:1] == ["list"] and len(argv) == 1:
        for mutant in load():
            print(f"{mutant.id}\t{mutant.file}\t{','.join(mutant.requirements)}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
