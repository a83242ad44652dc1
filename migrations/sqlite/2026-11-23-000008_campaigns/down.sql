DROP INDEX messages_campaign_idx;
DROP TABLE campaign_recipients;
DROP TABLE campaigns;
