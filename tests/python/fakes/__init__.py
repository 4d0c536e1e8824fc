"""Local stand-ins for the services the sources talk to: HTTP servers on 127.0.0.1 that answer
like the documented APIs (pagination, auth, errors, rate limits), and a real PostgreSQL."""
