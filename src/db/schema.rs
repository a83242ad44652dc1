//! Table definitions shared by both backends (portable types only).

diesel::table! {
    tenants (id) {
        id -> BigInt,
        name -> Text,
        status -> Text,
        max_accounts -> Nullable<BigInt>,
        daily_message_quota -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        is_platform_admin -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        role -> Text,
        created_by -> Nullable<BigInt>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        provider -> Text,
        status -> Text,
        setup_step -> Integer,
        waba_id -> Nullable<Text>,
        meta_business_account_id -> Nullable<Text>,
        app_id -> Nullable<Text>,
        app_secret_enc -> Nullable<Text>,
        access_token_enc -> Nullable<Text>,
        access_token_hint -> Nullable<Text>,
        verify_token_enc -> Nullable<Text>,
        tata_auth_token_enc -> Nullable<Text>,
        tata_base_url -> Nullable<Text>,
        webhook_key -> Text,
        business_profile -> Text,
        bot_settings -> Text,
        subscribed_events -> Text,
        limit_per_second -> Nullable<Double>,
        limit_per_minute -> Nullable<BigInt>,
        limit_per_day -> Nullable<BigInt>,
        limit_per_month -> Nullable<BigInt>,
        health_status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    phone_numbers (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        phone_number -> Text,
        provider_phone_number_id -> Nullable<Text>,
        display_phone_number -> Text,
        verified_name -> Nullable<Text>,
        quality_rating -> Text,
        messaging_limit_tier -> Nullable<Text>,
        throughput_mps -> Double,
        status -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(accounts -> tenants (tenant_id));
diesel::joinable!(phone_numbers -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(tenants, users, refresh_tokens, api_keys, accounts, phone_numbers,);
