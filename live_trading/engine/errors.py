"""Errors the engine raises for requests it cannot carry out."""


class OperationNotFoundError(LookupError):
    """No operation (or position) has this id."""


class InvalidStateError(RuntimeError):
    """The request does not fit the operation's status (e.g. pausing a closed
    operation, closing a position that is not open)."""
