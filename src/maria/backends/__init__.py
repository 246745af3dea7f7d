"""The seams between one machine and many.

Each backend has an in-process implementation (the embedded default: one process, nothing
to run) and a Redis one (any number of instances share state): the pub/sub ``broker`` and
the rate-limit ``ratelimit`` counters; ``channels`` names what the broker carries. The
choice is made once, by ``MARIA_REDIS_URL``, in ``maria.services``. Nothing here imports a
domain.
"""
