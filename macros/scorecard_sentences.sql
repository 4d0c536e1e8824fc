{#- The conversion_gap check's sentence: the numbers, the biggest cause, what to fix.
    `r` is the relation alias carrying the check's measures, `platform_name` and
    `path_label` SQL expressions for the display names, `threshold` the check's bound (from
    check_bounds, so the sentence and the verdict read the same setting). -#}
{% macro conversion_gap_summary(r, platform_name, path_label, threshold) -%}
    case
        when {{ r }}.backend_purchases = 0 or {{ r }}.backend_purchases is null then
            'No counted backend purchases between ' || {{ fmt_date('window_bounds.window_start') }}
            || ' and ' || {{ fmt_date('window_bounds.window_end') }} || ': nothing to compare.'
        when {{ r }}.platform_reported_purchases is null then
            {{ platform_name }} || ' has no purchase report for ' || {{ fmt_date('window_bounds.window_start') }}
            || ' to ' || {{ fmt_date('window_bounds.window_end') }} || '; export its daily event totals to measure the gap. '
            || 'Your server sent ' || {{ fmt_int(r ~ '.orders_sent_by_server') }} || ' of '
            || {{ fmt_int(r ~ '.backend_purchases') }} || ' backend purchases.'
        when {{ r }}.gap_pct <= -{{ threshold }} then
            {{ platform_name }} || ' counted ' || {{ fmt_int(r ~ '.platform_reported_purchases') }}
            || ' purchases, ' || {{ fmt_pct('-' ~ r ~ '.gap_pct') }} || ' more than the '
            || {{ fmt_int(r ~ '.backend_purchases') }} || ' in your backend ('
            || {{ fmt_date('window_bounds.window_start') }} || ' to ' || {{ fmt_date('window_bounds.window_end') }}
            || '): purchases are counted twice because browser and server events are not deduplicated.'
            || case when {{ r }}.orders_never_sent > 0 then
                ' The double counting hides ' || {{ fmt_int(r ~ '.orders_never_sent') }}
                || ' orders your server never sent, mostly ' || coalesce({{ path_label }}, {{ r }}.top_never_sent_path)
                || ' (' || {{ fmt_int(r ~ '.top_never_sent_orders') }} || ').'
               else '' end
            || ' Fix: send the same event_id from pixel and server.'
        else
            {{ platform_name }} || ' counted ' || {{ fmt_int(r ~ '.platform_reported_purchases') }}
            || ' of your ' || {{ fmt_int(r ~ '.backend_purchases') }} || ' backend purchases ('
            || {{ fmt_date('window_bounds.window_start') }} || ' to ' || {{ fmt_date('window_bounds.window_end') }}
            || '): gap ' || {{ fmt_pct(r ~ '.gap_pct') }}
            || case
                when {{ r }}.gap_pct >= {{ var('gap_severe_threshold') }} then ', severe.'
                when {{ r }}.gap_pct >= {{ threshold }} then ', above the ' || {{ fmt_pct(threshold) }} || ' tolerance.'
                else ', within the ' || {{ fmt_pct(threshold) }} || ' tolerance.'
               end
            || case when {{ r }}.orders_never_sent > 0 then
                ' ' || {{ fmt_int(r ~ '.orders_never_sent') }} || ' orders were never sent by your server, mostly '
                || coalesce({{ path_label }}, {{ r }}.top_never_sent_path) || ' ('
                || {{ fmt_int(r ~ '.top_never_sent_orders') }} || ').'
               else '' end
            || case when {{ r }}.orders_rejected > 0 then
                ' ' || {{ fmt_int(r ~ '.orders_rejected') }} || ' were sent but rejected by ' || {{ platform_name }} || '.'
               else '' end
            || case when {{ r }}.gap_pct >= {{ threshold }} and {{ r }}.orders_never_sent > 0 then
                ' Fix: send ' || coalesce({{ path_label }}, {{ r }}.top_never_sent_path) || ' server-side.'
               else '' end
    end
{%- endmacro %}
