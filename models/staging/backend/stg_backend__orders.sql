with

source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select
        ----------  ids
        order_id,
        customer_id,

        ----------  classification
        status,
        coalesce(sales_channel, 'web') as sales_channel,
        checkout_type,
        case
            when coalesce(sales_channel, 'web') = 'web' and checkout_type = 'guest' then 'web_guest'
            when coalesce(sales_channel, 'web') = 'web' and checkout_type = 'account' then 'web_account'
            else coalesce(sales_channel, 'web')
        end as purchase_path,
        coalesce(is_test, false) as is_test,
        status in {{ sql_string_list(var('counted_statuses')) }}
        and not coalesce(is_test, false) as is_counted_purchase,
        marketing_consent,

        ----------  numerics
        total_value,
        currency,

        ----------  hashed customer information (SHA-256 of the normalized value)
        email_sha256,
        phone_sha256,
        phone_e164_sha256,
        first_name_sha256,
        last_name_sha256,
        city_sha256,
        state_sha256,
        zip_sha256,
        country_sha256,

        ----------  timestamps
        created_at,
        {{ local_date('created_at') }} as created_date,

        ----------  lineage: the dlt load that wrote the row
        _dlt_load_id

    from source

)

select * from renamed
