"""Mail: a durable outbox in the database and the sender that drains it.

Services enqueue a message in the same unit of work as the change it reports (a reset
token, a verification), so a mail exists exactly when its change committed; the sender
(one per instance) claims due messages, hands them to the transport (SMTP, or files in
development), deletes what was sent (bodies carry tokens) and retries what failed with
backoff. A mail server that is down never fails or slows a request, a restart loses
nothing queued, and a claim keeps several instances from sending one message twice.
"""
