{#- The settings in force for this build, one row each: what the marts were computed with,
    and what the Great Expectations suites read, so dbt and GX never judge differently. -#}
{% for name in audit_setting_names() %}
    {%- set value = var(name) -%}
    select
        '{{ name }}' as setting_name,
        cast({{ "'" ~ (value | tojson | replace("'", "''")) ~ "'" }} as {{ dbt.type_string() }}) as setting_json,
        {% if value is number and value is not boolean %}cast({{ value }} as {{ type_double() }}){% else %}
            cast(null as {{ type_double() }})
        {% endif %}
            as numeric_value
    {% if not loop.last %}union all{% endif %}
{% endfor %}
