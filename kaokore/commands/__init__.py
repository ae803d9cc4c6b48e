"""The CLI's commands: thin shells that parse options, make one library call and print.

One module per command group; ``kaokore.cli`` assembles them into the ``kaokore`` app.
"""
