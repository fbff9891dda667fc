"""Notes that can be said in more than one language.

A :class:`Note` is its English text (a ``str``: JSON, logs and the service keep it as they
always did) that also remembers where its templates live, its key and its fields, so
:func:`note_text` can say it in Vietnamese. A field may be a Note too (a clause chosen by the
case). The templates are a module's ``{lang: {key: template}}`` table, named ``module:NAME``;
the module may also map fields to words (``FIELD_WORDS = {field: {lang: {code: word}}}``).
"""

from __future__ import annotations

import importlib

from labopt.numbers import fill


class Note(str):
    """A note's English text, remembering how to say it in another language."""

    where: str
    key: str
    fields: dict

    def __new__(cls, where: str, key: str, /, **fields) -> Note:
        note = super().__new__(cls, _render(where, key, fields, "en"))
        note.where, note.key, note.fields = where, key, fields
        return note

    def __reduce__(self):  # pickled (a plan made in a child process) by its parts
        return _rebuild, (self.where, self.key, self.fields)


def _rebuild(where: str, key: str, fields: dict) -> Note:
    return Note(where, key, **fields)


def _table(where: str) -> tuple[dict, dict]:
    module, name = where.split(":")
    found = importlib.import_module(module)
    return getattr(found, name), getattr(found, "FIELD_WORDS", {})


def _render(where: str, key: str, fields: dict, lang: str) -> str:
    templates, words = _table(where)
    said = {k: note_text(v, lang) if isinstance(v, Note) else v for k, v in fields.items()}
    for name, table in words.items():
        if name in said:
            said[name] = table.get(lang, {}).get(said[name], said[name])
    return fill(templates[lang][key], lang, **said)


def note_text(note: str, lang: str) -> str:
    """``note`` in ``lang``; a plain text (not a Note) as it is."""
    if isinstance(note, Note) and lang != "en":
        return _render(note.where, note.key, note.fields, lang)
    return str(note)
