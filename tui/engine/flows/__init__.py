"""Workflows that take several steps on the job queue and ask as they go: upgrade, export,
import and removal, written once for the command line and the app alike.

A flow is a generator (``questions.Flow``): it submits jobs and waits for them on the thread
that drives it, and yields a ``Question`` wherever a person decides what happens next (the
driver sends back an ``Answer``), or a ``Note`` / ``Removed`` that only says how it went.
``drive`` runs one against an ``Asker``: the CLI's answers with a prompt or ``--yes``, the
app's with its dialogs. Neither front end orders steps or sequences jobs; both only render.
"""
