"""The queue workflow: who may do what to an item, the state machine, replies, audit, crisis.

This is core (no Qt): the console calls it through the store writer, and every rule is
enforced here, not in the UI, so a second console or a script obeys the same rules.
"""
