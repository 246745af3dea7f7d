"""The seams between one machine and many.

Each backend has an in-process implementation (the embedded default: one process, nothing
to run) and a Redis one (any number of instances share state). ``build_backends`` picks
by ``MARIA_REDIS_URL``.
"""
