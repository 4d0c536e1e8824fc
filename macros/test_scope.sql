{#- Data tests on the tables that grow with history check what this build wrote, so a daily run
    does not re-test a year of rows (what was written earlier was tested when it was written; a
    full rebuild writes, and tests, everything). Their yml `where` names a placeholder, filled
    in here at run time, which a yml `where` cannot do by itself (dbt renders it at parse time):
      __written_by_this_build__  rows stamped by this dbt run (_audited_at)
      __latest_load__            raw rows of the newest dlt load (uniqueness across loads is
                                 the loader's merge on the primary key) -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where
            | replace('__written_by_this_build__', '_audited_at = ' ~ audit_run_at())
            | replace('__latest_load__', '_dlt_load_id = (select max(_dlt_load_id) from ' ~ relation ~ ')') -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
