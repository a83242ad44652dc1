DROP TABLE flow_submissions;
DROP TABLE usage_billable;
DROP INDEX messages_lead_idx;
DROP INDEX messages_window_idx;
ALTER TABLE messages DROP COLUMN billable;
ALTER TABLE messages DROP COLUMN pricing_model;
ALTER TABLE messages DROP COLUMN pricing_type;
ALTER TABLE messages DROP COLUMN pricing_category;
ALTER TABLE messages DROP COLUMN lead_id;
