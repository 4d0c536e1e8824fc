{#- Meta pixel stats: events Meta received per hour, pixel and event name (browser and server
    together, before deduplication), with the hour's day in the reporting time zone. -#}
with

source as (

    select * from {{ source('raw', 'meta_pixel_stats') }}

),

renamed as (

    select
        ----------  keys
        hour_start,
        {{ local_date('hour_start') }} as report_date,
        'meta' as platform,
        pixel_id,
        event_name,

        ----------  counts
        event_count,
        fetched_at

    from source

)

select * from renamed
