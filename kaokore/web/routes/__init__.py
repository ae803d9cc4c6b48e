"""The routers of ``kaokore web``, one module per area (faces, works, charts, board, ...)."""
