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
        session_id -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
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

diesel::table! {
    templates (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        language -> Text,
        category -> Text,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        provider_template_id -> Nullable<Text>,
        components -> Text,
        parameter_format -> Text,
        quality_score -> Nullable<Text>,
        previous_category -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        synced_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        phone_number_id -> BigInt,
        direction -> Text,
        recipient -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        provider_message_id -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_title -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        idempotency_key -> Nullable<Text>,
        campaign_id -> Nullable<BigInt>,
        template_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        read_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        lead_id -> Nullable<BigInt>,
        pricing_category -> Nullable<Text>,
        pricing_type -> Nullable<Text>,
        pricing_model -> Nullable<Text>,
        billable -> Nullable<Bool>,
        idempotency_hash -> Nullable<Text>,
    }
}

diesel::table! {
    message_events (id) {
        id -> BigInt,
        message_id -> BigInt,
        status -> Text,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    flows (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        categories -> Text,
        status -> Text,
        provider_flow_id -> Nullable<Text>,
        flow_json -> Nullable<Text>,
        validation_errors -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    health_logs (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        status -> Text,
        response_time_ms -> BigInt,
        details -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    usage_daily (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        day -> Date,
        sent -> BigInt,
        delivered -> BigInt,
        read -> BigInt,
        failed -> BigInt,
        inbound -> BigInt,
    }
}

diesel::table! {
    opt_outs (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        phone -> Text,
        reason -> Nullable<Text>,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    usage_failures (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        day -> Date,
        code -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        url -> Text,
        event_types -> Text,
        secret_enc -> Text,
        active -> Bool,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    usage_templates (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        day -> Date,
        template_name -> Text,
        sent -> BigInt,
        delivered -> BigInt,
        read -> BigInt,
        failed -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        endpoint_id -> BigInt,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        retry_from -> Timestamp,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> BigInt,
        tenant_id -> Nullable<BigInt>,
        account_id -> Nullable<BigInt>,
        provider -> Text,
        kind -> Text,
        dedupe_key -> Text,
        signature_valid -> Bool,
        quarantined -> Bool,
        payload -> Text,
        received_at -> Timestamp,
        claimed_at -> Nullable<Timestamp>,
        processed_at -> Nullable<Timestamp>,
        process_error -> Nullable<Text>,
        attempts -> Integer,
        duplicate_of -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_dedupe (dedupe_key) {
        dedupe_key -> Text,
        event_id -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        name -> Text,
        brochure_url -> Nullable<Text>,
        deep_link_base_url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    project_ivr_numbers (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        project_id -> BigInt,
        number -> Text,
    }
}

diesel::table! {
    leads (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        project_id -> Nullable<BigInt>,
        name -> Nullable<Text>,
        phone -> Text,
        source -> Text,
        status -> Text,
        stage -> Nullable<Text>,
        follow_up -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    lead_notes (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        lead_id -> BigInt,
        source -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ivr_calls (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        caller_id_number -> Text,
        call_to_number -> Text,
        duration -> BigInt,
        start_stamp -> Timestamp,
        status -> Text,
        lead_id -> Nullable<BigInt>,
        project_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    usage_billable (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        day -> Date,
        category -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    flow_submissions (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        flow_id -> Nullable<BigInt>,
        message_id -> BigInt,
        lead_id -> Nullable<BigInt>,
        phone -> Text,
        flow_token -> Nullable<Text>,
        response_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        account_id -> BigInt,
        phone_number_id -> BigInt,
        name -> Text,
        template_name -> Text,
        template_language -> Text,
        definition -> Text,
        definition_hash -> Text,
        rate_mps -> Double,
        status -> Text,
        halt_reason -> Nullable<Text>,
        halt_detail -> Nullable<Text>,
        exclusions -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_recipients (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        tenant_id -> BigInt,
        phone -> Text,
        lead_id -> Nullable<BigInt>,
        project_id -> Nullable<BigInt>,
        call_status -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        skip_reason -> Nullable<Text>,
        message_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        queued_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(accounts -> tenants (tenant_id));
diesel::joinable!(phone_numbers -> accounts (account_id));
diesel::joinable!(templates -> accounts (account_id));
diesel::joinable!(messages -> accounts (account_id));
diesel::joinable!(message_events -> messages (message_id));
diesel::joinable!(flows -> accounts (account_id));
diesel::joinable!(health_logs -> accounts (account_id));
diesel::joinable!(usage_daily -> accounts (account_id));
diesel::joinable!(webhook_endpoints -> tenants (tenant_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::table! {
    cta_clicks (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        lead_id -> BigInt,
        campaign_id -> Nullable<BigInt>,
        action -> Text,
        via -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_delivery_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_events -> accounts (account_id));
diesel::joinable!(project_ivr_numbers -> projects (project_id));
diesel::joinable!(leads -> projects (project_id));
diesel::joinable!(lead_notes -> leads (lead_id));
diesel::joinable!(ivr_calls -> leads (lead_id));
diesel::joinable!(ivr_calls -> projects (project_id));
diesel::joinable!(campaigns -> accounts (account_id));
diesel::joinable!(campaign_recipients -> campaigns (campaign_id));
diesel::joinable!(messages -> leads (lead_id));
diesel::joinable!(usage_billable -> accounts (account_id));
diesel::joinable!(flow_submissions -> flows (flow_id));
diesel::joinable!(flow_submissions -> messages (message_id));
diesel::joinable!(cta_clicks -> leads (lead_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    refresh_tokens,
    sessions,
    api_keys,
    accounts,
    phone_numbers,
    templates,
    messages,
    message_events,
    flows,
    health_logs,
    usage_daily,
    opt_outs,
    usage_failures,
    usage_templates,
    webhook_endpoints,
    webhook_deliveries,
    webhook_delivery_attempts,
    webhook_events,
    webhook_dedupe,
    projects,
    project_ivr_numbers,
    leads,
    lead_notes,
    ivr_calls,
    campaigns,
    campaign_recipients,
    usage_billable,
    flow_submissions,
    cta_clicks,
);
