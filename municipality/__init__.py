"""A municipality: its own systems (`city`) and its intermediate server (`intermediate`).

They are separate services with separate databases: personal data (names, addresses,
individual numbers) stays in `city`; `intermediate` holds symbols, address numbers and copies.
"""
