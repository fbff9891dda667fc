"""The one error type for input the user must correct.

Every library error about wrong input derives from `InputError`: it names what was wrong
(`parameter`: a setting, a file, a row and column, or an option) and what is allowed. The CLI
prints it as `error: ...` with exit code 2; the service answers 422 with `parameter` as the
field. Any other exception is a fault of labopt, not of the input.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input that the user must correct.

    `parameter` names the input (a setting or field, dotted as a path such as
    ``policy.max_stages`` or ``prevalence.screening``; a file; a CLI option), or is None when
    the message already says everything. A subclass of
    ValueError so that callers written against ValueError keep working.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
