"""An account as a whole, across every domain that holds part of it: leaving (by the user
or an admin), and the export of everything Maria holds about someone."""
