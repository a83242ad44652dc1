DROP TABLE usage_templates;
DROP TABLE usage_failures;
