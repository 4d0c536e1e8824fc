with

source as (

    select * from {{ source('raw', 'platform_reports') }}

),

renamed as (

    select
        ----------  keys
        report_date,
        platform,
        pixel_id,
        event_name,

        ----------  counts as the platform shows them
        events_received,
        events_deduplicated,
        events_matched,
        match_quality_score,

        ----------  lineage: the dlt load that wrote the row
        _dlt_load_id

    from source

)

select * from renamed
