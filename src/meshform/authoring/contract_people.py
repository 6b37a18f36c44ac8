"""contract_people: an ODCS contract's team as meshform owners (IAM members)."""

from __future__ import annotations

from meshform.authoring.contract_values import dicts


def members_of(data: dict) -> list[dict]:
    team = data.get("team")
    members = team.get("members") if isinstance(team, dict) else team
    return dicts(members)


def iam_member(username: str) -> str:
    """An ODCS username as an IAM member: `group:…`/`user:…` kept, a bare email read as `user:`."""
    return username if ":" in username or "@" not in username else f"user:{username}"


def contract_owners(data: dict, notes: list[str]) -> list[str]:
    """The contract's team members with the owner role, as IAM members (what was changed, in `notes`)."""
    owners = []
    for member in members_of(data):
        if str(member.get("role", "owner")).lower() != "owner" or not member.get("username"):
            continue
        username = str(member["username"])
        if ":" not in username and "@" not in username:
            notes.append(f"team member {username!r} is no IAM member (no email): left out; the domain's owners own it")
            continue
        owners.append(iam_member(username))
        if owners[-1] != username:
            notes.append(f"team member {username!r} written as IAM member {owners[-1]!r}")
    return owners
