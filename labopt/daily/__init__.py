"""The daily loop: a province workspace of dated records (what units collected, what labs tested
and ran, reagent received, prevalence estimates), the state carried to any date from them, and
each morning's plan with its dispatch sheets.

Workspace (a folder written by ``labopt day init``)::

    workspace.json        what the workspace is (province, first date)
    province/             the static scenario: units, labs, streams, policy, travel, and the
                          state at the first date (the labs' reagent, the backlog)
    records/              the dated records, every upload kept (records.py)
    plans/YYYY-MM-DD/     each morning's plan, its tables and dispatch sheets
"""
