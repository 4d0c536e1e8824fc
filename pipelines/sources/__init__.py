"""Sources beyond files: orders from a SQL database, Shopify or Stripe; Meta's Graph API.

One module per source system, each built on dlt's own `sql_database` / `rest_api` sources and
ending in a transformer that writes the same raw tables as the file pipeline (PII hashed
before dlt sees a row). `runs.plan` turns the `sources:` settings into dlt runs; `http` holds
the fault handling every API source shares. See docs/sources.md.
"""
