{#- Presence and validity of each canonical event field, as SQL over the columns of
    int_event_flags (one flag column per field there; the fields' rows are picked when
    counting). A rule whose validity needs the event's tie to its order (the third item: an
    order id is valid when it is the tied order's) is judged when counting, where
    int_event_orders is joined. The fields a platform requires or recommends are rows of
    seeds/required_fields.csv; a field named there must have a rule here. -#}
{% macro event_field_rules() -%}
    {{ return({
        'event_name': ("event_name is not null and trim(event_name) <> ''",
                       "event_name is not null and trim(event_name) <> ''", false),
        'event_time': ("event_time_raw is not null",
                       "event_time_unit = 'seconds' and event_at <= " ~ dbt.dateadd('minute', 10, 'sent_at'), false),
        'event_id': ("event_id is not null and trim(event_id) <> ''",
                     "event_id is not null and trim(event_id) <> ''", false),
        'action_source': ("action_source is not null and trim(action_source) <> ''",
                          "is_known_action_source", false),
        'event_source_url': ("event_source_url is not null and trim(event_source_url) <> ''",
                             "lower(event_source_url) like 'http://%' or lower(event_source_url) like 'https://%'", false),
        'user_data': ("present_keys > 0", "valid_keys > 0", false),
        'user_agent': ("key_user_agent_present", "key_user_agent_valid", false),
        'external_id': ("key_external_id_present", "key_external_id_valid", false),
        'value': ("value_raw is not null and trim(value_raw) <> ''", "value_number > 0", false),
        'currency': ("currency_raw is not null and trim(currency_raw) <> ''", "is_iso_currency", false),
        'order_id': ("order_ref is not null and trim(order_ref) <> ''", "order_ref = order_id", true),
    }) }}
{%- endmacro %}

{#- Select-list items: `<field>_present` and `<field>_valid` for every field with a rule, except
    the validity of the rules that need the order tie; with `tied`, only those. -#}
{% macro event_field_flags(tied=false) -%}
    {%- set items = [] -%}
    {%- for name, rule in event_field_rules().items() -%}
        {%- if not tied -%}
            {%- do items.append('coalesce(' ~ rule[0] ~ ', false) as ' ~ name ~ '_present') -%}
        {%- endif -%}
        {%- if rule[2] == tied -%}
            {%- do items.append('coalesce(' ~ rule[1] ~ ', false) as ' ~ name ~ '_valid') -%}
        {%- endif -%}
    {%- endfor %}
    {{ items | join(',\n    ') }}
{%- endmacro %}

{#- A query: events, events_present, events_valid and events_invalid per required or recommended
    field of each platform (seeds/required_fields.csv), over the server purchase events of
    int_event_flags that `where_sql` keeps, grouped by `group_columns` (which must include
    platform); the flags that need the order tie are judged here, with int_event_orders.
    Web-scoped fields count only events whose action source is a website (or missing). The
    events are summed first and the fields picked after: one pass over the events, not one
    per field. -#}
{% macro event_field_counts(where_sql, group_columns) -%}
    {%- set rules = event_field_rules() -%}
    with tied as (
        select
            flags.*,
            ties.order_id
        from {{ ref('int_event_flags') }} as flags
        left join {{ ref('int_event_orders') }} as ties
            on flags.event_key = ties.event_key and flags.event_date = ties.event_date
        where flags.is_purchase
    ),
    fields as (
        select
            tied.*,
            {{ event_field_flags(tied=true) }}
        from tied
    ),
    summed as (
        select
            {{ group_columns | join(', ') }},
            is_web,
            count(*) as events,
            {%- for name in rules %}
            sum(case when {{ name }}_present then 1 else 0 end) as {{ name }}_present,
            sum(case when {{ name }}_valid then 1 else 0 end) as {{ name }}_valid,
            sum(case when {{ name }}_present and not {{ name }}_valid then 1 else 0 end) as {{ name }}_invalid{{ ',' if not loop.last }}
            {%- endfor %}
        from fields
        where {{ where_sql }}
        group by {{ group_columns | join(', ') }}, is_web
    ),
    picked as (
        select
            {% for column in group_columns %}summed.{{ column }}, {% endfor %}
            required.field_name,
            required.requirement,
            summed.events,
            {%- for kind in ['present', 'valid', 'invalid'] %}
            case required.field_name
                {%- for name in rules %}
                when '{{ name }}' then summed.{{ name }}_{{ kind }}
                {%- endfor %}
            end as events_{{ kind }}{{ ',' if not loop.last }}
            {%- endfor %}
        from summed
        inner join {{ ref('required_fields') }} as required
            on summed.platform = required.platform
            and (required.scope = 'all' or summed.is_web)
    )
    select
        {{ group_columns | join(', ') }},
        field_name,
        requirement,
        sum(events) as events,
        sum(events_present) as events_present,
        sum(events_valid) as events_valid,
        sum(events_invalid) as events_invalid
    from picked
    group by {{ group_columns | join(', ') }}, field_name, requirement
{%- endmacro %}
