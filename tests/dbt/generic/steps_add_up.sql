{#- A waterfall adds up: within each `group_by`, every total row after the first equals the
    first total plus the signed changes (`orders_change`) of the rows before it, in `order_by`.
    Rows whose level is unknown (null orders) are not judged. -#}
{% test steps_add_up(model, group_by, order_by, level='orders', change='orders_change', kind='step_kind') %}
with

steps as (

    select
        {{ group_by }} as step_group,
        {{ order_by }} as step_position,
        {{ kind }} as step_kind,
        {{ level }} as step_level,
        sum(coalesce({{ change }}, 0)) over (
            partition by {{ group_by }} order by {{ order_by }} rows between unbounded preceding and current row
        ) as changes_so_far,
        first_value({{ level }}) over (
            partition by {{ group_by }} order by {{ order_by }} rows between unbounded preceding and current row
        ) as first_level,
        row_number() over (partition by {{ group_by }} order by {{ order_by }}) as step_number
    from {{ model }}

)

select *
from steps
where step_kind = 'total' and step_number > 1 and step_level is not null
    and step_level <> first_level + changes_so_far
{% endtest %}
