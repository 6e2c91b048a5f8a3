"""Shared by the reports of the SIP benchmark scripts (bench/sip-redirect.sh,
bench/sip-b2bua.sh), which run it with PYTHONPATH=bench: reading SIPp's
statistics files, and the table of each server's highest clean rate."""

import csv
import os


def last_stats(path, folder=None):
    """The final, cumulative line of SIPp's -trace_stat file, as a dict (a
    relative path is taken from `folder` when one is given); None when the
    file is missing or has no data line."""
    if folder is not None and not os.path.isabs(path):
        path = os.path.join(folder, path)
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return None
    if len(rows) < 2:
        return None
    return dict(zip(rows[0], rows[-1]))


def print_highest_clean(table, servers, rates, n_runs):
    """Each server's highest rate at which all n_runs runs were made and
    clean; table maps (server, rate) to runs, each a dict with "clean"."""
    print()
    print("| Server | Highest clean rate (all runs made and clean) |")
    print("|---|---|")
    for server in servers:
        clean = [rate for rate in rates
                 if len(table.get((server, rate), [])) == n_runs
                 and all(x["clean"] for x in table[(server, rate)])]
        print(f"| {server} | {f'{max(clean):,} calls/s' if clean else 'none of ' + ', '.join(map(str, rates))} |")
