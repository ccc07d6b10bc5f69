"""The management API's logic: request and reply models, check shapes, keys, and operations.

`handlers/api.py` routes requests here; nothing in this package reads the clock or the event.
"""
