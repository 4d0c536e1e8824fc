{#- The audit window: it ends on the latest day present in the backend orders (so an audit
    of last quarter's export reproduces), unless var('audit_end_date') is set. -#}
with

bounds as (

    select
        {% if var('audit_end_date') %}
        cast('{{ var("audit_end_date") }}' as date)
        {% else %}
            max(created_date)
        {% endif %} as window_end
    from {{ ref('stg_backend__orders') }}

)

select
    cast({{ dbt.dateadd('day', -(var('audit_window_days') - 1), 'window_end') }} as date) as window_start,
    window_end
from bounds
