"""Backup and restore of everything a campaign is made of, taken while the system runs.

    python -m ops.backup create --to /backups/2027-03-14     # PG* variables, INSCRIPTIONS_DATA_DIR
    python -m ops.backup restore --from /backups/2027-03-14 --pgdata /srv/pg/data

What it holds:
- `postgres/`: a physical base backup of the PostgreSQL cluster (`pg_basebackup`, tar, gzip,
  WAL streamed alongside): the app's database AND Temporal's two databases at **one instant**,
  so a dossier's account, its files index and its workflow (history, timers, visibility) agree.
  Separate `pg_dump`s would each be consistent with itself only. The connection comes from the
  standard PGHOST, PGPORT, PGUSER (a role with REPLICATION, e.g. the cluster's superuser) and
  PGPASSWORD variables.
- `files.tar`: the uploaded and generated files (INSCRIPTIONS_DATA_DIR/files), copied AFTER the
  database backup has finished. Files are written (then renamed) before anything refers to them
  and never change, so every file the restored databases know is in the copy; files newer than
  the databases' instant are harmless extras.
- `manifest.json`: when, how long, sizes, file count.

Restore: stop what runs on the target, `restore` unpacks the cluster into an empty PGDATA (owned
by `postgres` when run as root) and the files into INSCRIPTIONS_DATA_DIR; start PostgreSQL (it
replays the streamed WAL to the backup's end), then the Temporal server, `python -m ops.migrate`,
workers and web. Recovery point: the end of the last backup (schedule it, e.g. hourly; WAL
archiving would shrink it to seconds). `devtools/restore_drill.py` rehearses the whole thing.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

from infra.settings import get_settings


def _pg_program(name: str) -> str:
    try:
        from devtools.postgres import bindir

        return str(bindir() / name)
    except Exception:
        found = shutil.which(name)
        if not found:
            raise SystemExit(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client)") from None
        return found


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def create(target: Path, files_dir: Path) -> dict:
    target.mkdir(parents=True, exist_ok=False)
    began = time.monotonic()
    started_at = datetime.now(UTC)
    subprocess.run(
        [
            _pg_program("pg_basebackup"),
            *("-D", str(target / "postgres")),
            *("--format", "tar", "--gzip", "--wal-method", "stream", "--checkpoint", "fast", "--no-password"),
        ],
        check=True,
    )
    database_done = time.monotonic()
    count = 0
    with tarfile.open(target / "files.tar", "w") as archive:
        if files_dir.is_dir():
            for path in sorted(files_dir.rglob("*")):
                if path.is_file() and not path.name.endswith(".part"):
                    archive.add(path, arcname=str(path.relative_to(files_dir)))
                    count += 1
    manifest = {
        "started_at": started_at.isoformat(),
        "database_seconds": round(database_done - began, 1),
        "files_seconds": round(time.monotonic() - database_done, 1),
        "postgres_bytes": size_of(target / "postgres"),
        "files_bytes": size_of(target / "files.tar"),
        "files": count,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(source: Path, pgdata: Path, files_dir: Path) -> None:
    if pgdata.exists() and any(pgdata.iterdir()):
        raise SystemExit(f"{pgdata} is not empty: restore into a new, empty directory")
    pgdata.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / "postgres" / "base.tar.gz") as archive:
        archive.extractall(pgdata, filter="data")
    with tarfile.open(source / "postgres" / "pg_wal.tar.gz") as archive:
        archive.extractall(pgdata / "pg_wal", filter="data")
    pgdata.chmod(0o700)
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the data belongs to `postgres`
        owner = pwd.getpwnam("postgres")
        for path in [pgdata, *pgdata.rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid, follow_symlinks=False)
    files_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / "files.tar") as archive:
        archive.extractall(files_dir, filter="data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.backup", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("create", help="sauvegarder la base PostgreSQL (app et Temporal) et les fichiers")
    made.add_argument("--to", type=Path, required=True)
    back = sub.add_parser("restore", help="restaurer dans un PGDATA vide et le dossier de données")
    back.add_argument("--from", dest="source", type=Path, required=True)
    back.add_argument("--pgdata", type=Path, required=True)
    args = parser.parse_args(argv)
    files_dir = get_settings().files_dir
    if args.command == "create":
        print(json.dumps(create(args.to, files_dir), indent=2))
    else:
        restore(args.source, args.pgdata, files_dir)
        print(f"Restauré : {args.pgdata} et {files_dir}. Démarrez PostgreSQL, Temporal, puis ops.migrate.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
