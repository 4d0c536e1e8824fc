{#- Meta's Dataset Quality API snapshots, one row per snapshot (UTC day fetched), dataset and
    web event, with Meta's percentages as fractions and the email and phone coverage read out
    of match_key_feedback. report_date is the day the snapshot was taken, in the reporting
    time zone: Meta scores a recent rolling window, so a snapshot describes the days up to it. -#}
with

source as (

    select * from {{ source('raw', 'meta_dataset_quality') }}

),

key_coverage as (

    select
        source.snapshot_date,
        source.dataset_id,
        source.event_name,
        max(case
            when {{ json_value('keys.value', "'$.identifier'") }} = 'email'
                then {{ safe_to_double(json_value('keys.value', "'$.coverage.percentage'")) }}
        end) / 100.0
            as email_coverage_pct,
        max(case
            when {{ json_value('keys.value', "'$.identifier'") }} = 'phone'
                then {{ safe_to_double(json_value('keys.value', "'$.coverage.percentage'")) }}
        end) / 100.0
            as phone_coverage_pct
    from source
    {{ json_array_rows('source.match_key_feedback', "'$'", 'keys') }}
    group by source.snapshot_date, source.dataset_id, source.event_name

),

renamed as (

    select
        ----------  keys
        source.snapshot_date,
        {{ local_date('source.fetched_at') }} as report_date,
        'meta' as platform,
        source.dataset_id,
        source.event_name,
        source.fetched_at,

        ----------  Meta's figures (fractions 0-1, the score 0-10)
        source.composite_score as platform_match_score,
        source.event_coverage_percentage / 100.0 as event_coverage_pct,
        source.event_coverage_goal_percentage / 100.0 as event_coverage_goal_pct,
        key_coverage.email_coverage_pct,
        key_coverage.phone_coverage_pct,
        source.acr_percentage / 100.0 as acr_pct,
        source.data_freshness,

        ----------  as Meta sent them (JSON text)
        source.match_key_feedback,
        source.dedupe_key_feedback,
        source.diagnostics,

        ----------  lineage: the dlt load that wrote the row
        source._dlt_load_id

    from source
    left join key_coverage
        on
            source.snapshot_date = key_coverage.snapshot_date
            and source.dataset_id = key_coverage.dataset_id
            and source.event_name = key_coverage.event_name

)

select * from renamed
