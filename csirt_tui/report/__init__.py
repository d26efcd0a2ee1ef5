"""PDF reports: 報告様式1 to the CISO and the security committee summary.

``content`` (what the report says, from the record) needs no ReportLab;
``pdfkit``, ``form1``, ``summary`` lay it out; ``export`` writes the file and
records the export.
"""
