DROP TABLE cta_clicks;
