"""``timbre batch MANIFEST``: render many jobs, here or on a Ray cluster.

The manifest (CSV or JSON Lines, one job a row) is described in
:mod:`desktop.session.manifest`; the run's guarantees (skip what is done, retry, report,
cancel) in :mod:`desktop.session.batch`. This module only turns flags into that call and
prints progress as rows finish.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="render a manifest of jobs (CSV/JSONL), on this machine or a Ray cluster",
        description="Each row is one job: kind (music, sfx, speech, convert, master) or engine, "
        "and that engine's settings by name (see timbre run ENGINE --help). A rerun skips the "
        "rows already rendered; failed rows are retried once, then reported.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help="a .csv or .jsonl file")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", metavar="P", help="store the takes in this project")
    where.add_argument("-o", "--output-dir", metavar="DIR", help="write one file per take here")
    p.add_argument("--ray", metavar="ADDRESS", nargs="?", const="setting",
                   help="run on Ray: 'local' starts a private cluster here, an address "
                   "(ray://host:10001) joins one; --ray alone uses the address in Settings")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes here (default: one per core), or the private "
                   "cluster's CPUs")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="times a failing row is tried again before it is reported (default 1)")
    p.set_defaults(func=cmd_batch)


def ray_address(flag: str | None) -> str | None:
    """``--ray`` as given; bare ``--ray`` is the cluster address in Settings (or local)."""
    if flag != "setting":
        return flag
    from engines.cluster import LOCAL, cluster_address

    return cluster_address() or LOCAL


def cmd_batch(args: argparse.Namespace) -> int:
    from desktop.session.batch import run_batch
    from desktop.session.manifest import load_rows
    from engines.errors import BadInput

    if args.workers is not None and args.workers < 1:
        raise BadInput("--workers must be 1 or more.")
    rows = load_rows(args.manifest)
    project = None
    if args.project:
        from desktop.project.store import Project

        project = Project.open(args.project)
    try:
        report = run_batch(rows, output_dir=args.output_dir, project=project,
                           ray=ray_address(args.ray), workers=args.workers,
                           retries=max(0, args.retries), progress=ProgressLines())
    finally:
        if project is not None:
            project.close()
    for s in report.failed:
        print(f"row {s.row.number} failed: {s.error}", file=sys.stderr)
    where = args.project or str(Path(args.output_dir))
    print(f"{report.count('done')} rendered, {report.count('skipped')} already done, "
          f"{len(report.failed)} failed in {report.elapsed:.1f} s → {where} "
          f"(state: {report.state_file})")
    return 1 if report.failed else 0


class ProgressLines:
    """One line per finished row on stderr: which row, how long, the batch's totals."""

    def __call__(self, p) -> None:
        s = p.changed
        if s is None or s.state not in ("done", "failed"):
            return
        what = ", ".join(s.outputs) if s.state == "done" else s.error
        print(f"row {s.row.number} {s.state} ({s.seconds:.1f} s): {what} — {p.line()}",
              file=sys.stderr, flush=True)
