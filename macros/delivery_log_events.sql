{#- The shared first step of every platform's staging model: the platform's lines of the
    delivery log, one row per event of the native request body's `data` array. In an
    incremental run, only the lines that arrived since the last one.
    Columns: record_id, event_index, channel, pixel_id, sent_at, http_status, request,
    response, event_json. -#}
{% macro delivery_log_events(platform) -%}
    select
        log.record_id,
        events.ordinality as event_index,
        log.channel,
        log.pixel_id,
        log.sent_at,
        log.http_status,
        log.request,
        log.response,
        events.value as event_json
    from (
        -- lines are picked before their JSON is touched: the unnest below is the costly part
        select * from {{ source('raw', 'delivery_log') }} as lines
        where lines.platform = '{{ platform }}'
        {%- if is_incremental() %}
            -- only lines not flattened yet: the raw log is keyed by the content of each line
            and not exists (select 1 from {{ this }} as done where done.record_id = lines.record_id)
        {%- endif %}
    ) as log
    {{ json_array_rows('log.request', "'$.data'", 'events') }}
{%- endmacro %}

{#- A request counts as accepted unless the HTTP status says otherwise or the platform's
    native response reports an error (`platform_error`). A missing status (browser lines,
    logs that don't record it) is not taken as a failure. -#}
{% macro is_request_accepted(platform_error) -%}
    (coalesce(http_status between 200 and 299, true) and {{ platform_error }} is null)
{%- endmacro %}
