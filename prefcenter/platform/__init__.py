"""What every page stands on, and running it: settings, logs, health probes, rate limits,
security headers, languages, brands and static assets. Depends on nothing else in prefcenter.
"""
