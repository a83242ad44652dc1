DROP TABLE ivr_calls;
DROP TABLE lead_notes;
DROP TABLE leads;
DROP TABLE project_ivr_numbers;
DROP TABLE projects;
