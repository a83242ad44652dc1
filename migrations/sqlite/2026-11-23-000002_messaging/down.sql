DROP TABLE opt_outs;
DROP TABLE usage_daily;
DROP TABLE health_logs;
DROP TABLE flows;
DROP TABLE message_events;
DROP TABLE messages;
DROP TABLE templates;
