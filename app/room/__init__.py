"""The room: several machines sharing one PostgreSQL server.

The hub (``watchfloor poll`` with ``[room]``) polls the networks and publishes analysed
mentions, alerts and source health into the room; every station (wall PC, workstation)
keeps its own SQLite cache filled from it, so what a wall draws never waits on the
network. The change log in PostgreSQL is the truth; NOTIFY only wakes the stations.
"""
