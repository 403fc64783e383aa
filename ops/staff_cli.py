"""Staff accounts from the command line — the only way to create one or change a role.

(The accounts' table is `infra.staff_accounts`; this is the operators' tool that manages it.)

    python -m ops.staff_cli create-account jdupont --name "Jeanne Dupont" --role instructeur
    python -m ops.staff_cli set-password jdupont
    python -m ops.staff_cli set-role jdupont administrateur
    python -m ops.staff_cli disable jdupont | enable jdupont
    python -m ops.staff_cli list

`set-password` also ends the sessions the account has open (they are bound to the password).

Passwords are typed twice at a hidden prompt, or read from standard input with
`--password-stdin` (for provisioning scripts); never from the command line, where they would
land in shell history and process lists. Settings come from the INSCRIPTIONS_* environment, as
for the web app and the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Sequence

from sqlalchemy import select

from infra.database import Database
from infra.settings import get_settings
from infra.staff_accounts import StaffAccount, StaffRole
from web.security import hash_password, password_problem

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_STAFF_PASSWORD = 12


class CliError(Exception):
    pass


def normalise_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise CliError("Identifiant invalide : 3 à 64 caractères, lettres minuscules, chiffres, « . », « _ » ou « - ».")
    return login


def staff_password_problem(password: str, personal: tuple[str, ...] = ()) -> str | None:
    """The candidates' rules (common passwords refused, `web.security.password_problem`) and a
    longer minimum; `personal`: the login and the person's name, which it must not reuse."""
    if len(password) < MIN_STAFF_PASSWORD:
        return f"Le mot de passe d'un compte du service doit comporter au moins {MIN_STAFF_PASSWORD} caractères."
    return password_problem(password, personal)


def read_password(from_stdin: bool, personal: tuple[str, ...] = ()) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Confirmez le mot de passe : ") != password:
            raise CliError("Les deux saisies ne correspondent pas.")
    problem = staff_password_problem(password, personal)
    if problem:
        raise CliError(problem)
    return password


async def create_account(
    database: Database, login: str, full_name: str, role: StaffRole, password: str
) -> StaffAccount:
    login = normalise_login(login)
    if not full_name.strip():
        raise CliError("Indiquez le nom de la personne (--name).")
    problem = staff_password_problem(password, (login, full_name))
    if problem:
        raise CliError(problem)
    async with database.sessions() as session:
        if await session.get(StaffAccount, login) is not None:
            raise CliError(f"Le compte « {login} » existe déjà.")
        account = StaffAccount(
            login=login, full_name=full_name.strip(), role=str(role), password_hash=hash_password(password)
        )
        session.add(account)
        await session.commit()
        return account


async def _change(database: Database, login: str, **values) -> StaffAccount:
    async with database.sessions() as session:
        account = await session.get(StaffAccount, normalise_login(login))
        if account is None:
            raise CliError(f"Aucun compte « {login} ».")
        for name, value in values.items():
            setattr(account, name, value)
        await session.commit()
        return account


async def run(args: argparse.Namespace, database: Database) -> str:
    if args.command == "create-account":
        password = read_password(args.password_stdin, (args.login, args.name))
        account = await create_account(database, args.login, args.name, StaffRole(args.role), password)
        return f"Compte « {account.login} » créé ({account.staff_role.label})."
    if args.command == "set-password":
        account = await _change(
            database, args.login, password_hash=hash_password(read_password(args.password_stdin, (args.login,)))
        )
        return f"Mot de passe de « {account.login} » modifié."
    if args.command == "set-role":
        account = await _change(database, args.login, role=str(StaffRole(args.role)))
        return f"« {account.login} » est désormais {account.staff_role.label.lower()}."
    if args.command in ("disable", "enable"):
        account = await _change(database, args.login, active=args.command == "enable")
        return f"Compte « {account.login} » {'réactivé' if account.active else 'désactivé'}."
    async with database.sessions() as session:
        accounts = (await session.scalars(select(StaffAccount).order_by(StaffAccount.login))).all()
    return (
        "\n".join(
            f"{a.login:<20} {a.staff_role.label:<15} {'actif' if a.active else 'désactivé':<10} {a.full_name}"
            for a in accounts
        )
        or "Aucun compte."
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops.staff_cli", description="Comptes du service concours.")
    sub = p.add_subparsers(dest="command", required=True)
    roles = [str(r) for r in StaffRole]
    create = sub.add_parser("create-account", help="créer un compte")
    create.add_argument("login")
    create.add_argument("--name", required=True, help="prénom et nom")
    create.add_argument("--role", required=True, choices=roles)
    create.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    password = sub.add_parser("set-password", help="changer un mot de passe")
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true")
    role = sub.add_parser("set-role", help="changer un rôle")
    role.add_argument("login")
    role.add_argument("role", choices=roles)
    for name in ("disable", "enable"):
        sub.add_parser(name, help="désactiver" if name == "disable" else "réactiver").add_argument("login")
    sub.add_parser("list", help="lister les comptes")
    return p


async def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    database = Database(get_settings().database_url)
    try:
        await database.migrate()  # the first account may come before the web's first start
        print(await run(args, database))
        return 0
    except CliError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    finally:
        await database.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
