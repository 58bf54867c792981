"""The report layer: reads run folders and renders them (report.md, report.html, charts), compares runs and checks
them against expected ones. It imports only ``portfolio`` and itself; the workflows that make run folders are in
``runs`` (docs/architecture.md).
"""
