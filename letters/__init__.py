"""PDF documents the centre deposits in a candidate's space, one module per document.

Each module renders bytes from plain data (no database, no Temporal, no files): storing and
depositing them is `activities/letters.py`'s job.
"""
