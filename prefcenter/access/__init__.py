"""Links and sign-in: signed tokens per purpose, minting them (CLI and API), the person a request
is for (link, session or embed token) and the CSRF checks that go with each.
"""
