"""The audit log: who did what to which account, when, and from where."""
