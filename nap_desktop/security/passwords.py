# SPDX-License-Identifier: GPL-3.0-or-later
"""Password strength rules, shared by the CLI, the GUI's strength meter and the services."""

from __future__ import annotations

from nap_desktop.errors import WeakPassword

MIN_LENGTH = 10
# NOTE: a short list of the passwords seen most in breaches and in Pakistani offices; the length
# and class rules catch the rest.
_COMMON = {
    "password", "password1", "password123", "123456789", "1234567890", "qwertyuiop", "pakistan",
    "pakistan123", "pakistan@123", "islamabad", "karachi123", "lahore123", "fia12345", "fia@12345",
    "admin123", "administrator", "welcome123", "letmein123", "iloveyou1", "abc12345",
}


def password_problems(password: str, username: str = "") -> list[str]:
    """Returns what is wrong with a new password, in plain words (empty when it is good)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or lowered.rstrip("!@#$.1") in _COMMON:
        problems.append("this password is too common")
    if username and username.lower() in lowered:
        problems.append("do not include the user name")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    # Long passphrases (16+ characters) need no character classes; shorter ones need three.
    if len(password) < 16 and classes < 3:
        problems.append("mix upper and lower case letters, digits and symbols, or use 16+ characters")
    if len(set(password)) < 5:
        problems.append("use more different characters")
    return problems


def check_password_strength(password: str, username: str = "") -> None:
    """Raises :class:`WeakPassword` listing every problem."""
    problems = password_problems(password, username)
    if problems:
        raise WeakPassword("The password is too weak: " + "; ".join(problems) + ".")


def strength_score(password: str, username: str = "") -> int:
    """0 (unusable) … 4 (strong), for a meter in the GUI."""
    if password_problems(password, username):
        return 0 if len(password) < MIN_LENGTH else 1
    return 2 + (len(password) >= 14) + (len(password) >= 20)
