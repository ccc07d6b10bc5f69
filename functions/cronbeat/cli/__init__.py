"""The `cronbeat` command: a job wrapper and history queries, on the standard library only.

`pip install cronbeat` on a job host pulls in no AWS SDK, so nothing here may import a third-party
module, nor `cronbeat.domain.schedule` (cronsim). `cronbeat dev` and `cronbeat keys` load the server
code lazily, only when they are asked for.
"""
