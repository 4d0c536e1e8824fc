{#- The shared first step of every platform's staging model: the platform's lines of the
    delivery log, one row per event of the native request body's `data` array. In an
    incremental run, only the lines of loads since the last build (a rewritten file reloads
    lines already flattened: those are skipped by their record_id).
    Columns: record_id, event_index, channel, pixel_id, sent_at, http_status, request,
    response, event_json, pii_json (where e-mail addresses and phone numbers were redacted
    from the event on load, a JSON array of {place, kind, values}; null when nowhere),
    _dlt_load_id, _audited_at. -#}
{% macro delivery_log_events(platform) -%}
    {%- set lines -%}
        select * from {{ source('raw', 'delivery_log') }} as lines
        where lines.platform = '{{ platform }}'
        {%- if is_incremental() %}
            and {{ loaded_since_last_build('lines._dlt_load_id') }}
            -- probe the flattened lines with the new ones, not the other way round
            and lines.record_id not in (
                select done.record_id from {{ this }} as done
                where done.record_id in (
                    select new.record_id from {{ source('raw', 'delivery_log') }} as new
                    where {{ loaded_since_last_build('new._dlt_load_id') }}
                )
            )
        {%- endif %}
    {%- endset -%}
    select
        record_id,
        element_index as event_index,
        channel,
        pixel_id,
        sent_at,
        http_status,
        request,
        response,
        element as event_json,
        -- the line's findings outside any event (its response, ...) count with its first event
        case
            when pii_found is not null
                then nullif({{ json_array_element('pii_found', 'element_index') }}, '[]')
        end as pii_json,
        _dlt_load_id,
        {{ audit_run_at() }} as _audited_at
    from ({{ explode_json_array(lines, 'request', "'$.data'") }}) as exploded
{%- endmacro %}

{#- A request counts as accepted unless the HTTP status says otherwise or the platform's
    native response reports an error (`platform_error`). A missing status (browser lines,
    logs that don't record it) is not taken as a failure. -#}
{% macro is_request_accepted(platform_error) -%}
    (coalesce(http_status between 200 and 299, true) and {{ platform_error }} is null)
{%- endmacro %}
