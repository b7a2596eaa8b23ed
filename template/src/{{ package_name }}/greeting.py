"""The project's first piece of behaviour: replace it with your own."""


def greet(name: str = "world", *, shout: bool = False) -> str:
    """Return a greeting for ``name``.

    Args:
        name: Who to greet; surrounding whitespace is ignored.
        shout: Return the greeting in capitals.

    Raises:
        ValueError: If ``name`` is empty or only whitespace.
    """
    cleaned = name.strip()
    if not cleaned:
        msg = "name must not be empty"
        raise ValueError(msg)
    text = f"Hello, {cleaned}!"
    return text.upper() if shout else text
