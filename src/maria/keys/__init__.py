"""Signing keys: the JWS primitives, keys sealed at rest in the database, the key set every
instance keeps in memory (refreshed every few seconds, so a rotation reaches them all), and
the public keys published as a JWK Set."""
