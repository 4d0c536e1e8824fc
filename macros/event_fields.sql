{#- Presence and validity of each canonical event field, as SQL over int_event_fields' `prepared`
    CTE. The fields a platform requires or recommends are rows of seeds/required_fields.csv;
    a field named there must have a rule here. -#}
{% macro event_field_rules() -%}
    {{ return({
        'event_name': ("event_name is not null and trim(event_name) <> ''",
                       "event_name is not null and trim(event_name) <> ''"),
        'event_time': ("event_time_raw is not null",
                       "event_time_unit = 'seconds' and event_at <= " ~ dbt.dateadd('minute', 10, 'sent_at')),
        'event_id': ("event_id is not null and trim(event_id) <> ''",
                     "event_id is not null and trim(event_id) <> ''"),
        'action_source': ("action_source is not null and trim(action_source) <> ''",
                          "is_known_action_source"),
        'event_source_url': ("event_source_url is not null and trim(event_source_url) <> ''",
                             "lower(event_source_url) like 'http://%' or lower(event_source_url) like 'https://%'"),
        'user_data': ("present_keys > 0", "valid_keys > 0"),
        'user_agent': ("has_user_agent_present", "has_user_agent"),
        'external_id': ("has_external_id_present", "has_external_id"),
        'value': ("value_raw is not null and trim(value_raw) <> ''", "value_number > 0"),
        'currency': ("currency_raw is not null and trim(currency_raw) <> ''", "is_iso_currency"),
        'order_id': ("order_ref is not null and trim(order_ref) <> ''", "order_ref = order_id"),
    }) }}
{%- endmacro %}

{% macro event_field_case(kind) -%}
    case field_name
    {%- for name, rule in event_field_rules().items() %}
        when '{{ name }}' then coalesce({{ rule[0] if kind == 'present' else rule[1] }}, false)
    {%- endfor %}
    end
{%- endmacro %}
