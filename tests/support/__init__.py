"""What tests share: real services, the app in-process, real server processes, clients.

Test modules import helpers from here, never from each other (or from ``conftest``, which
only declares fixtures).
"""
