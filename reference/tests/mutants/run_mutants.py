#!/usr/bin/python3
"""The mutation run (docs/mutation.md): every mutant relay of mutants.json against both runners.

For each mutant (and first the unmutated relay, which must pass everything) it starts the relay on a
free port, runs the C++ runner and pyharness against it at the same time, and reads their JSON
reports. A runner kills a mutant when it reports at least one scenario that did not pass (fail,
blocked, error, not run); `nonstrict` counts as passing, as it does for the exit code. It prints one
row per mutant, with the scenarios that failed and whether the failures landed on scenarios that own
the mutated requirement, then checks that each runner kills at least 95 %, that the survivors are
exactly those listed under "Survivors" in docs/mutation.md, that every failure is attributed to a
requirement the mutant breaks (but for the "Attribution exceptions" listed there), and that the two
runners agree on every scenario's verdict. Exit 0 if so, 1 if not, 2 if the run itself could not be
carried out.

    run_mutants.py --build-dir build --relays-dir build/reference/tests/mutants [--only ID ...]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutants as mutants_module  # noqa: E402

REPO = mutants_module.REPO
PYTHON = "/usr/bin/python3"
DOC = REPO / "docs" / "mutation.md"
KILL_RATE = 0.95
PASSING = {"pass", "nonstrict"}
RUN_TIMEOUT_S = 240  # one runner against one relay; a scenario gives up after 60 s at most
# Runs start at least this far apart: two runners starting at once cost a CPU second, and the latency
# that a burst of them causes widens every timing allowance (the suite gets less sensitive under load).
START_GAP_S = 2.0
_start_lock = threading.Lock()
_last_start = [0.0]
BASELINE = "(unmutated)"


class RunError(Exception):
    """The run could not be carried out: says nothing about the mutants."""


@dataclass
class Failure:
    scenario: str
    verdict: str
    requirement: str  # the requirement the runner attributed the failure to (for blocked: what blocked it)
    step: object = None


@dataclass
class RunnerResult:
    report: dict[str, dict] = field(default_factory=dict)  # scenario id -> entry of the JSON report
    failures: list[Failure] = field(default_factory=list)
    note: str = ""  # why there is no report, if there is none

    @property
    def killed(self) -> bool:
        return bool(self.failures) or bool(self.note)


@dataclass
class Outcome:
    id: str
    cpp: RunnerResult
    py: RunnerResult
    relay_note: str = ""  # the relay crashed, or would not stop
    seconds: float = 0.0
    reruns: list[str] = field(default_factory=list)  # earlier outcomes, when the mutant was run again


def absolute_path(text: str) -> Path:
    # The runners and relays run in other working directories.
    return Path(text).resolve()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=absolute_path, default=REPO / "build",
                        help="holds reference-relay and relay-conformance (default: build/)")
    parser.add_argument("--relays-dir", type=absolute_path, default=None,
                        help="holds the mutant-<id> relays (default: BUILD/reference/tests/mutants)")
    parser.add_argument("--scenarios", type=absolute_path, default=REPO / "scenarios", help="scenario folder for both runners")
    parser.add_argument("--out", type=absolute_path, default=None,
                        help="reports and logs per mutant, results.json, table.md (default: RELAYS/results)")
    parser.add_argument("--jobs", type=int, default=5,
                        help="mutants at once (default 5: a run mostly waits on protocol timers, but the "
                             "latency of a loaded machine widens the runners' timing allowances)")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants (no kill-rate or survivor check)")
    parser.add_argument("--doc", type=Path, default=DOC, help="lists the expected survivors (default docs/mutation.md)")
    args = parser.parse_args(argv)
    args.relays_dir = args.relays_dir or args.build_dir / "reference" / "tests" / "mutants"
    args.out = args.out or args.relays_dir / "results"
    return args


# --- scenarios: which requirements each one owns ---------------------------------------------------

def library(folder: Path) -> list[dict]:
    scenarios = []
    for path in sorted(folder.rglob("*.json")):
        if not path.name.endswith((".schema.json", "-vectors.json")):
            scenarios += json.loads(path.read_text(encoding="utf-8")).get("scenarios", [])
    return scenarios


def scenario_requirements(scenarios: list[dict]) -> dict[str, set[str]]:
    return {scenario["id"]: set(scenario["requirements"]) for scenario in scenarios}


def long_scenarios(scenarios: list[dict]) -> set[str]:
    """Scenarios the runners leave out unless told --include-long: run only against mutants marked long."""
    return {scenario["id"] for scenario in scenarios if "long" in scenario.get("tags", [])}


# --- one relay against both runners ----------------------------------------------------------------

def start_relay(binary: Path, log: Path) -> tuple[subprocess.Popen, str]:
    if not os.access(binary, os.X_OK):
        raise RunError(f"{binary} is not built (cmake --build build --target mutant-relays)")
    relay = subprocess.Popen([str(binary), "--port", "0", "--log-level", "warn"], stdout=subprocess.PIPE,
                             stderr=log.open("w"), start_new_session=True)
    with selectors.DefaultSelector() as selector:
        selector.register(relay.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=15)
    line = relay.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("ws://"):
        stop(relay)
        raise RunError(f"{binary} printed no ws:// URL within 15 s (got {line!r}); see {log}")
    return relay, line


def stop(process: subprocess.Popen) -> str:
    """SIGTERM, then SIGKILL after 5 s. Returns a note if the process had already died of something else."""
    died = process.poll()
    note = f"the relay had exited by itself (status {died})" if died is not None else ""
    if died is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()
    return note


def read_report(path: Path, runner: str, exit_code: int | None, output: Path, relay_died: bool) -> RunnerResult:
    """The runner's verdicts. Without a report, the mutant is killed only if its relay died (or the
    runner gave up on it); anything else is a fault of the run, not a verdict."""
    if exit_code is None:
        return RunnerResult(note=f"{runner} timed out after {RUN_TIMEOUT_S} s")
    if not path.exists():
        tail = output.read_text(errors="replace")[-600:].strip() if output.exists() else ""
        if not relay_died:
            raise RunError(f"{runner} wrote no report (exit {exit_code}) against a relay that is still running: {tail}")
        return RunnerResult(note=f"{runner} wrote no report (exit {exit_code}): {tail}")
    entries = {e["id"]: e for e in json.loads(path.read_text(encoding="utf-8"))["scenarios"]}
    failures = []
    for scenario, e in sorted(entries.items()):
        if e["verdict"] in PASSING:
            continue
        requirement = e.get("blocked_by") or (e.get("failure") or {}).get("requirement") or e.get("requirement") or ""
        step = (e.get("failure") or {}).get("step", e.get("step"))
        failures.append(Failure(scenario, e["verdict"], requirement, step))
    return RunnerResult(entries, failures)


def run_one(mutant_id: str, binary: Path, args: argparse.Namespace, include_long: bool = False) -> Outcome:
    folder = args.out / mutant_id.strip("()")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with _start_lock:
        time.sleep(max(0.0, _last_start[0] + START_GAP_S - time.monotonic()))
        _last_start[0] = time.monotonic()
    began = time.monotonic()
    relay, url = start_relay(binary, folder / "relay.log")
    try:
        cpp_out, py_out = (folder / "cpp.txt").open("w"), (folder / "py.txt").open("w")
        cpp = subprocess.Popen([str(args.runner), "run", "--url", url, "--scenarios", str(args.scenarios),
                                "--json", str(folder / "cpp.json")] + (["--include-long"] if include_long else []),
                               stdout=cpp_out, stderr=subprocess.STDOUT, cwd=folder)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "pyharness"), os.environ.get("PYTHONPATH")]))}
        py = subprocess.Popen([PYTHON, "-m", "pytest", "-p", "relay_harness.plugin", "-p", "no:cacheprovider", "-q",
                               "--relay-url", url, "--relay-json", str(folder / "py.json"),
                               "--scenarios", str(args.scenarios), str(args.scenarios)]
                              + (["--include-long"] if include_long else []),
                              stdout=py_out, stderr=subprocess.STDOUT, cwd=folder, env=env)
        codes = []
        for process in (cpp, py):
            try:
                codes.append(process.wait(timeout=max(1, RUN_TIMEOUT_S - (time.monotonic() - began))))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                codes.append(None)
        cpp_out.close()
        py_out.close()
    finally:
        relay_note = stop(relay)
    died = bool(relay_note)
    return Outcome(mutant_id,
                   read_report(folder / "cpp.json", "relay-conformance", codes[0], folder / "cpp.txt", died),
                   read_report(folder / "py.json", "pyharness", codes[1], folder / "py.txt", died),
                   relay_note, time.monotonic() - began)


# --- what the docs expect ----------------------------------------------------------------------------

def documented_section(doc: Path, title: str) -> str:
    text = doc.read_text(encoding="utf-8")
    section = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not section:
        raise RunError(f"{doc} has no '## {title}' section")
    return section.group(1)


def documented_exceptions(doc: Path, known: set[str]) -> set[str]:
    """The Attribution exceptions table of docs/mutation.md: `| `id` | reason |`."""
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", documented_section(doc, "Attribution exceptions"), re.M))
    if listed - known:
        raise RunError(f"{doc} lists attribution exceptions that are not in mutants.json: {', '.join(sorted(listed - known))}")
    return listed


def documented_survivors(doc: Path, known: set[str]) -> dict[str, set[str]]:
    """The Survivors table of docs/mutation.md: `| `id` | both / C++ runner / pyharness | reason |`.
    Returns the expected survivors per runner ("cpp", "py")."""
    expected = {"cpp": set(), "py": set()}
    for mutant_id, runners in re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]+?) \|", documented_section(doc, "Survivors"), re.M):
        if mutant_id not in known:
            raise RunError(f"{doc} lists a survivor {mutant_id} that is not in mutants.json")
        runners = runners.strip()
        if runners not in ("both", "C++ runner", "pyharness"):
            raise RunError(f"{doc}: survivor {mutant_id}: say which runner it survives: both, C++ runner or pyharness")
        if runners in ("both", "C++ runner"):
            expected["cpp"].add(mutant_id)
        if runners in ("both", "pyharness"):
            expected["py"].add(mutant_id)
    return expected


# --- the table -----------------------------------------------------------------------------------------

def describe_failures(outcome: Outcome, owned: dict[str, set[str]], requirements: set[str],
                      limit: int | None = None) -> str:
    """'scenario (verdict REQ)' for every scenario either runner failed, marking the runner when only
    one did, the scenarios that own a mutated requirement first (at most `limit`, then a count)."""
    cells = []
    cpp = {f.scenario: f for f in outcome.cpp.failures}
    py = {f.scenario: f for f in outcome.py.failures}
    for scenario in sorted(set(cpp) | set(py), key=lambda s: (not owned.get(s, set()) & requirements, s)):
        f = cpp.get(scenario) or py[scenario]
        only = "" if scenario in cpp and scenario in py else (" C++ only" if scenario in cpp else " pyharness only")
        cells.append(f"{scenario} ({f.verdict} {f.requirement}{only})")
    if limit is not None and len(cells) > limit:
        cells = cells[:limit] + [f"and {len(cells) - limit} more"]
    for runner, result in (("C++", outcome.cpp), ("pyharness", outcome.py)):
        if result.note:
            cells.append(f"[{runner}: {result.note[:200]}]")
    if outcome.relay_note:
        cells.append(f"[{outcome.relay_note}]")
    return "; ".join(cells) or "-"


def attribution(outcome: Outcome, requirements: set[str]) -> str:
    """"exact" when every scenario that did not pass fails with, or is blocked by, a requirement the
    mutant breaks, and one fails with it; else how many scenario verdicts are off."""
    if not (outcome.cpp.killed or outcome.py.killed):
        return "-"
    wrong = misattributed_by_either(outcome, requirements)
    return "exact" if not wrong else f"{len(wrong)} off"


def misattributed(result: RunnerResult, requirements: set[str]) -> list[str]:
    """What in one runner's verdicts breaks the attribution rule for a relay that breaks `requirements`:
    every scenario that does not pass fails with one of them (then it owns it) or is blocked by one of
    them, and at least one fails with one of them."""
    wrong = [f"{f.scenario} {f.verdict} {f.requirement or '-'}" for f in result.failures
             if f.verdict not in ("fail", "blocked") or f.requirement not in requirements]
    if result.killed and not any(f.verdict == "fail" and f.requirement in requirements for f in result.failures):
        wrong.append(f"no scenario fails with {' or '.join(sorted(requirements))}")
    return wrong


def misattributed_by_either(o: Outcome, requirements: set[str]) -> list[str]:
    return sorted(set(misattributed(o.cpp, requirements)) | set(misattributed(o.py, requirements)))


def disagreements(o: Outcome) -> list[str]:
    """Scenarios on which the two runners' verdicts (and, for one that did not pass, the requirement it
    names) differ."""
    def verdict(entry: dict) -> str:
        if entry["verdict"] in PASSING:
            return entry["verdict"]
        requirement = entry.get("blocked_by") or (entry.get("failure") or {}).get("requirement") or entry.get("requirement") or "-"
        return f"{entry['verdict']} {requirement}"
    return [f"{s}: C++ {verdict(o.cpp.report[s])}, pyharness {verdict(o.py.report[s])}"
            for s in sorted(set(o.cpp.report) | set(o.py.report))
            if s not in o.cpp.report or s not in o.py.report or verdict(o.cpp.report[s]) != verdict(o.py.report[s])]


def table(outcomes: list[Outcome], mutants: dict[str, mutants_module.Mutant], owned: dict[str, set[str]],
          for_docs: bool = False) -> list[str]:
    """The printed table; for_docs adds what each mutant does and shortens long lists of scenarios."""
    what = "| what it does " if for_docs else ""
    rows = [f"| mutant | requirements {what}| killed by C++ | killed by pyharness | attribution | scenarios that failed |",
            "| --- | --- | --- | --- | --- | --- |" + (" --- |" if for_docs else "")]
    for o in outcomes:
        m = mutants[o.id]
        failed = describe_failures(o, owned, set(m.requirements), limit=4 if for_docs else None)
        rerun = f" (run {len(o.reruns) + 1} times; earlier: {', '.join(o.reruns)})" if o.reruns else ""
        what = f"| {m.description.replace('|', '/')} " if for_docs else ""
        rows.append(f"| `{o.id}` | {', '.join(m.requirements)} {what}| {'y' if o.cpp.killed else 'n'} | "
                    f"{'y' if o.py.killed else 'n'} | {attribution(o, set(m.requirements))} | {failed}{rerun} |")
    return rows


def summary(o: Outcome) -> str:
    return f"C++ {'killed' if o.cpp.killed else 'survived'}, pyharness {'killed' if o.py.killed else 'survived'}"


# --- the run -------------------------------------------------------------------------------------------

def run_all(jobs: list[tuple[str, Path, bool]], args: argparse.Namespace, workers: int) -> dict[str, Outcome]:
    """jobs: (mutant id, relay, whether to include the long scenarios)."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_one, mutant_id, binary, args, include_long): mutant_id
                   for mutant_id, binary, include_long in jobs}
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            results[outcome.id] = outcome
            print(f"  {outcome.id}: {summary(outcome)} ({outcome.seconds:.0f} s)", flush=True)
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    all_mutants = {m.id: m for m in mutants_module.load()}
    selected = args.only or list(all_mutants)
    unknown = [i for i in selected if i not in all_mutants]
    if unknown:
        raise RunError(f"no such mutants: {', '.join(unknown)}")
    all_scenarios = library(args.scenarios)
    owned = scenario_requirements(all_scenarios)
    expected = None if args.only else documented_survivors(args.doc, set(all_mutants))
    exceptions = set() if args.only else documented_exceptions(args.doc, set(all_mutants))
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    # Copies, so that a rebuild of build/ during the run (the build directory is shared) cannot pull
    # a binary away from under it.
    (args.out / "bin").mkdir()
    args.runner = Path(shutil.copy2(args.build_dir / "relay-conformance", args.out / "bin"))
    args.reference_relay = Path(shutil.copy2(args.build_dir / "reference-relay", args.out / "bin"))

    print(f"mutation run: {len(selected)} mutants, {args.jobs} at once, both runners against each", flush=True)
    def job(mutant_id: str) -> tuple[str, Path, bool]:
        return mutant_id, args.relays_dir / f"mutant-{mutant_id}", all_mutants[mutant_id].long

    # The long scenarios run against the mutants marked long only; the unmutated relay runs them then too.
    any_long = any(all_mutants[i].long for i in selected)
    jobs = [(BASELINE, args.reference_relay, any_long)] + [job(i) for i in selected]
    results = run_all(jobs, args, args.jobs)

    # The unmutated relay must pass everything, else the run says nothing about the mutants.
    baseline = results.pop(BASELINE)
    if baseline.cpp.killed or baseline.py.killed:
        print("the unmutated relay did not pass every scenario; running it again alone", flush=True)
        baseline = run_one(BASELINE, args.reference_relay, args, any_long)
        if baseline.cpp.killed or baseline.py.killed:
            failed = describe_failures(baseline, owned, set())
            raise RunError(f"the unmutated reference relay fails, so the mutants cannot be judged: {failed}")
    expected_scenarios = set(baseline.cpp.report), set(baseline.py.report)
    long_ones = long_scenarios(all_scenarios)

    def misattributed_by_mutant(o: Outcome) -> list[str]:
        return misattributed_by_either(o, set(all_mutants[o.id].requirements))

    # A mutant whose outcome differs from the docs, or on which the runners disagree, runs again alone:
    # under load a window can be missed by one runner.
    def unexpected(o: Outcome) -> bool:
        if expected is None:
            return False
        return ((o.id in expected["cpp"]) == o.cpp.killed or (o.id in expected["py"]) == o.py.killed
                or bool(disagreements(o)) or bool(misattributed_by_mutant(o)) != (o.id in exceptions))

    again = [i for i in selected if unexpected(results[i])]
    if again:
        print(f"running {len(again)} mutants whose outcome differs from {args.doc.name} again, one at a time", flush=True)
        for mutant_id, outcome in run_all([job(i) for i in again], args, 1).items():
            outcome.reruns = results[mutant_id].reruns + [summary(results[mutant_id])]
            results[mutant_id] = outcome

    shutil.rmtree(args.out / "bin")  # the copies of the binaries: 300 MB of debug information
    outcomes = [results[i] for i in selected]
    for o in outcomes:  # a survivor must have run every scenario the unmutated relay ran
        for runner, result, scenarios in (("C++", o.cpp, expected_scenarios[0]), ("pyharness", o.py, expected_scenarios[1])):
            if not all_mutants[o.id].long:
                scenarios = scenarios - long_ones
            if not result.killed and set(result.report) != scenarios:
                raise RunError(f"mutant {o.id}: the {runner} report covers other scenarios than the unmutated run's")

    rows = table(outcomes, all_mutants, owned)
    print("\n".join(rows))
    off = [f"  {o.id} ({', '.join(all_mutants[o.id].requirements)}){' (an attribution exception)' if o.id in exceptions else ''}: "
           f"{'; '.join(wrong)}" for o in outcomes if (wrong := misattributed_by_mutant(o))]
    if off:
        print("\nverdicts attributed to something the mutant does not break:\n" + "\n".join(off))

    differ = [f"{o.id}: {line}" for o in outcomes for line in disagreements(o)]
    print(f"\nthe runners' verdicts differ on {len(differ)} scenario runs" + "".join(f"\n  {line}" for line in differ))

    cpp_killed = sum(o.cpp.killed for o in outcomes)
    py_killed = sum(o.py.killed for o in outcomes)
    n = len(outcomes)
    print(f"\nC++ runner kills {cpp_killed}/{n} ({100 * cpp_killed / n:.1f} %), "
          f"pyharness kills {py_killed}/{n} ({100 * py_killed / n:.1f} %), {time.monotonic() - began:.0f} s")
    (args.out / "table.md").write_text("\n".join(table(outcomes, all_mutants, owned, for_docs=True)) + "\n", encoding="utf-8")
    (args.out / "results.json").write_text(json.dumps([{
        "id": o.id, "requirements": list(all_mutants[o.id].requirements),
        "killed_by_cpp": o.cpp.killed, "killed_by_pyharness": o.py.killed,
        "cpp_failures": [vars(f) for f in o.cpp.failures], "pyharness_failures": [vars(f) for f in o.py.failures],
        "notes": [x for x in (o.cpp.note, o.py.note, o.relay_note) if x], "reruns": o.reruns, "seconds": round(o.seconds, 1),
    } for o in outcomes], indent=2) + "\n", encoding="utf-8")

    if expected is None:
        return 0
    problems = []
    for runner, killed in (("C++ runner", cpp_killed), ("pyharness", py_killed)):
        if killed < KILL_RATE * n:
            problems.append(f"{runner} kills {killed}/{n}, under {KILL_RATE:.0%}")
    for key, runner, attr in (("cpp", "C++ runner", "cpp"), ("py", "pyharness", "py")):
        survivors = {o.id for o in outcomes if not getattr(o, attr).killed}
        for mutant_id in sorted(survivors - expected[key]):
            problems.append(f"new survivor for the {runner}: {mutant_id} ({all_mutants[mutant_id].description}): "
                            f"strengthen a scenario, or list it under Survivors in {args.doc.name} with the reason")
        for mutant_id in sorted(expected[key] - survivors):
            problems.append(f"{mutant_id} is listed as surviving the {runner} in {args.doc.name} but was killed: "
                            f"take it off the list")
    for o in outcomes:
        wrong = misattributed_by_mutant(o)
        if wrong and o.id not in exceptions:
            problems.append(f"{o.id} ({', '.join(all_mutants[o.id].requirements)}) is misattributed: {'; '.join(wrong)}: "
                            f"make the step it fails on a precondition naming the requirement it relies on, or list the "
                            f"mutant under Attribution exceptions in {args.doc.name} with the reason")
        if not wrong and o.id in exceptions:
            problems.append(f"{o.id} is listed under Attribution exceptions in {args.doc.name} but is attributed "
                            f"exactly: take it off the list")
    problems += [f"the runners disagree on {line}" for line in differ]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (RunError, mutants_module.MutantError) as error:
        print(f"run_mutants.py: {error}", file=sys.stderr)
        sys.exit(2)
