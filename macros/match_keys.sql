{#- Whether a match key's value is valid, by the rule the match_keys seed names for the key.
    The patterns are constants here so the engine compiles each once, not once per row. -#}
{% macro match_key_is_valid(value_expr, validation_expr) -%}
    case {{ validation_expr }}
        when 'sha256' then {{ regex_full_match(value_expr, "'^[0-9a-f]{64}$'") }}
        when 'ip_address' then {{ regex_full_match(value_expr, "'^([0-9]{1,3}[.]){3}[0-9]{1,3}$|^[0-9A-Fa-f]*:[0-9A-Fa-f:]*$'") }}
        when 'user_agent' then length(trim({{ value_expr }})) >= 8
        when 'meta_fbc' then {{ regex_full_match(value_expr, "'^fb[.][0-2][.][0-9]+[.].+$'") }}
        when 'meta_fbp' then {{ regex_full_match(value_expr, "'^fb[.][0-2][.][0-9]+[.][0-9]+$'") }}
        when 'mobile_ad_id' then {{ regex_full_match(value_expr, "'^[0-9A-Fa-f-]{16,}$'") }}
        else trim({{ value_expr }}) <> ''
    end
{%- endmacro %}

{#- The match_keys seed's rows as (platform, native_key, match_key), read from the built seed
    table when the model compiles (seeds build first): one column per key needs the keys as
    constants. The seed's table, not ref(), so that a unit test's fixture (which replaces ref)
    only narrows the keys through the model's own join with ref('match_keys'). -#}
{% macro match_key_seed_rows() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {#- seeds live in the `reference` schema (dbt_project.yml), named as the root project names it -#}
        {%- set relation = api.Relation.create(
            database=target.get('database'), schema=audit_schema('reference'), identifier='match_keys'
        ) -%}
        {%- for row in run_query(
            "select platform, native_key, match_key from " ~ relation ~ " order by platform, native_key"
        ).rows -%}
            {%- do rows.append((row[0], row[1], row[2])) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rows) }}
{%- endmacro %}

{#- The canonical match keys of the seed (any platform's), sorted: int_events' `key_<match_key>`
    columns and int_event_flags' flags per key. -#}
{% macro canonical_match_keys() -%}
    {{ return(match_key_seed_rows() | map(attribute=2) | unique | sort | list) }}
{%- endmacro %}
