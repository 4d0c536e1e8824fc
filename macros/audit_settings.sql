{#- The names of the audit settings (dbt_project.yml vars) that `audit_settings` publishes.
    tests/python/test_settings.py keeps this list equal to the vars in dbt_project.yml. -#}
{% macro audit_setting_names() -%}
    {{ return([
        'reporting_timezone', 'counted_statuses', 'platforms', 'audit_window_days',
        'audit_end_date', 'dedup_window_hours', 'gap_threshold', 'gap_severe_threshold',
        'match_quality_pass', 'match_quality_floor', 'email_coverage_min',
        'field_validity_pass', 'field_validity_floor', 'dedup_rate_pass', 'dedup_rate_floor',
        'latency_threshold_seconds', 'timeliness_pass', 'timeliness_floor',
        'pii_plaintext_events_max', 'max_rejected_share', 'max_load_age_hours',
    ]) }}
{%- endmacro %}
