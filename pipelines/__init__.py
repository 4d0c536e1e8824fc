"""dlt pipelines that land the inputs (orders, delivery log, platform reports) in DuckDB."""
