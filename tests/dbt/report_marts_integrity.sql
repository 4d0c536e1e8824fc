{#- The small marts' keys and values, one test node (macros/folded_tests.sql): the settings in
    force (audit_settings), the gap waterfall (eight keyed steps per platform that add up) and
    the window's key coverage; a few dozen rows, rebuilt whole by every build. -#}
{%- set settings = ref('audit_settings') -%}
{%- set waterfall = ref('rpt_gap_waterfall') -%}
{%- set coverage = ref('rpt_match_key_coverage') -%}
{{ failing_rows_of([
    ('unique audit_settings.setting_name', test_unique(settings, 'setting_name')),
    ('not_null audit_settings.setting_name', test_not_null(settings, 'setting_name')),
    ('unique_combination rpt_gap_waterfall (platform, step_order)',
        test_unique_combination(waterfall, ['platform', 'step_order'])),
    ('unique_combination rpt_gap_waterfall (platform, step)',
        test_unique_combination(waterfall, ['platform', 'step'])),
    ('steps_add_up rpt_gap_waterfall', test_steps_add_up(waterfall, group_by='platform', order_by='step_order')),
    ('accepted_values rpt_gap_waterfall.step', test_accepted_values(waterfall, 'step', [
        'backend_purchases', 'orders_never_sent', 'orders_rejected', 'orders_accepted',
        'pixel_only_orders', 'double_counted_orders', 'other_difference', 'platform_counted'])),
    ('accepted_values rpt_gap_waterfall.step_kind',
        test_accepted_values(waterfall, 'step_kind', ['total', 'subtract', 'add'])),
    ('unique_combination rpt_match_key_coverage (platform, match_key)',
        test_unique_combination(coverage, ['platform', 'match_key'])),
    ('ordered_counts rpt_match_key_coverage (events_with_key <= events)',
        test_ordered_counts(coverage, ['events_with_key', 'events'])),
    ('fraction rpt_match_key_coverage.coverage_pct', test_fraction(coverage, 'coverage_pct')),
]) }}
