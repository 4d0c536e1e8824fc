{#- The shared first step of every platform's staging model: the platform's events of the
    delivery log, flattened once on load (raw.delivery_events: typed columns read with the
    paths of seeds/delivery_log_fields.csv, one key_<match_key> column per match key). In an
    incremental run, only the events of loads since the last build: the loader lands each line
    once, so nothing read here was read before. -#}
{% macro delivery_log_events(platform) -%}
    select
        events.*,
        {{ audit_run_at() }} as _audited_at
    from {{ source('raw', 'delivery_events') }} as events
    where events.platform = '{{ platform }}'
    {%- if is_incremental() %}
        and {{ loaded_since_last_build('events._dlt_load_id') }}
    {%- endif %}
{%- endmacro %}

{#- Select-list items: the key_<match_key> columns of every match key (seeds/match_keys.csv),
    each prefixed with `prefix` (a relation alias and a dot, or nothing) and followed by a comma. -#}
{% macro match_key_columns(prefix='') -%}
    {%- for key in canonical_match_keys() -%}
        {{ prefix }}key_{{ key }},
    {% endfor -%}
{%- endmacro %}

{#- A request counts as accepted unless the HTTP status says otherwise or the platform's
    native response reports an error (`platform_error`). A missing status (browser lines,
    logs that don't record it) is not taken as a failure. -#}
{% macro is_request_accepted(platform_error) -%}
    (coalesce(http_status between 200 and 299, true) and {{ platform_error }} is null)
{%- endmacro %}
