{#- The reference seeds' keys and values, one test node (macros/folded_tests.sql): a few
    hundred rows of platform knowledge and the checks list, asserted as a whole. -#}
{%- set checks = ref('checks') -%}
{%- set settings = ref('audit_settings') -%}
{{ failing_rows_of([
    ('unique platforms.platform', test_unique(ref('platforms'), 'platform')),
    ('not_null platforms.platform', test_not_null(ref('platforms'), 'platform')),
    ('unique_combination match_keys (platform, native_key)',
        test_unique_combination(ref('match_keys'), ['platform', 'native_key'])),
    ('unique match_score_weights.match_key', test_unique(ref('match_score_weights'), 'match_key')),
    ('not_null match_score_weights.match_key', test_not_null(ref('match_score_weights'), 'match_key')),
    ('unique purchase_paths.purchase_path', test_unique(ref('purchase_paths'), 'purchase_path')),
    ('unique checks.check_name', test_unique(checks, 'check_name')),
    ('not_null checks.check_name', test_not_null(checks, 'check_name')),
    ('unique checks.display_order', test_unique(checks, 'display_order')),
    ('not_null checks.display_order', test_not_null(checks, 'display_order')),
    ('not_null checks.title', test_not_null(checks, 'title')),
    ('accepted_values checks.unit', test_accepted_values(checks, 'unit', ['fraction', 'score', 'count'])),
    ('not_null checks.direction', test_not_null(checks, 'direction')),
    ('accepted_values checks.direction',
        test_accepted_values(checks, 'direction', ['at_least', 'at_most', 'within'])),
    ('not_null checks.pass_setting', test_not_null(checks, 'pass_setting')),
    ('relationships checks.pass_setting to audit_settings',
        test_relationships(checks, 'pass_setting', settings, 'setting_name')),
    ('relationships checks.floor_setting to audit_settings',
        test_relationships(checks, 'floor_setting', settings, 'setting_name')),
]) }}
