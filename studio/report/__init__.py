"""The stakeholder report of one training run: one self-contained HTML file that opens offline.

`collect.collect_report` gathers a typed `ReportData` from the run folder and the workspace (data lineage and
quality reports in `lineage`, batch evaluations and blind votes in `evidence`); `page.render_html` turns it into
HTML; `report_command` writes it atomically and is `python -m studio report`. No Gradio anywhere in here.
"""
