"""Sources: one module per network behind the :class:`~app.sources.base.Source` interface."""
