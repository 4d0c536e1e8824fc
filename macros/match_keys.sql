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

{#- The native keys of `platform` in the match_keys seed, read from the built seed table when
    the model compiles (seeds build first): reading every key of a customer object in one
    parse needs the keys as constants. The seed's table, not ref(), so that a unit test's
    fixture (which replaces ref) only narrows the keys through the model's own join. -#}
{% macro platform_native_keys(platform) -%}
    {%- set keys = [] -%}
    {%- if execute -%}
        {#- seeds live in the `reference` schema (dbt_project.yml) -#}
        {%- set relation = api.Relation.create(
            database=target.database, schema=generate_schema_name('reference', none) | trim, identifier='match_keys'
        ) -%}
        {%- set rows = run_query(
            "select native_key from " ~ relation ~ " where platform = '" ~ platform ~ "' order by native_key"
        ) -%}
        {%- set keys = rows.columns[0].values() | list -%}
    {%- endif -%}
    {{ return(keys) }}
{%- endmacro %}

{#- Every canonical match key of the seed (email, phone, ...), in name order: raw.delivery_events
    and the staging models have a key_<match_key> column each. -#}
{% macro canonical_match_keys() -%}
    {%- set keys = [] -%}
    {%- if execute -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=generate_schema_name('reference', none) | trim, identifier='match_keys'
        ) -%}
        {%- set keys = run_query("select distinct match_key from " ~ relation ~ " order by match_key").columns[0].values() | list -%}
    {%- endif -%}
    {{ return(keys) }}
{%- endmacro %}

{#- (native_key, match_key) of each key of `platform` in the seed, by native key. -#}
{% macro platform_key_pairs(platform) -%}
    {%- set pairs = [] -%}
    {%- if execute -%}
        {%- set relation = api.Relation.create(
            database=target.database, schema=generate_schema_name('reference', none) | trim, identifier='match_keys'
        ) -%}
        {%- set rows = run_query(
            "select native_key, match_key from " ~ relation ~ " where platform = '" ~ platform ~ "' order by native_key"
        ) -%}
        {%- for row in rows -%}{%- do pairs.append((row[0], row[1])) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(pairs) }}
{%- endmacro %}
