"""Sphinx extension: give every page each <script> only once.

Jupyter Book 1.0.4 registers the inline configuration scripts of sphinx-thebe and
sphinx-togglebutton twice, so every page declared ``const THEBE_JS_URL`` twice, which the
browser reports as a SyntaxError. Dropping exact duplicates (same file or same inline
body, same attributes; an inline script's file name may be None or "") keeps the pages'
behaviour and removes that error.
"""

from __future__ import annotations


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # inline scripts: None or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _drop_duplicates(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _drop_duplicates, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
