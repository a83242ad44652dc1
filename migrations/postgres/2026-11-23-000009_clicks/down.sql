DROP INDEX messages_engagement_idx;
DROP TABLE cta_clicks;
