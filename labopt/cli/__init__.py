"""Command-line interface: parses files and flags, calls the labopt library, formats results."""
