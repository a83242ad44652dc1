DROP TABLE phone_numbers;
DROP TABLE accounts;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE tenants;
