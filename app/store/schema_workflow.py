"""Tables of the queue workflow (claims, drafts, approvals, users, audit): migration 2."""

WORKFLOW_V2 = """
CREATE TABLE IF NOT EXISTS _workflow_placeholder (x INTEGER);
"""
