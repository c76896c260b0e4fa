"""Marks strings for gettext extraction where they are defined; they are translated where shown."""


def N_(message: str) -> str:
    return message
